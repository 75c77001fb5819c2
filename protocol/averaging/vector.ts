/**
 * Dense vector kernels on Float32Array / Float64Array. No TF.js: these run for 1,000 peers x 100k
 * parameters per simulated round, so they are plain loops over typed arrays, accumulating in float64.
 */

import { MIN_KERNEL_ELEMENTS, weightedSumSimd } from './simd-mean.js'

export type Vector = Float32Array | Float64Array

/** Thrown when vectors that must have the same length do not. */
export class LengthMismatchError extends Error {
  static override name = 'LengthMismatchError'
  override name = 'LengthMismatchError'
}

export function assertSameLength (vectors: readonly Vector[], what = 'vectors'): number {
  if (vectors.length === 0) throw new RangeError(`${what}: need at least one vector`)
  const n = vectors[0].length
  for (let i = 1; i < vectors.length; i++) {
    if (vectors[i].length !== n) {
      throw new LengthMismatchError(`${what}: vector ${i} has length ${vectors[i].length}, expected ${n}`)
    }
  }
  return n
}

/** Squared L2 distance. */
export function squaredDistance (a: Vector, b: Vector): number {
  if (a.length !== b.length) throw new LengthMismatchError(`distance: lengths ${a.length} and ${b.length}`)
  let s = 0
  for (let i = 0; i < a.length; i++) { const d = a[i] - b[i]; s += d * d }
  return s
}

export function distance (a: Vector, b: Vector): number { return Math.sqrt(squaredDistance(a, b)) }

export function norm (a: Vector): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i] * a[i]
  return Math.sqrt(s)
}

/** out += alpha * x (in place). */
export function axpy (out: Vector, alpha: number, x: Vector): Vector {
  if (out.length !== x.length) throw new LengthMismatchError(`axpy: lengths ${out.length} and ${x.length}`)
  for (let i = 0; i < out.length; i++) out[i] += alpha * x[i]
  return out
}

/** out = alpha * x (in place into out). */
export function scaleInto (out: Vector, alpha: number, x: Vector): Vector {
  for (let i = 0; i < out.length; i++) out[i] = alpha * x[i]
  return out
}

/**
 * Normalises non-negative weights to sum 1; throws on negative, non-finite or all-zero weights. Finite weights
 * whose sum overflows (hostile self-reported masses near Number.MAX_VALUE) are scaled down first, so they
 * cannot turn every normalised weight into 0.
 */
export function normaliseWeights (weights: readonly number[]): number[] {
  let total = 0
  let max = 0
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]
    if (!Number.isFinite(w) || w < 0) throw new RangeError(`weight ${i} must be finite and >= 0, got ${w}`)
    total += w
    if (w > max) max = w
  }
  if (!(total > 0)) throw new RangeError('weights sum to zero')
  if (total === Infinity) {
    let scaled = 0
    for (const w of weights) scaled += w / max
    return weights.map((w) => w / max / scaled)
  }
  return weights.map((w) => w / total)
}

/**
 * Weighted mean of vectors, accumulated in float64. Weights need not sum to 1 (they are normalised).
 * Writes into `out` when given (its length must match), else returns a new Float32Array.
 *
 * Every element is computed exactly as `acc = 0; for each input k with a weight != 0: acc += a_k * x_k[i]`,
 * in input order, then rounded once to the output type; the loops take up to four inputs per pass over the
 * elements (one load and store of the accumulator per four inputs instead of per input, and the last pass writes
 * the output directly), with the same float64 operations in the same order, so the result is bit-identical to
 * the one-input-at-a-time loop (`weightedMeanReference`, test/averaging/vector.test.ts).
 */
