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
 * Every element is computed as `acc = 0; for each input k with a weight != 0: acc += a_k * x_k[i]`, in input
 * order, then rounded once to the output type. Float32 inputs of 256 elements or more go through a WebAssembly
 * SIMD kernel (simd-mean.ts) doing the very same float64 operations in the same order, so both paths give the
 * same bits (test/averaging/vector-robust.test.ts).
 */
export function weightedMean<T extends Vector = Float32Array> (inputs: readonly Vector[], weights?: readonly number[], out?: T): T {
  const n = assertSameLength(inputs, 'weightedMean')
  const w = normaliseWeights(weights ?? inputs.map(() => 1))
  if (w.length !== inputs.length) throw new LengthMismatchError(`weightedMean: ${inputs.length} inputs but ${w.length} weights`)
  const target = (out ?? new Float32Array(n)) as T
  if (target.length !== n) throw new LengthMismatchError(`weightedMean: out has length ${target.length}, expected ${n}`)
  if (n >= MIN_KERNEL_ELEMENTS && inputs.every((x) => x instanceof Float32Array)) {
    const xs: Float32Array[] = []
    const as: number[] = []
    for (let k = 0; k < inputs.length; k++) if (w[k] !== 0) { xs.push(inputs[k] as Float32Array); as.push(w[k]) }
    if (weightedSumSimd(xs, as, target, n)) return target
  }
  const acc = new Float64Array(n)
  for (let k = 0; k < inputs.length; k++) {
    const x = inputs[k]; const a = w[k]
    if (a === 0) continue
    for (let i = 0; i < n; i++) acc[i] += a * x[i]
  }
  target.set(acc)
  return target
}

/** Whether every entry is finite. */
export function allFinite (a: Vector): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false
  return true
}
