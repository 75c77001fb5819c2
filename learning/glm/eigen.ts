/**
 * Eigenvalues and eigenvectors of a small dense symmetric matrix by cyclic Jacobi rotations (Golub and Van Loan,
 * Matrix Computations, 8.5): numerically robust, O(p^3) per sweep, a handful of sweeps. For the p x p Fisher
 * information of the exact GLM (private-stats.ts floors its eigenvalues after noise).
 */

export interface SymmetricEigen {
  readonly p: number
  values: Float64Array
  /** Eigenvectors as columns, row-major p x p: A = V diag(values) V'. */
  vectors: Float64Array
}

const MAX_SWEEPS = 100

/** The eigen decomposition of the full symmetric row-major matrix `a` (not modified). */
export function symmetricEigen (a: ArrayLike<number>, p: number): SymmetricEigen {
  const m = Float64Array.from(a)
  const v = new Float64Array(p * p)
  for (let i = 0; i < p; i++) v[i * p + i] = 1
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let off = 0; let total = 0
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) { const x = m[i * p + j] * m[i * p + j]; total += x; if (i !== j) off += x }
    }
    if (off <= 1e-30 * total || off === 0) break
    for (let i = 0; i < p - 1; i++) {
      for (let j = i + 1; j < p; j++) {
        const aij = m[i * p + j]
        if (aij === 0) continue
        const theta = (m[j * p + j] - m[i * p + i]) / (2 * aij)
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
        const c = 1 / Math.sqrt(t * t + 1)
        const s = t * c
        for (let k = 0; k < p; k++) {
          // rotate columns i and j of m, then rows i and j
          const mki = m[k * p + i]; const mkj = m[k * p + j]
          m[k * p + i] = c * mki - s * mkj
          m[k * p + j] = s * mki + c * mkj
        }
        for (let k = 0; k < p; k++) {
          const mik = m[i * p + k]; const mjk = m[j * p + k]
          m[i * p + k] = c * mik - s * mjk
          m[j * p + k] = s * mik + c * mjk
        }
        for (let k = 0; k < p; k++) {
          const vki = v[k * p + i]; const vkj = v[k * p + j]
          v[k * p + i] = c * vki - s * vkj
          v[k * p + j] = s * vki + c * vkj
        }
      }
    }
  }
  return { p, values: Float64Array.from({ length: p }, (_, i) => m[i * p + i]), vectors: v }
}
