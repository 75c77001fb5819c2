import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sumOfSquares, sumOfSquaresPortable, sumOfSquaresBackend, decodePayload, createEncoder } from '../../protocol/codecs/index.js'
import { createRng } from '../../protocol/rng.js'

// The WebAssembly SIMD kernel must give the very same float64 as the portable JS loop (same operations, same
// order), so every peer reaches the same norm-bound verdict whichever implementation it runs.
const rng = createRng(4242).fork('sum-squares')

/** Values across float32's whole range: normals of every exponent, subnormals, zeros of both signs, the extremes. */
function hostileVector (n: number): Float32Array {
  const v = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const pick = rng.int(10)
    if (pick === 0) v[i] = (rng.next() < 0.5 ? -1 : 1) * 2 ** (rng.int(277) - 149) // subnormal .. 2^127
    else if (pick === 1) v[i] = rng.next() < 0.5 ? 0 : -0
    else if (pick === 2) v[i] = rng.next() < 0.5 ? 3.4028234663852886e38 : -1.401298464324817e-45
    else v[i] = rng.normal() * 2 ** (rng.int(40) - 20)
  }
  return v
}

const LENGTHS = [0, 1, 2, 3, 4, 5, 7, 8, 255, 256, 257, 259, 1000, 4095, 8191, 8192, 8193, 8196, 16387, 40001, 262144, 262147]

test(`sumOfSquares (${sumOfSquaresBackend}) is bit-identical to the portable loop, every length and value class`, () => {
  assert.equal(sumOfSquaresBackend, process.env.MURMUR_SIMD === 'off' ? 'js' : 'wasm-simd')
  for (const n of LENGTHS) {
    for (const make of [(k: number) => Float32Array.from({ length: k }, () => rng.normal()), hostileVector]) {
      const v = make(n)
      const want = sumOfSquaresPortable(v)
      assert.ok(Object.is(sumOfSquares(v), want), `length ${n}: ${sumOfSquares(v)} !== ${want}`)
      // a view at an offset into a larger buffer: the kernel must read the view, not the buffer
      const big = new Float32Array(n + 9)
      big.set(v, 5)
      assert.ok(Object.is(sumOfSquares(big.subarray(5, 5 + n)), want), `view, length ${n}`)
    }
  }
})

test('sumOfSquares is non-finite exactly when a value is NaN or infinite, wherever it sits', () => {
  for (const n of [3, 300, 8195, 70001]) {
    const base = Float32Array.from({ length: n }, () => rng.normal())
    assert.ok(Number.isFinite(sumOfSquares(base)), 'expected Number.isFinite(sumOfSquares(base))')
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (const at of [0, 1, n >> 1, n - 4, n - 1].filter((i) => i >= 0)) {
        const v = new Float32Array(base)
        v[at] = bad
        const s = sumOfSquares(v)
        assert.ok(!Number.isFinite(s), `length ${n}, ${bad} at ${at}`)
        assert.ok(Object.is(s, sumOfSquaresPortable(v)), `length ${n}, ${bad} at ${at}: same value as the portable loop`)
      }
    }
  }
  // the largest float32 squared, many times over, stays finite in float64
  assert.ok(Number.isFinite(sumOfSquares(new Float32Array(100_000).fill(3.4028234663852886e38))), 'expected Number.isFinite(sumOfSquares(new Float32Array(100_000).fill(3.4028234663852886e38)))')
})

test('the kernel keeps no state between calls and leaves its input alone', () => {
  const a = Float32Array.from({ length: 50_000 }, () => rng.normal())
  const b = Float32Array.from({ length: 777 }, () => rng.normal() * 1e10)
  const copy = new Float32Array(a)
  const first = sumOfSquares(a)
  sumOfSquares(b)
  sumOfSquares(new Float32Array(300).fill(Number.NaN))
  assert.ok(Object.is(sumOfSquares(a), first), 'expected Object.is(sumOfSquares(a), first)')
  assert.deepEqual(a, copy)
})

test('decoders and the float32 encoder report the first non-finite value by index', () => {
  for (const n of [10, 5000]) {
    const v = Float32Array.from({ length: n }, () => rng.normal())
    v[n - 3] = Number.NaN
    assert.throws(() => createEncoder({ name: 'float32' }).encode(v), (e: Error) => e.name === 'NonFiniteWeightsError' && e.message.includes(`weight ${n - 3} `))
    const payload = new Uint8Array(v.buffer.slice(0))
    const r = decodePayload({ name: 'float32' }, payload, n)
    assert.equal(r.ok, false)
    if (!r.ok) { assert.equal(r.reason, 'NON_FINITE'); assert.match(r.detail, new RegExp(`value ${n - 3} `)) }
  }
  const w = Float32Array.from({ length: 5000 }, () => rng.normal())
  const r = decodePayload({ name: 'float32' }, createEncoder({ name: 'float32' }).encode(w).payload, 5000)
  assert.ok(r.ok, 'expected r.ok')
  if (r.ok) assert.ok(Object.is(r.sumSquares, sumOfSquaresPortable(w)), 'expected Object.is(r.sumSquares, sumOfSquaresPortable(w))')
})
