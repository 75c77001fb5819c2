/**
 * Bounded influence for the exact GLM over the network (rule glm-newton): which received shares of working
 * statistics an honest peer could have sent. The receiver screens each share (the sender's push-sum estimate
 * z / w) against its OWN evaluation (its statistics and coefficients) and refuses what fails
 * (IMPLAUSIBLE_STATISTICS, counted by reason); docs/design-notes.md "Bounded influence for the exact GLM".
 *
 * Why these checks: with restarting phases (the rule's default), an honest share is a convex combination of
 * the peers' own statistics S_k / m_k (m_k their push-sum mass), so every check below that holds for each
 * honest S_k and is convex in the statistics lets every honest share through, and the exact fit is unchanged:
 * - signs: counts, prior weights, Pearson, deviances, the null information and the Fisher diagonal are sums of
 *   non-negative per-record terms;
 * - the Fisher information is positive semi-definite (a sum of w W x x');
 * - the score is within the Fisher ellipsoid the Pearson statistic allows: per record U_i U_i' = P_i I_i, so
 *   summed (Cauchy-Schwarz) U' I^+ U <= P, the score test statistic never exceeds the Pearson chi-square; the
 *   LMI [[P, U'], [U, I]] >= 0 is convex. The share carries r = I beta_k + U_k at each peer's own beta_k; the
 *   receiver evaluates U = r - I beta at its own beta, so the peers' disagreement adds up to
 *   2 (beta_k - beta)' I_k (beta_k - beta): `scoreRatio` (16) leaves room for it;
 * - per-record scale (not convex-exact, self-centred): the Fisher trace and the Pearson statistic per row are
 *   within `scaleRatio` (100) times the larger of the receiver's own and its running estimate's.
 * The last two are what stop plausible-but-false statistics: a gradient x1000 puts U' I^+ U some 1e5 times past
 * P; a Fisher block scaled up or down moves U = r - I beta the same way; a Fisher and score scaled together
 * (claiming more curvature) meet the scale bound. What stays possible: a sender within the bounds moves the fit
 * at most as far as an honest peer with the same Pearson statistic could (see docs/security.md).
 * Under differential privacy every slot of an honest share carries Gaussian noise: `noise` (a few noise
 * standard deviations) widens each bound by that much.
 */
import { cholesky, choleskySolve } from './cholesky.js'
import { GlmStats, packedIndex, STATS_SLOTS } from './stats.js'

/** Bounds of a glm-newton share (the rule's `bound` parameter). */
export interface ShareBounds {
  /** Largest score statistic U' I^+ U at the receiver's coefficients over the share's Pearson statistic. */
  scoreRatio: number
  /** Largest per-row Fisher trace and Pearson statistic over the receiver's (own or running estimate). */
  scaleRatio: number
  /** Absolute allowance per slot for noise (differential privacy); 0 without. */
  noise?: number
}

export const DEFAULT_SHARE_BOUNDS = { scoreRatio: 16, scaleRatio: 100 } as const

/** What the receiver trusts: its own working statistics at its coefficients, and its running estimate. */
export interface ShareReference {
  own: GlmStats | null
  beta: Float64Array | null
  estimate?: GlmStats | null
  /** Families whose Pearson residuals have unit scale (poisson, binomial): a floor of 1 per row. */
  unitDispersion?: boolean
}

const NON_NEGATIVE = (['n', 'sumW', 'deviance', 'pearson', 'nullDeviance', 'nullInfo'] as const).map((k): [number, string] => [STATS_SLOTS[k], k])
/** Float32 travel and summation rounding, relative to a slot's scale. */
const ROUNDING = 1e-5

function trace (s: GlmStats): number {
  let t = 0
  for (let i = 0; i < s.p; i++) t += s.info[packedIndex(s.p, i, i)]
  return t
}

/** Per-row value of a statistic of `s` (null when `s` has no rows). */
function perRow (s: GlmStats | null | undefined, value: (s: GlmStats) => number): number | null {
  return s != null && s.n > 0 ? value(s) / s.n : null
}

