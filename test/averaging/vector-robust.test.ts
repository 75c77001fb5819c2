import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  weightedMean, coordinateMedian, trimmedMean, clippedGossip, adaptiveClipRadius, pairwiseMean, pairwiseDelta,
  metropolisHastingsRow, stalenessDiscount, combine, distance, LengthMismatchError
} from '../../protocol/averaging/index.js'
import { weightedMeanBackend } from '../../protocol/averaging/simd-mean.js'
import { createRng } from '../../protocol/rng.js'

/** The definition the merge must meet bit for bit: one input at a time, float64, rounded once at the end. */
function referenceMean (inputs: Float32Array[], weights: number[], out: Float32Array | Float64Array): Float32Array | Float64Array {
  const total = weights.reduce((s, w) => s + w, 0)
  const acc = new Float64Array(out.length)
  inputs.forEach((x, k) => {
    const a = weights[k] / total
    if (a === 0) return
    for (let i = 0; i < acc.length; i++) acc[i] += a * x[i]
  })
  out.set(acc)
  return out
}

test(`weightedMean: the SIMD kernel gives the bits of the float64 loop (1 to 11 inputs, zero weights, -0, float32 and float64 outputs; ${weightedMeanBackend} path)`, () => {
  const rng = createRng(20261122)
  const bits = (v: Float32Array | Float64Array): string => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')
  // enough calls that the optimising compiler has taken over the loops before the later comparisons
  for (let trial = 0; trial < 400; trial++) {
    const k = 1 + rng.int(11)
    // short vectors take the JS loops; from 256 elements float32 inputs take the SIMD kernel (chunks of 4,096)
    const n = trial % 4 === 0 ? 4090 + rng.int(12) : trial % 4 === 1 ? 8191 + rng.int(3) : 1 + rng.int(600)
    const scale = [1e-30, 1e-3, 1, 1e3, 1e30][rng.int(5)]
    const inputs = Array.from({ length: k }, () => {
      const x = new Float32Array(n)
      for (let i = 0; i < n; i++) x[i] = rng.int(10) === 0 ? -0 : (rng.next() * 2 - 1) * scale
      return x
    })
    const weights: number[] = inputs.map(() => (rng.int(4) === 0 ? 0 : rng.next() * 100))
    if (!weights.some((w) => w !== 0)) weights[0] = 1
    assert.equal(bits(weightedMean(inputs, weights)), bits(referenceMean(inputs, weights, new Float32Array(n))), `trial ${trial}: ${k} inputs of ${n}`)
    const out64 = new Float64Array(n)
    assert.equal(bits(weightedMean(inputs, weights, out64)), bits(referenceMean(inputs, weights, new Float64Array(n))), `trial ${trial} (float64 out)`)
  }
  // a lone -0 stays +0 (0 + -0), as in the reference
  assert.equal(Object.is(weightedMean([Float32Array.of(-0)])[0], 0), true)
})

test('weightedMean: fixed vectors, normalised weights, float64 accumulation', () => {
  const m = weightedMean([Float32Array.of(1, 2), Float32Array.of(3, 6)], [1, 3])
  assert.deepEqual([...m], [2.5, 5])
  assert.deepEqual([...weightedMean([Float32Array.of(1, 2), Float32Array.of(3, 4)])], [2, 3])
  assert.throws(() => weightedMean([Float32Array.of(1), Float32Array.of(1, 2)]), (e: Error) => e.name === 'LengthMismatchError')
  assert.throws(() => weightedMean([Float32Array.of(1)], [-1]), RangeError)
  assert.equal(new LengthMismatchError('x').name, 'LengthMismatchError')
  // finite masses whose sum overflows (hostile self-reported counts) still give the right mean, not zeros
  const max = Number.MAX_VALUE
  assert.deepEqual([...weightedMean([Float32Array.of(1, 2), Float32Array.of(3, 6), Float32Array.of(9, 9)], [max, max, 0])], [2, 4])
})

test('pairwiseMean and pairwiseDelta: both sides end at the weighted mean; delta conserves mass after local change', () => {
  const a = Float64Array.of(0, 10); const b = Float64Array.of(4, 2)
  const m = pairwiseMean(a, 1, b, 3, new Float64Array(2))
  assert.deepEqual([...m], [3, 4])
  // initiator changed its model by +1 between request and reply: mass 1*a' + 3*b' is still conserved
  const changed = Float64Array.of(1, 11)
  const after = pairwiseDelta(changed, a, 1, b, 3)
  const responder = m
  for (let i = 0; i < 2; i++) assert.ok(Math.abs((after[i] + 3 * responder[i]) - (changed[i] + 3 * b[i])) < 1e-12, 'expected Math.abs((after[i] + 3 * responder[i]) - (changed[i] + 3 * b[i])) < 1e-12')
})

