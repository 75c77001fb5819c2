import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { weightedSumSimd, weightedMeanBackend } from '../../protocol/averaging/simd-mean.js'
import { weightedMean } from '../../protocol/averaging/index.js'
import { createRng } from '../../protocol/rng.js'

const kernelOff = weightedMeanBackend !== 'wasm-simd'
const FLT_MAX = 3.4028234663852886e38
const ULP_AT_1 = 2 ** -23

/** The definition: float64 sums input after input (starting from 0), then one Float32Array/Float64Array store. */
function reference (xs: Float32Array[], as: number[], out: Float32Array | Float64Array, n: number): Float32Array | Float64Array {
  const acc = new Float64Array(n)
  for (let k = 0; k < xs.length; k++) for (let i = 0; i < n; i++) acc[i] += as[k] * xs[k][i]
  out.set(acc)
  return out
}

/** Asserts the same bits, naming the first element that differs. */
function assertSameBits (got: Float32Array | Float64Array, want: Float32Array | Float64Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`)
  const g = got instanceof Float32Array ? new Uint32Array(got.buffer, got.byteOffset, got.length) : new BigUint64Array(got.buffer, got.byteOffset, got.length)
  const w = want instanceof Float32Array ? new Uint32Array(want.buffer, want.byteOffset, want.length) : new BigUint64Array(want.buffer, want.byteOffset, want.length)
  for (let i = 0; i < g.length; i++) {
    if (g[i] !== w[i]) assert.fail(`${what}: element ${i} is ${Object.is(got[i], -0) ? '-0' : got[i]}, expected ${Object.is(want[i], -0) ? '-0' : want[i]}`)
  }
}

/** Runs the kernel into a float32 target and compares with the reference. */
function check (xs: Float32Array[], as: number[], n: number, what: string): void {
  const got = new Float32Array(n).fill(12345)
  assert.equal(weightedSumSimd(xs, as, got, n), true, `${what}: kernel ran`)
  assertSameBits(got, reference(xs, as, new Float32Array(n), n), what)
}

// Sizes around the kernel's steps (8 elements), its chunks (4,096) and its input groups (16).
const SIZES = [1, 2, 3, 5, 7, 8, 9, 15, 17, 255, 257, 1001, 4095, 4096, 4097, 4099, 8190, 8197, 12_291]

test('simd-mean demote: ties round to even, as a Float32Array store does (every size, 2 to 35 inputs)', { skip: kernelOff }, () => {
  for (const n of SIZES) {
    for (const k of [2, 3, 16, 17, 35]) {
      // pairs (x0, x1): exact float64 sums halfway between two float32s, below and above 1, positive and negative
      const x0 = new Float32Array(n); const x1 = new Float32Array(n)
      for (let i = 0; i < n; i++) {
        const odd = i % 4 >= 2
        const sign = i % 2 === 0 ? 1 : -1
        x0[i] = sign * (odd ? 1 + ULP_AT_1 : 1) * 2 ** ((i % 7) - 3)
        x1[i] = sign * 2 ** -24 * 2 ** ((i % 7) - 3)   // half an ulp of x0: 1 -> 1 (even), 1 + ulp -> 1 + 2 ulp
      }
      const xs = [x0, x1]; const as = [1, 1]
      // further inputs with zero values keep the tie (0 * x adds +0), and take the multi-pass path past 16 inputs
      for (let j = 2; j < k; j++) { xs.push(new Float32Array(n)); as.push(0.5 + j) }
      check(xs, as, n, `ties, ${k} inputs of ${n}`)
    }
  }
  // the ties really are ties: a rounding that is not to even would differ
  const out = new Float32Array(2)
  assert.equal(weightedSumSimd([Float32Array.of(1, 1 + ULP_AT_1), Float32Array.of(2 ** -24, 2 ** -24)], [1, 1], out, 2), true)
  assert.deepEqual([...out], [1, 1 + 2 * ULP_AT_1])
})

test('simd-mean demote: overflow to +-Infinity, FLT_MAX kept below the halfway point, -0 and subnormals', { skip: kernelOff }, () => {
  for (const n of SIZES) {
    const x = new Float32Array(n); const y = new Float32Array(n)
    const as = [1, 1]
    for (let i = 0; i < n; i++) {
      switch (i % 9) {
        case 0: x[i] = 3e38; y[i] = 3e38; break                         // 6e38: +Infinity
        case 1: x[i] = -3e38; y[i] = -2e38; break                       // -5e38: -Infinity
        case 2: x[i] = FLT_MAX; y[i] = 2 ** 103; break                  // FLT_MAX + half an ulp: tie, to even: Infinity
        case 3: x[i] = FLT_MAX; y[i] = 2 ** 102; break                  // below halfway: FLT_MAX
        case 4: x[i] = -1e-45; y[i] = 0; break                          // smallest subnormal, kept
        case 5: x[i] = -1e-45; y[i] = 1e-45; break                      // -d + d = +0
        case 6: x[i] = -0; y[i] = -0; break                             // 0 + -0 + -0 = +0
        case 7: x[i] = 1e-38; y[i] = -9.99e-39; break                   // subnormal result
        default: x[i] = Infinity; y[i] = 1
      }
    }
    check([x, y], as, n, `extremes, ${n} elements`)
    // small weights: products far below float32's range round to -0 and to subnormals
    check([x, y], [1e-10, 3e-40], n, `tiny weights, ${n} elements`)
    check([x, y], [0.5, 0.25], n, `halving weights, ${n} elements`)
    check([x], [-10], n, `one input, weight -10, ${n} elements`)
  }
  // the cases do happen: -0 from a tiny negative product, Infinity from an overflow, FLT_MAX kept
  const out = new Float32Array(4)
  weightedSumSimd([Float32Array.of(-1e-45, -1e-45, -1e-45, 1e-45)], [0.25], out, 4)
  assert.equal(Object.is(out[0], -0), true, `${out[0]} should be -0`)
  weightedSumSimd([Float32Array.of(3e38, -3e38, FLT_MAX, FLT_MAX), Float32Array.of(3e38, -2e38, 2 ** 103, 2 ** 102)], [1, 1], out, 4)
  assert.deepEqual([...out], [Infinity, -Infinity, Infinity, FLT_MAX])
})

test('simd-mean demote: random inputs of every scale, 1 to 40 inputs, float32 and float64 targets', { skip: kernelOff }, () => {
  const rng = createRng(5089)
  for (let trial = 0; trial < 120; trial++) {
    const n = trial < SIZES.length ? SIZES[trial] : 1 + rng.int(9000)
    const k = 1 + rng.int(trial % 3 === 0 ? 40 : 6)
    const scale = [1e-40, 1e-20, 1e-3, 1, 1e5, 1e20, 3e38][rng.int(7)]
    const xs = Array.from({ length: k }, () => {
      const x = new Float32Array(n)
      for (let i = 0; i < n; i++) x[i] = rng.int(20) === 0 ? -0 : (rng.next() * 2 - 1) * scale
      return x
    })
    const as = xs.map(() => (rng.next() * 2 - 0.5) * [1e-6, 1, 7, 1e6][rng.int(4)])
    check(xs, as, n, `trial ${trial}: ${k} inputs of ${n}, scale ${scale}`)
    const got64 = new Float64Array(n)
    assert.equal(weightedSumSimd(xs, as, got64, n), true)
    assertSameBits(got64, reference(xs, as, new Float64Array(n), n), `trial ${trial} (float64 target)`)
  }
})

test('simd-mean: inputs longer than n, no inputs, and weightedMean through the kernel on a tie', { skip: kernelOff }, () => {
  const long = Float32Array.from({ length: 5000 }, (_, i) => i / 3)
  const got = new Float32Array(4097)
  weightedSumSimd([long, long], [0.1, 0.7], got, 4097)
  assertSameBits(got, reference([long, long], [0.1, 0.7], new Float32Array(4097), 4097), 'longer inputs')
  const zeros = new Float32Array(300).fill(7)
  assert.equal(weightedSumSimd([], [], zeros, 300), true)
  assert.deepEqual(zeros, new Float32Array(300))
  // weights 1:1 normalise to 0.5: 0.5 * 2 + 0.5 * 2^-23 = 1 + 2^-24, a tie that rounds to 1
  const n = 1000
  const m = weightedMean([new Float32Array(n).fill(2), new Float32Array(n).fill(ULP_AT_1)])
  assert.deepEqual(m, new Float32Array(n).fill(1))
})

test('simd-mean: MURMUR_SIMD=off switches the kernel off (plain JS loop, same bits)', async () => {
  const script = [
    "const { weightedSumSimd, weightedMeanBackend } = await import('./protocol/averaging/simd-mean.ts')",
    "const { weightedMean } = await import('./protocol/averaging/index.ts')",
    'const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i))',
    'const m = weightedMean([x, x.map((v) => -v / 3)], [1, 2])',
    "console.log(JSON.stringify({ backend: weightedMeanBackend, ran: weightedSumSimd([x], [1], new Float32Array(1000), 1000), hex: Buffer.from(m.buffer).toString('hex') }))"
  ].join('\n')
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('../..', import.meta.url).pathname, env: { ...process.env, MURMUR_SIMD: 'off' }
  })
  const child = JSON.parse(stdout) as { backend: string, ran: boolean, hex: string }
  assert.equal(child.backend, 'js')
  assert.equal(child.ran, false)
  const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i))
  assert.equal(Buffer.from(weightedMean([x, x.map((v) => -v / 3)], [1, 2]).buffer).toString('hex'), child.hex)
  if (process.env.MURMUR_SIMD !== 'off') assert.equal(weightedMeanBackend, 'wasm-simd')
})