/** Whether the packed symmetric matrix is positive semi-definite (a negative residual pivot beyond rounding fails). */
function semiDefinite (info: Float64Array, p: number, slack: number): boolean {
  const a = new Float64Array(p * p)
  for (let i = 0; i < p; i++) for (let j = i; j < p; j++) { const v = info[packedIndex(p, i, j)]; a[i * p + j] = v; a[j * p + i] = v }
  let scale = 0
  for (let i = 0; i < p; i++) scale = Math.max(scale, Math.abs(a[i * p + i]))
  // with the allowance on the diagonal, a semi-definite matrix factors with every pivot positive
  for (let i = 0; i < p; i++) a[i * p + i] += ROUNDING * scale + slack + 1e-300
  return !cholesky(a, p, 0).aliased.some((x) => x === 1)
}

/** U' (I + eps)^-1 U with U = r - I beta: the share's score statistic at `beta`. */
function scoreStatistic (s: GlmStats, beta: Float64Array, ridge: number): number {
  const p = s.p
  const a = new Float64Array(p * p)
  const u = Float64Array.from(s.score)
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      const v = s.info[i <= j ? packedIndex(p, i, j) : packedIndex(p, j, i)]
      a[i * p + j] = v
      u[i] -= v * beta[j]
    }
  }
  let scale = 0
  for (let i = 0; i < p; i++) scale = Math.max(scale, Math.abs(a[i * p + i]))
  // a tiny ridge: a score along a direction with no information (an aliased column) counts as very large
  const eps = Math.max(1e-9 * scale, ridge, 1e-300)
  for (let i = 0; i < p; i++) a[i * p + i] += eps
  const x = choleskySolve(cholesky(a, p, 0), u)
  let q = 0
  for (let i = 0; i < p; i++) q += u[i] * x[i]
  return q
}

/**
 * Screens a received share: null when an honest peer could have sent it, else what is wrong (for the refusal's
 * detail). Checks the reference lacks (no own evaluation yet) are skipped; signs and definiteness always run.
 */
export function screenShare (share: GlmStats, ref: ShareReference, bounds: ShareBounds): string | null {
  const noise = bounds.noise ?? 0
  const d = share.data
  const p = share.p
  const n = share.n
  for (const [i, name] of NON_NEGATIVE) {
    if (d[i] < -(noise + ROUNDING * (1 + Math.abs(n)))) return `${name} ${d[i]} is negative`
  }
  const info = share.info
  for (let i = 0; i < p; i++) {
    const v = info[packedIndex(p, i, i)]
    if (v < -(noise + ROUNDING * (1 + Math.abs(v)))) return `Fisher diagonal ${i} ${v} is negative`
  }
  if (!semiDefinite(info, p, noise * Math.sqrt(p))) return 'the Fisher information is not positive semi-definite'
  const rows = Math.max(1, n)
  // per-record scale against ours (own evaluation and running estimate, the larger)
  const refTrace = Math.max(perRow(ref.own, trace) ?? 0, perRow(ref.estimate, trace) ?? 0)
  if (refTrace > 0) {
    const t = trace(share)
    if (t > bounds.scaleRatio * refTrace * rows + noise * p) return `Fisher trace ${t} over ${n} rows is more than ${bounds.scaleRatio} x ours per row (${refTrace})`
  }
  const pearson = (s: GlmStats): number => s.pearson
  const refPearson = Math.max(perRow(ref.own, pearson) ?? 0, perRow(ref.estimate, pearson) ?? 0, ref.unitDispersion === true ? 1 : 0)
  if (refPearson > 0 && share.pearson > bounds.scaleRatio * refPearson * rows + noise) {
    return `Pearson statistic ${share.pearson} over ${n} rows is more than ${bounds.scaleRatio} x ours per row (${refPearson})`
  }
  // the score within the Pearson ellipsoid, at our coefficients
  if (ref.beta != null && ref.own != null) {
    const q = scoreStatistic(share, ref.beta, noise)
    const allowed = bounds.scoreRatio * (Math.max(0, share.pearson) + noise * (1 + Math.sqrt(p))) + ROUNDING * (1 + Math.abs(share.pearson))
    if (!(q <= allowed)) return `score statistic ${q} at our coefficients is more than ${bounds.scoreRatio} x the Pearson statistic ${share.pearson}`
  }
  return null
}