test('coordinateMedian and trimmedMean on fixed vectors', () => {
  const xs = [Float32Array.of(1, 5), Float32Array.of(2, 4), Float32Array.of(100, -100), Float32Array.of(3, 3)]
  assert.deepEqual([...coordinateMedian(xs)], [2.5, 3.5])
  assert.deepEqual([...coordinateMedian(xs.slice(0, 3))], [2, 4])
  const ys = [1, 2, 3, 4, 100].map((v) => Float32Array.of(v))
  assert.deepEqual([...trimmedMean(ys, 0.2)], [3]) // drops 1 and 100
  assert.deepEqual([...trimmedMean(ys, 0)], [22])
  assert.throws(() => trimmedMean(ys, 0.5), RangeError)
})

test('Metropolis-Hastings rows sum to one; staleness discount halves per half-life', () => {
  const row = metropolisHastingsRow(3, [2, 3, 5])
  assert.ok(Math.abs(row.self + row.neighbours.reduce((s, x) => s + x, 0) - 1) < 1e-15, 'row sums to 1')
  assert.deepEqual(row.neighbours, [1 / 4, 1 / 4, 1 / 6])
  assert.equal(stalenessDiscount(4, 2), 0.25)
  assert.equal(stalenessDiscount(0, 2), 1)
  assert.equal(stalenessDiscount(5, 0), 1)
})

function planted (rng: ReturnType<typeof createRng>, honest: number, bad: number, dim: number, magnitude: number, oneSided = false): { honest: Float32Array[], all: Float32Array[] } {
  const h = Array.from({ length: honest }, () => Float32Array.from({ length: dim }, () => rng.normal()))
  const b = Array.from({ length: bad }, () => Float32Array.from({ length: dim }, () => (oneSided || rng.next() >= 0.5 ? 1 : -1) * magnitude))
  return { honest: h, all: rng.shuffle([...h, ...b]) }
}

function withinHonestRange (out: Float32Array, honest: Float32Array[]): boolean {
  for (let i = 0; i < out.length; i++) {
    let lo = Infinity; let hi = -Infinity
    for (const h of honest) { lo = Math.min(lo, h[i]); hi = Math.max(hi, h[i]) }
    if (out[i] < lo - 1e-6 || out[i] > hi + 1e-6) return false
  }
  return true
}

test('median: f < m/2 planted outliers cannot push any coordinate outside the honest range', () => {
  const rng = createRng('median')
  const { honest, all } = planted(rng, 11, 10, 200, 1e6)
  assert.ok(withinHonestRange(coordinateMedian(all), honest), 'median stays in the honest range')
  // and the plain mean is dragged far away by the same inputs
  assert.ok(!withinHonestRange(weightedMean(all), honest), 'the plain mean is dragged out of it')
  // with a majority of outliers the bound no longer holds (the test can fail)
  const majority = planted(rng, 9, 10, 200, 1e6, true)
  assert.ok(!withinHonestRange(coordinateMedian(majority.all), majority.honest), 'a majority of outliers escapes the median')
})

test('trimmed mean: f <= floor(beta m) outliers stay bounded; f = floor(beta m) + 1 escapes', () => {
  const rng = createRng('trim')
  const ok = planted(rng, 16, 4, 200, 1e6) // m = 20, beta 0.2 -> trims 4 each side
  assert.ok(withinHonestRange(trimmedMean(ok.all, 0.2), ok.honest), 'trimmed mean stays in the honest range')
  const bad = planted(rng, 15, 5, 200, 1e6)
  // five outliers: some coordinate has >= 3 on one side with high probability over 200 coordinates
  const values = [...bad.all]
  let sameSide = false
  for (let i = 0; i < 200; i++) {
    const pos = values.filter((v) => v[i] >= 1e6).length
    if (pos === 5 || pos === 0) sameSide = true
  }
  assert.ok(sameSide, 'some coordinate has all outliers on one side')
  assert.ok(!withinHonestRange(trimmedMean(bad.all, 0.2), bad.honest), 'one outlier more than trimmed escapes')
})

