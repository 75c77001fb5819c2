/** Property tests (fast-check): the robust merges' bounds hold for arbitrary planted outliers. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { coordinateMedian, trimmedMean, clippedGossip, distance } from '../../protocol/averaging/index.js'

const finite = fc.double({ min: -1e30, max: 1e30, noNaN: true, noDefaultInfinity: true })
const honestValue = fc.double({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true })

test('median: any f < h outliers leave every coordinate inside the honest range', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 12 }).chain((h) => fc.tuple(
      fc.array(fc.array(honestValue, { minLength: 3, maxLength: 3 }), { minLength: h, maxLength: h }),
      fc.array(fc.array(finite, { minLength: 3, maxLength: 3 }), { minLength: 0, maxLength: h - 1 })
    )),
    ([honest, bad]) => {
      const out = coordinateMedian([...honest, ...bad].map((v) => Float64Array.from(v)), new Float64Array(3))
      for (let i = 0; i < 3; i++) {
        const col = honest.map((v) => v[i])
        assert.ok(out[i] >= Math.min(...col) - 1e-9 && out[i] <= Math.max(...col) + 1e-9, `coordinate ${i}`)
      }
    }), { numRuns: 300 })
})

test('trimmed mean: any f <= floor(beta m) outliers leave every coordinate inside the honest range', () => {
  fc.assert(fc.property(
    fc.integer({ min: 2, max: 30 }).chain((m) => fc.integer({ min: 0, max: Math.floor(0.3 * m) }).chain((f) => fc.tuple(
      fc.array(fc.array(honestValue, { minLength: 2, maxLength: 2 }), { minLength: m - f, maxLength: m - f }),
      fc.array(fc.array(finite, { minLength: 2, maxLength: 2 }), { minLength: f, maxLength: f })
    ))),
    ([honest, bad]) => {
      const out = trimmedMean([...bad, ...honest].map((v) => Float64Array.from(v)), 0.3 + 1e-9, new Float64Array(2))
      for (let i = 0; i < 2; i++) {
        const col = honest.map((v) => v[i])
        assert.ok(out[i] >= Math.min(...col) - 1e-6 && out[i] <= Math.max(...col) + 1e-6, `coordinate ${i}: ${out[i]}`)
      }
    }), { numRuns: 300 })
})

test('clipped gossip: each neighbour moves the result by at most its weight times the radius', () => {
  fc.assert(fc.property(
    fc.array(honestValue, { minLength: 4, maxLength: 4 }),
    fc.array(fc.tuple(fc.array(finite, { minLength: 4, maxLength: 4 }), fc.double({ min: 0.01, max: 10, noNaN: true })), { minLength: 1, maxLength: 10 }),
    fc.oneof(fc.double({ min: 0, max: 100, noNaN: true }), fc.constant(-1)),
    (self, neighbours, r) => {
      const xs = neighbours.map(([v]) => Float64Array.from(v))
      const ws = neighbours.map(([, w]) => w)
      const s = Float64Array.from(self)
      const res = clippedGossip(s, 1, xs, ws, r < 0 ? { adaptive: 0.3 } : r, new Float64Array(4))
      const total = 1 + ws.reduce((a, b) => a + b, 0)
      const bound = ws.reduce((a, w) => a + (w / total) * res.radius, 0)
      assert.ok(distance(res.merged, s) <= bound * (1 + 1e-9) + 1e-9, `moved ${distance(res.merged, s)} > ${bound}`)
    }), { numRuns: 300 })
})
