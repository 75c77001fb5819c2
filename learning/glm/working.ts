/**
 * Working statistics: the per-peer statistics of stats.ts with the score slot holding the IRLS right-hand side
 * r = I beta + U = X' W z (z the working response without the offset) instead of U, and the null-model score
 * slot holding nullInfo b0 + nullScore. Unlike U, r stays meaningful when peers evaluated at DIFFERENT
 * coefficients: the sum over peers of (I_k, r_k) is the sum of their local quadratic models of the
 * log-likelihood, whose maximiser (sum I_k)^-1 (sum r_k) is the Newton / IRLS step when every beta_k is the same
 * and approaches it as the peers agree. That is what the glm-newton rule gossips (push-sum with tracking,
 * docs/design-notes.md "Exact GLM over the network"): each peer steps from its running estimate of the average.
 *
 * Same layout and additive fields as stats.ts; only the version slot (GLM_WORKING_VERSION) and the meaning of
 * the two score slots differ.
 */
import type { GlmFamily } from './family.js'
import { FAMILY_CODES, FAMILY_NAMES, glmFamily } from './family.js'
import type { GlmDesign } from './design.js'
import { computeStats, GlmStats, packedIndex, type GlmRows } from './stats.js'
import { cholesky, choleskySolve, unpackSymmetric } from './cholesky.js'
import { GlmStatsError } from './errors.js'
import { GLM_ALIAS_TOLERANCE, GLM_WORKING_VERSION } from './constants.js'

const NULL_SCORE = 13
const NULL_INFO = 14

/** A peer's working statistics at (beta, b0). */
export function workingStats (design: GlmDesign, family: GlmFamily, rows: GlmRows, beta: Float64Array, b0: number): GlmStats {
  const s = computeStats(design, family, rows, beta, b0)
  return toWorking(s, beta, design.intercept ? b0 : 0)
}

/** Turns plain statistics at (beta, b0) into working statistics, in place. */
export function toWorking (s: GlmStats, beta: ArrayLike<number>, b0: number): GlmStats {
  const p = s.p
  const d = s.data
  const U = s.score
  const info = s.info
  const r = new Float64Array(p)
  for (let i = 0; i < p; i++) {
    let acc = U[i]
    for (let j = 0; j < p; j++) acc += info[i <= j ? packedIndex(p, i, j) : packedIndex(p, j, i)] * beta[j]
    r[i] = acc
  }
  U.set(r)
  d[NULL_SCORE] += d[NULL_INFO] * b0
  d[0] = GLM_WORKING_VERSION
  return s
}

/** The Newton / IRLS solution of summed (or averaged: the step is scale free) working statistics. */
export interface WorkingSolution {
  /** Coefficients, 0 where aliased. */
  beta: Float64Array
  aliased: Uint8Array
  rank: number
  /** The intercept-only model's next intercept. */
  nullIntercept: number
}

/** Solves I beta = r (aliasing dependent columns as the solver does) and b0 = nullScore / nullInfo. */
export function solveWorking (s: GlmStats, options: { aliasTolerance?: number, intercept?: boolean } = {}): WorkingSolution {
  const p = s.p
  const chol = cholesky(unpackSymmetric(s.info, p), p, options.aliasTolerance ?? GLM_ALIAS_TOLERANCE)
  const beta = choleskySolve(chol, s.score)
  const nullInfo = s.data[NULL_INFO]
  const nullIntercept = (options.intercept ?? true) && nullInfo > 0 ? s.data[NULL_SCORE] / nullInfo : 0
  return { beta, aliased: chol.aliased, rank: chol.rank, nullIntercept }
}

/** The family a statistics header names (code and tweedie power). */
export function familyOfStats (data: ArrayLike<number>): GlmFamily {
  const code = data[1]
  const name = FAMILY_NAMES.find((n) => FAMILY_CODES[n] === code)
  if (name == null) throw new GlmStatsError(`GLM statistics: family: unknown code ${code}`, 'family')
  return glmFamily(name, name === 'tweedie' ? { power: data[2] } : {})
}

/**
 * Validates a peer's running estimate of the average working statistics (what glm-newton gossips) against
 * ours (`own`, whose header is trusted): the header must equal ours (the power compared at float32 precision,
 * as it travels), the exact length, every value finite and within `maxValue` in magnitude, and the row count
 * within `maxRows`. Unlike one peer's own statistics (decodeStats), a tracked estimate may hold negative counts,
 * deviances or diagonals for a while (an increment added where part of the mass already left), so signs are
 * not checked. Returns a float64 copy with our exact header.
 */
export function decodeWorking (data: ArrayLike<number>, own: GlmStats, bounds: { maxRows: number, maxValue: number }): GlmStats {
  const length = own.data.length
  if (data.length !== length) throw new GlmStatsError(`GLM statistics: length: ${data.length} values, expected ${length}`, 'length')
  const header = ['version', 'family', 'power', 'p']
  for (let i = 0; i < 4; i++) {
    if (Math.fround(data[i]) !== Math.fround(own.data[i])) throw new GlmStatsError(`GLM statistics: ${header[i]}: ${data[i]}, expected ${own.data[i]}`, header[i])
  }
  const copy = Float64Array.from(data)
  for (let i = 0; i < 4; i++) copy[i] = own.data[i]
  for (let i = 4; i < length; i++) {
    if (!(Math.abs(copy[i]) <= bounds.maxValue)) throw new GlmStatsError(`GLM statistics: value ${i}: ${copy[i]} is not finite or exceeds ${bounds.maxValue} in magnitude`, `value[${i}]`)
  }
  const s = new GlmStats(copy)
  if (!(Math.abs(s.n) <= bounds.maxRows)) throw new GlmStatsError(`GLM statistics: n: ${s.n} rows, more than the bound ${bounds.maxRows}`, 'n')
  return s
}

/** A working-statistics vector with the header of `family` and width p and every additive field zero. */
export function emptyWorking (family: GlmFamily, p: number): GlmStats {
  const s = GlmStats.empty(family, p)
  s.data[0] = GLM_WORKING_VERSION
  return s
}
