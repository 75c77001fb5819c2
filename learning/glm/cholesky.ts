/**
 * A small dense Cholesky factorization A = L L' for the p x p Fisher information, with R-style handling of
 * rank deficiency: columns are taken in order, and one whose residual diagonal (after the earlier kept columns)
 * falls below `tolerance` times its own diagonal is aliased: skipped, its coefficient NA. Like the limited
 * pivoting of R's QR (dqrdc2), the kept columns are the earliest independent ones, so a redundant factor level
 * or an empty one is the column dropped.
 */
import { GLM_ALIAS_TOLERANCE } from './constants.js'
import { packedIndex } from './stats.js'

export interface Cholesky {
  readonly p: number
  /** Lower factor, row-major p x p; rows and columns of aliased columns are zero. */
  readonly L: Float64Array
  /** 1 where the column is aliased. */
  readonly aliased: Uint8Array
  readonly rank: number
}

/** Unpacks a packed upper triangle into a full symmetric row-major matrix. */
export function unpackSymmetric (packed: ArrayLike<number>, p: number): Float64Array {
  const a = new Float64Array(p * p)
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      const v = packed[packedIndex(p, i, j)]
      a[i * p + j] = v
      a[j * p + i] = v
    }
  }
  return a
}

/** Factors a full symmetric row-major matrix, aliasing dependent columns. */
export function cholesky (a: Float64Array, p: number, tolerance = GLM_ALIAS_TOLERANCE): Cholesky {
  const L = new Float64Array(p * p)
  const aliased = new Uint8Array(p)
  let rank = 0
  for (let j = 0; j < p; j++) {
    const ajj = a[j * p + j]
    let d = ajj
    for (let k = 0; k < j; k++) d -= L[j * p + k] * L[j * p + k]
    if (!(ajj > 0) || !(d > tolerance * ajj)) { aliased[j] = 1; continue }
    const ljj = Math.sqrt(d)
    L[j * p + j] = ljj
    rank++
    for (let i = j + 1; i < p; i++) {
      let s = a[i * p + j]
      for (let k = 0; k < j; k++) s -= L[i * p + k] * L[j * p + k]
      L[i * p + j] = s / ljj
    }
  }
  return { p, L, aliased, rank }
}

/** Solves A x = b on the kept columns; aliased entries of x are 0. */
export function choleskySolve (c: Cholesky, b: ArrayLike<number>): Float64Array {
  const { p, L, aliased } = c
  const y = new Float64Array(p)
  for (let i = 0; i < p; i++) {
    if (aliased[i] === 1) continue
    let s = b[i]
    for (let k = 0; k < i; k++) s -= L[i * p + k] * y[k]
    y[i] = s / L[i * p + i]
  }
  const x = new Float64Array(p)
  for (let i = p - 1; i >= 0; i--) {
    if (aliased[i] === 1) continue
    let s = y[i]
    for (let k = i + 1; k < p; k++) s -= L[k * p + i] * x[k]
    x[i] = s / L[i * p + i]
  }
  return x
}

/** The inverse of A restricted to the kept columns (row-major p x p); rows and columns of aliased ones are NaN. */
export function choleskyInverse (c: Cholesky): Float64Array {
  const { p, aliased } = c
  const inv = new Float64Array(p * p).fill(NaN)
  const e = new Float64Array(p)
  for (let j = 0; j < p; j++) {
    if (aliased[j] === 1) continue
    e.fill(0); e[j] = 1
    const col = choleskySolve(c, e)
    for (let i = 0; i < p; i++) if (aliased[i] === 0) inv[i * p + j] = col[i]
  }
  return inv
}