export function weightedMean<T extends Vector = Float32Array> (inputs: readonly Vector[], weights?: readonly number[], out?: T): T {
  const n = assertSameLength(inputs, 'weightedMean')
  const w = normaliseWeights(weights ?? inputs.map(() => 1))
  if (w.length !== inputs.length) throw new LengthMismatchError(`weightedMean: ${inputs.length} inputs but ${w.length} weights`)
  const target = (out ?? new Float32Array(n)) as T
  if (target.length !== n) throw new LengthMismatchError(`weightedMean: out has length ${target.length}, expected ${n}`)
  const xs: Vector[] = []
  const as: number[] = []
  for (let k = 0; k < inputs.length; k++) {
    if (w[k] === 0) continue
    xs.push(inputs[k]); as.push(w[k])
  }
  // float32 inputs: the WebAssembly SIMD kernel where it loaded (simd-mean.ts), the same operations in the same order
  if (n >= MIN_KERNEL_ELEMENTS && xs.every((x) => x instanceof Float32Array) && weightedSumSimd(xs as Float32Array[], as, target, n)) return target
  // passes of up to 4 inputs; all but the last accumulate into float64 (a scratch buffer reused across calls:
  // this is synchronous, and each element is written before it is read), the last writes the target
  let acc: Float64Array | null = null
  for (let k = 0; k < xs.length; k += 4) {
    const m = Math.min(4, xs.length - k)
    const last = k + m === xs.length
    const into: Vector = last ? target : (acc ??= scratch64(n))
    accumulate(into, k > 0 ? acc : null, m, xs, as, k, n)
  }
  return target
}

let scratch: Float64Array | null = null
function scratch64 (n: number): Float64Array {
  if (scratch == null || scratch.length !== n) scratch = new Float64Array(n)
  return scratch
}

/** into[i] = (from?.[i] ?? 0) + a_k x_k[i] + ... for m (1..4) inputs from k on, summed left to right in float64. */
function accumulate (into: Vector, from: Float64Array | null, m: number, xs: Vector[], as: number[], k: number, n: number): void {
  const x0 = xs[k]; const a0 = as[k]
  if (m === 1) {
    if (from == null) for (let i = 0; i < n; i++) into[i] = 0 + a0 * x0[i]
    else for (let i = 0; i < n; i++) into[i] = from[i] + a0 * x0[i]
    return
  }
  const x1 = xs[k + 1]; const a1 = as[k + 1]
  if (m === 2) {
    if (from == null) for (let i = 0; i < n; i++) into[i] = 0 + a0 * x0[i] + a1 * x1[i]
    else for (let i = 0; i < n; i++) into[i] = from[i] + a0 * x0[i] + a1 * x1[i]
    return
  }
  const x2 = xs[k + 2]; const a2 = as[k + 2]
  if (m === 3) {
    if (from == null) for (let i = 0; i < n; i++) into[i] = 0 + a0 * x0[i] + a1 * x1[i] + a2 * x2[i]
    else for (let i = 0; i < n; i++) into[i] = from[i] + a0 * x0[i] + a1 * x1[i] + a2 * x2[i]
    return
  }
  const x3 = xs[k + 3]; const a3 = as[k + 3]
  if (from == null) for (let i = 0; i < n; i++) into[i] = 0 + a0 * x0[i] + a1 * x1[i] + a2 * x2[i] + a3 * x3[i]
  else for (let i = 0; i < n; i++) into[i] = from[i] + a0 * x0[i] + a1 * x1[i] + a2 * x2[i] + a3 * x3[i]
}

/**
 * The one-input-at-a-time weighted mean `weightedMean` must equal bit for bit (kept for tests and benchmarks).
 */
export function weightedMeanReference<T extends Vector = Float32Array> (inputs: readonly Vector[], weights?: readonly number[], out?: T): T {
  const n = assertSameLength(inputs, 'weightedMean')
  const w = normaliseWeights(weights ?? inputs.map(() => 1))
  if (w.length !== inputs.length) throw new LengthMismatchError(`weightedMean: ${inputs.length} inputs but ${w.length} weights`)
  const acc = new Float64Array(n)
  for (let k = 0; k < inputs.length; k++) {
    const x = inputs[k]; const a = w[k]
    if (a === 0) continue
    for (let i = 0; i < n; i++) acc[i] += a * x[i]
  }
  const target = (out ?? new Float32Array(n)) as T
  if (target.length !== n) throw new LengthMismatchError(`weightedMean: out has length ${target.length}, expected ${n}`)
  target.set(acc)
  return target
}

/** Whether every entry is finite. */
export function allFinite (a: Vector): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false
  return true
}
