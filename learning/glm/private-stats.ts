/**
 * Differential privacy for the exact GLM over the network (rule glm-newton): what a peer releases of its rows is
 * its working statistics, once per evaluation (a phase's coefficients); every share it sends in that phase is
 * computed from that release and what others sent (post-processing). Each release is the Gaussian mechanism:
 *
 * 1. every record's contribution to the working vector is clipped in two parts to L2 norm C each
 *    (`privacy.clip`; computeStats' recordClip): the slots the fit reads with one factor (a clipped record is a
 *    down-weighted record: the clipped statistics are still a GLM's), the reported ones (deviances, Pearson,
 *    log-likelihood terms) with another; adding or removing one record moves the vector by at most sqrt(2) C;
 * 2. N(0, (noiseMultiplier sqrt(2) C)^2) is added to every additive slot;
 * 3. post-processing, so that the Newton step stays defined: the noisy Fisher information's eigenvalues are
 *    floored at noiseStd (2 sqrt(p) + 4) (eigenFloor) by the smallest positive semi-definite correction D
 *    (I + D, in the eigenbasis), with its matching score term r + D beta (beta, where the peer evaluated, is
 *    public: it travels in the model part). A correction with its score term damps the step along the lifted
 *    directions only, and leaves the fixed point (U = 0 when every peer agrees) unchanged. The null model's
 *    information gets the same floor. The release states the largest lift (`ridge`).
 *
 * Accounting: each release is one full-batch (sampling rate 1) Gaussian mechanism with noise multiplier sigma,
 * so the peer's RDP accountant takes one step at q = 1 per release (learning/privacy/peer.ts); R releases
 * compose to R alpha / (2 sigma^2).
 */
import type { GlmDesign } from './design.js'
import type { GlmFamily } from './family.js'
import { computeStats, packedIndex, STATS_SLOTS, type GlmRows, type GlmStats } from './stats.js'
import { toWorking } from './working.js'
import { unpackSymmetric } from './cholesky.js'
import { symmetricEigen } from './eigen.js'

export interface GlmNoise {
  /** L2 bound of one record's contribution to the working statistics. */
  clip: number
  noiseMultiplier: number
  /** Standard normal draws (the peer's seeded stream in a simulation, a CSPRNG in a daemon). */
  normal: () => number
}

export interface PrivateRelease {
  stats: GlmStats
  /** The largest eigenvalue lift of the floor (0: the noisy Fisher information was above it already). */
  ridge: number
  /** Standard deviation of the noise on each slot. */
  noiseStd: number
  /**
   * Share of the peer's records that the clip down-weighted (local, not released: the clip's bias grows with it;
   * a clip a few times the typical record's norm keeps it near 0, at the price of more noise).
   */
  clippedShare: number
}

/** L2 sensitivity of a release for a record clip C: two parts of norm C each. */
export function sensitivity (clip: number): number { return Math.SQRT2 * clip }

/**
 * The eigenvalue floor for width p and noise std s: s (2 sqrt(p) + 4), above the spectral norm of a p x p
 * symmetric matrix of N(0, s^2) entries (about 2 s sqrt(p)) but for a chance below 1e-3.
 */
export function eigenFloor (p: number, noiseStd: number): number { return noiseStd * (2 * Math.sqrt(p) + 4) }

/** A private release of this peer's working statistics at (beta, b0). */
export function privateWorkingStats (design: GlmDesign, family: GlmFamily, rows: GlmRows, beta: Float64Array, b0: number, dp: GlmNoise): PrivateRelease {
  const counted = { records: 0, clipped: 0 }
  const s = toWorking(computeStats(design, family, rows, beta, b0, dp.clip, counted), beta, design.intercept ? b0 : 0)
  const std = dp.noiseMultiplier * sensitivity(dp.clip)
  const d = s.data
  for (let i = 4; i < d.length; i++) d[i] += std * dp.normal()
  const p = s.p
  const floor = eigenFloor(p, std)
  const { values, vectors } = symmetricEigen(unpackSymmetric(s.info, p), p)
  // D = V diag(max(0, floor - lambda)) V': the smallest correction that puts every eigenvalue at the floor
  const lift = Float64Array.from(values, (l) => Math.max(0, floor - l))
  const correction = new Float64Array(p * p)
  for (let k = 0; k < p; k++) {
    if (lift[k] === 0) continue
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) correction[i * p + j] += lift[k] * vectors[i * p + k] * vectors[j * p + k]
  }
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) s.info[packedIndex(p, i, j)] += correction[i * p + j]
    let dBeta = 0
    for (let j = 0; j < p; j++) dBeta += correction[i * p + j] * beta[j]
    s.score[i] += dBeta
  }
  // the null model's 1 x 1 information: the same floor, with its matching score term
  const nullLift = Math.max(0, floor - d[STATS_SLOTS.nullInfo])
  d[STATS_SLOTS.nullInfo] += nullLift
  d[STATS_SLOTS.nullScore] += nullLift * (design.intercept ? b0 : 0)
  const ridge = Math.max(nullLift, ...lift)
  return { stats: s, ridge, noiseStd: std, clippedShare: counted.records === 0 ? 0 : counted.clipped / counted.records }
}