test('clipped gossip: adaptive radius bounds the move by planted outliers (He, Karimireddy and Jaggi 2022)', () => {
  const rng = createRng('clip')
  const dim = 100
  const self = Float32Array.from({ length: dim }, () => rng.normal())
  const honest = Array.from({ length: 8 }, () => Float32Array.from(self, (v) => v + 0.5 * rng.normal()))
  const outliers = Array.from({ length: 2 }, () => Float32Array.from({ length: dim }, () => 1e5 * rng.normal()))
  const neighbours = [...honest, ...outliers]
  const weights = neighbours.map(() => 1)
  const delta = 0.2 // 2 of 10 neighbours
  const honestDist = honest.map((h) => distance(h, self))
  const maxHonest = Math.max(...honestDist)
  const tau = adaptiveClipRadius(neighbours.map((x) => distance(x, self)), weights, delta)
  assert.ok(Math.abs(tau - maxHonest) < 1e-9, `radius ${tau} should be the largest honest distance ${maxHonest}`)
  const clipped = clippedGossip(self, 1, neighbours, weights, { adaptive: delta })
  const honestOnly = clippedGossip(self, 1, honest, honest.map(() => 1), tau)
  // each neighbour has weight a = 1/11; outliers can move the result at most 2 * a * tau from self ...
  const a = 1 / 11
  const moved = distance(clipped.merged, self)
  assert.ok(moved <= 10 * a * tau + 1e-4, `moved ${moved} > every neighbour's a * tau`)
  // ... and the result stays within f * a * tau (+ the honest reweighting) of the honest-only clipped merge
  const honestScaled = Float32Array.from(honestOnly.merged, (v, i) => self[i] + (v - self[i]) * (9 / 11))
  assert.ok(distance(clipped.merged, honestScaled) <= 2 * a * tau + 1e-4, 'outliers move the merge at most f * a * tau from the honest-only merge')
  assert.equal(clipped.clipped, 2)
  // the plain mean moves by ~1e4
  assert.ok(distance(weightedMean([self, ...neighbours]), self) > 1e3, 'the plain mean moves far')
  // a fixed radius of 0 does not move
  assert.deepEqual([...clippedGossip(self, 1, neighbours, weights, 0).merged], [...self])
})

test('combine dispatches every merge and returns self when nothing arrived', () => {
  const self = { weights: Float32Array.of(0, 0), mass: 1 }
  const inputs = [{ weights: Float32Array.of(2, 2), mass: 1 }, { weights: Float32Array.of(4, 4), mass: 2 }]
  const base = { trimBeta: 0.2, clipRadius: 'adaptive' as const, clipFraction: 0.2 }
  assert.deepEqual([...combine(self, inputs, { ...base, merge: 'mean' }).merged], [2.5, 2.5])
  assert.deepEqual([...combine(self, inputs, { ...base, merge: 'median' }).merged], [2, 2])
  assert.deepEqual([...combine(self, inputs, { ...base, merge: 'trimmed-mean', trimBeta: 0 }).merged], [2, 2])
  assert.deepEqual([...combine(self, [], { ...base, merge: 'median' }).merged], [0, 0])
  const clip = combine(self, inputs, { ...base, merge: 'clipped', clipRadius: 1 })
  assert.ok(Math.abs(distance(clip.merged, self.weights) - (0.25 + 0.5)) < 1e-6, 'each input moves the merge by its weight times the radius')
})

test('median and trimmed mean match a sort-based reference for 1..40 inputs, with ties', () => {
  const rng = createRng('select')
  for (let m = 1; m <= 40; m++) {
    const dim = 50
    const xs = Array.from({ length: m }, () => Float32Array.from({ length: dim }, () => Math.round(rng.normal() * 3)))
    const med = coordinateMedian(xs, new Float64Array(dim))
    const beta = m % 2 === 0 ? 0.25 : 0.1
    const tm = trimmedMean(xs, beta, new Float64Array(dim))
    for (let i = 0; i < dim; i++) {
      const col = xs.map((x) => x[i]).sort((a, b) => a - b)
      const refMed = (col[(m - 1) >> 1] + col[m >> 1]) / 2
      const b = Math.floor(beta * m)
      const kept = col.slice(b, m - b)
      const refTm = kept.reduce((s, v) => s + v, 0) / kept.length
      assert.ok(Math.abs(med[i] - refMed) < 1e-12, `median m=${m} i=${i}: ${med[i]} vs ${refMed}`)
      assert.ok(Math.abs(tm[i] - refTm) < 1e-9, `trimmed m=${m} i=${i}: ${tm[i]} vs ${refTm}`)
    }
  }
})

test('trimmed mean and median keep honest digits next to 1e30 outliers (no cancellation)', () => {
  const honest = [0.001, 0.002, 0.003, 0.004, 0.005, 0.006].map((v) => Float32Array.of(v))
  const bad = [Float32Array.of(1e30), Float32Array.of(-1e30)]
  const tm = trimmedMean([...honest, ...bad], 0.125) // m = 8, trims 1 each side
  assert.ok(Math.abs(tm[0] - 0.0035) < 1e-9, `trimmed ${tm[0]}`)
  const med = coordinateMedian([...honest, ...bad])
  assert.ok(Math.abs(med[0] - 0.0035) < 1e-9, `median ${med[0]}`)
})
