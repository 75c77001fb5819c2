/**
 * Per-peer sufficient statistics of a GLM at a given coefficient vector: what a peer would send each round.
 * They are additive over rows, so peers' statistics sum (or average, with their counts) to the pooled ones.
 *
 * Layout of the Float64Array (fixed header, then the score, then the packed Fisher information):
 *
 * | slot | field | meaning |
 * |---|---|---|
 * | 0 | version | GLM_STATS_VERSION |
 * | 1 | family | FAMILY_CODES |
 * | 2 | power | tweedie variance power, 0 for the other families |
 * | 3 | p | design columns |
 * | 4 | n | rows with positive prior weight |
 * | 5..7 | sumW, sumWY, sumWMu | prior weights, weighted responses, weighted fitted means |
 * | 8 | deviance | sum of w d(y, mu) |
 * | 9 | pearson | sum of w (y - mu)^2 / V(mu) |
 * | 10, 11 | logLik0, logLik1 | the family's additive log-likelihood terms (for the AIC) |
 * | 12..14 | nullDeviance, nullScore, nullInfo | the intercept-only model at its own current intercept |
 * | 15 .. 15+p | score U | X' (w (y - mu) mu'(eta) / V(mu)) |
 * | 15+p .. | information | X' W X, upper triangle packed by rows, p(p+1)/2 values |
 */
import { FAMILY_CODES, type GlmFamily } from './family.js'
import type { GlmDesign } from './design.js'
import { GlmFitError, GlmStatsError } from './errors.js'
import { GLM_MAX_COLUMNS, GLM_STATS_VERSION } from './constants.js'

export const STATS_HEADER = 15
/** Header slot of each scalar statistic (the table above). */
export const STATS_SLOTS = { version: 0, family: 1, power: 2, p: 3, n: 4, sumW: 5, sumWY: 6, sumWMu: 7, deviance: 8, pearson: 9, logLik0: 10, logLik1: 11, nullDeviance: 12, nullScore: 13, nullInfo: 14 } as const
const S = STATS_SLOTS
type Field = keyof typeof S

/** Length of a statistics vector for p design columns. */
export function statsLength (p: number): number { return STATS_HEADER + p + p * (p + 1) / 2 }

/** Index of (i, j), i <= j, in the packed upper triangle of a p x p matrix. */
export function packedIndex (p: number, i: number, j: number): number { return i * p - (i * (i - 1)) / 2 + (j - i) }

/** Rows a peer holds, in the dataset's encoding (row-major features; `rows` selects a subset, e.g. a shard). */
export interface GlmRows {
  x: ArrayLike<number>
  numFeatures: number
  y: ArrayLike<number>
  /** Added to the linear predictor (log exposure for a Poisson frequency). */
  offset?: ArrayLike<number> | null
  /** Prior weights (binomial: the number of trials, y the proportion). */
  weight?: ArrayLike<number> | null
  rows?: ArrayLike<number> | null
}

/** A statistics vector with named views. `data` is what travels. */
export class GlmStats {
  readonly data: Float64Array
  readonly p: number
  constructor (data: Float64Array) {
    this.data = data
    this.p = data[S.p]
  }

  /** A zeroed vector for a family and width. */
  static empty (family: GlmFamily, p: number): GlmStats {
    const data = new Float64Array(statsLength(p))
    data[S.version] = GLM_STATS_VERSION
    data[S.family] = FAMILY_CODES[family.name]
    data[S.power] = Number.isNaN(family.power) ? 0 : family.power
    data[S.p] = p
    return new GlmStats(data)
  }

  get n (): number { return this.data[S.n] }
  get sumW (): number { return this.data[S.sumW] }
  get sumWY (): number { return this.data[S.sumWY] }
  get sumWMu (): number { return this.data[S.sumWMu] }
  get deviance (): number { return this.data[S.deviance] }
  get pearson (): number { return this.data[S.pearson] }
  get logLik0 (): number { return this.data[S.logLik0] }
  get logLik1 (): number { return this.data[S.logLik1] }
  get nullDeviance (): number { return this.data[S.nullDeviance] }
  get nullScore (): number { return this.data[S.nullScore] }
  get nullInfo (): number { return this.data[S.nullInfo] }
  /** Score vector U (a view). */
  get score (): Float64Array { return this.data.subarray(STATS_HEADER, STATS_HEADER + this.p) }
  /** Fisher information, packed upper triangle (a view). */
  get info (): Float64Array { return this.data.subarray(STATS_HEADER + this.p) }

  /** Adds another peer's statistics (same family and width) into this one. */
  add (other: GlmStats): this {
    if (other.data.length !== this.data.length || other.data[S.family] !== this.data[S.family]) throw new GlmStatsError('statistics of a different family or width cannot be added', 'p')
    for (let i = S.n; i < this.data.length; i++) this.data[i] += other.data[i]
    return this
  }

  /** Multiplies every additive field by `factor` (turns an average of K peers back into a sum with K). */
  scale (factor: number): this {
    for (let i = S.n; i < this.data.length; i++) this.data[i] *= factor
    return this
  }

  clone (): GlmStats { return new GlmStats(this.data.slice()) }
}

/**
 * Computes a peer's statistics at `beta` (and the intercept-only model at `nullIntercept`).
 * With `recordClip` (differential privacy, private-stats.ts), every record's contribution to the WORKING
 * statistics (toWorking: the score slot as r_i = W_i z_i x_i) is clipped in two parts, each to L2 norm
 * recordClip: the slots the fit reads (counts, sums, null model, score, Fisher information) are scaled by one
 * factor, so a clipped record is a record with a smaller prior weight and the statistics stay a GLM's; the
 * reported slots (deviances, Pearson, log-likelihood terms) by another. One record moves the working vector by
 * at most sqrt(2) recordClip. `clipped`, when given, receives how many records had either part clipped (a local
 * figure for choosing the clip: a clipped record is down-weighted, which biases the fit; it is not released).
 *
 * @example
 * ```ts
 * const s = computeStats(design, glmFamily('poisson'), rows, beta, 0)
 * total.add(s)
 * ```
 */
export function computeStats (design: GlmDesign, family: GlmFamily, data: GlmRows, beta: Float64Array, nullIntercept: number, recordClip?: number, clipped?: { records: number, clipped: number }): GlmStats {
  const p = design.p
  if (beta.length !== p) throw new GlmFitError(`beta has ${beta.length} values, the design ${p} columns`)
  if (data.numFeatures !== design.numFeatures) throw new GlmFitError(`the rows have ${data.numFeatures} features, the design reads ${design.numFeatures}`)
  const out = GlmStats.empty(family, p)
  const o = out.data
  const U = out.score
  const info = out.info
  const src = design.source
  const d = data.numFeatures
  const { x, y, offset, weight } = data
  const rows = data.rows
  const count = rows != null ? rows.length : y.length
  const idx = new Int32Array(p)
  const val = new Float64Array(p)
  const rowStart = new Int32Array(p)
  for (let i = 0; i < p; i++) rowStart[i] = packedIndex(p, i, i) - i
  const ll = new Float64Array(2)
  const b0 = design.intercept ? nullIntercept : 0
  let n = 0; let sumW = 0; let sumWY = 0; let sumWMu = 0; let dev = 0; let pearson = 0; let l0 = 0; let l1 = 0
  let nullDev = 0; let nullScore = 0; let nullInfo = 0
  for (let k = 0; k < count; k++) {
    const r = rows != null ? rows[k] : k
    const w = weight != null ? weight[r] : 1
    if (!(w > 0)) {
      if (w === 0) continue
      throw new GlmFitError(`row ${r}: prior weight ${w} is not a non-negative number`)
    }
    const yr = y[r]
    const bad = family.checkResponse(yr, w)
    if (bad != null) throw new GlmFitError(`row ${r}: ${bad}`)
    const off = offset != null ? offset[r] : 0
    let eta = off
    let nnz = 0
    const base = r * d
    for (let j = 0; j < p; j++) {
      const s = src[j]
      const v = s < 0 ? 1 : x[base + s]
      if (v !== 0) { idx[nnz] = j; val[nnz] = v; nnz++; eta += v * beta[j] }
    }
    const mu = family.linkinv(eta)
    const me = family.muEta(eta)
    const vmu = family.variance(mu)
    const ww = w * me * me / vmu
    const sc = w * (yr - mu) * me / vmu
    const devR = w * family.unitDeviance(yr, mu)
    const pearR = w * (yr - mu) * (yr - mu) / vmu
    family.logLikTerms(yr, mu, w, ll)
    const eta0 = b0 + off
    const mu0 = family.linkinv(eta0)
    const me0 = family.muEta(eta0)
    const v0 = family.variance(mu0)
    const nullDevR = w * family.unitDeviance(yr, mu0)
    const nullScoreR = w * (yr - mu0) * me0 / v0
    const nullInfoR = w * me0 * me0 / v0
    // differential privacy: the fit's slots scaled by f, the reported ones (deviances, Pearson, log-likelihood) by g
    const f = recordClip == null ? 1 : clipFactorOf(recordClip, fitPart(w, yr, mu, nullScoreR + nullInfoR * b0, nullInfoR, ww, sc + ww * (eta - off), val, nnz))
    const g = recordClip == null ? 1 : clipFactorOf(recordClip, Math.hypot(devR, pearR, ll[0], ll[1], nullDevR))
    if (clipped != null) { clipped.records++; if (f < 1 || g < 1) clipped.clipped++ }
    const fsc = f * sc
    const fww = f * ww
    for (let a = 0; a < nnz; a++) {
      const ia = idx[a]
      const va = val[a]
      U[ia] += fsc * va
      const wa = fww * va
      const start = rowStart[ia]
      for (let b = a; b < nnz; b++) info[start + idx[b]] += wa * val[b]
    }
    n += f; sumW += f * w; sumWY += f * w * yr; sumWMu += f * w * mu
    dev += g * devR
    pearson += g * pearR
    l0 += g * ll[0]; l1 += g * ll[1]
    nullDev += g * nullDevR
    nullScore += f * nullScoreR
    nullInfo += f * nullInfoR
  }
  o[S.n] = n; o[S.sumW] = sumW; o[S.sumWY] = sumWY; o[S.sumWMu] = sumWMu; o[S.deviance] = dev; o[S.pearson] = pearson
  o[S.logLik0] = l0; o[S.logLik1] = l1; o[S.nullDeviance] = nullDev; o[S.nullScore] = nullScore; o[S.nullInfo] = nullInfo
  return out
}

/**
 * L2 norm of one record's contribution to the slots the fit reads: n, sumW, sumWY, sumWMu, the null model's
 * working score and information, the score-slot part r_i = zw x (zw: W z, the working weight times the working
 * response) and the packed Fisher part ww x x' (upper triangle).
 */
function fitPart (w: number, y: number, mu: number, nullScore: number, nullInfo: number, ww: number, zw: number, x: Float64Array, nnz: number): number {
  let x2 = 0; let x4 = 0
  for (let a = 0; a < nnz; a++) { const v2 = x[a] * x[a]; x2 += v2; x4 += v2 * v2 }
  return Math.sqrt(1 + w * w + (w * y) ** 2 + (w * mu) ** 2 + nullScore * nullScore + nullInfo * nullInfo + zw * zw * x2 + ww * ww * (x2 * x2 + x4) / 2)
}

const clipFactorOf = (clip: number, norm: number): number => norm > clip ? clip / norm : 1

function fail (field: string, problem: string): never {
  throw new GlmStatsError(`GLM statistics: ${field}: ${problem}`, field)
}

/**
 * Validates a statistics vector received from a peer: version, family, width against what the manifest says,
 * exact length, finite values, counts and sums of squares non-negative. Returns a view over the same buffer
 * (a float64 copy when `data` is not a Float64Array). `version`: GLM_STATS_VERSION (default) or the working
 * statistics' GLM_WORKING_VERSION (working.ts).
 */
export function decodeStats (data: ArrayLike<number>, expected: { family: GlmFamily, p: number, version?: number }): GlmStats {
  const { family, p } = expected
  const version = expected.version ?? GLM_STATS_VERSION
  if (!(Number.isInteger(p) && p > 0 && p <= GLM_MAX_COLUMNS)) fail('p', `expected width ${p} is outside 1..${GLM_MAX_COLUMNS}`)
  if (data.length < STATS_HEADER) fail('length', `${data.length} values, shorter than the ${STATS_HEADER}-value header`)
  if (data[S.version] !== version) fail('version', `${data[S.version]}, expected ${version}`)
  if (data[S.family] !== FAMILY_CODES[family.name]) fail('family', `code ${data[S.family]}, expected ${FAMILY_CODES[family.name]} (${family.name})`)
  const power = Number.isNaN(family.power) ? 0 : family.power
  if (data[S.power] !== power) fail('power', `${data[S.power]}, expected ${power}`)
  if (data[S.p] !== p) fail('p', `${data[S.p]} columns, expected ${p}`)
  if (data.length !== statsLength(p)) fail('length', `${data.length} values, expected ${statsLength(p)} for ${p} columns`)
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const name = (Object.keys(S) as Field[]).find((f) => S[f] === i) ?? (i < STATS_HEADER + p ? `score[${i - STATS_HEADER}]` : `info[${i - STATS_HEADER - p}]`)
      fail(name, `${data[i]} is not finite`)
    }
  }
  for (const f of ['n', 'sumW', 'pearson', 'nullInfo'] as const) if (data[S[f]] < 0) fail(f, `${data[S[f]]} is negative`)
  for (const f of ['deviance', 'nullDeviance'] as const) if (data[S[f]] < -1e-9 * (1 + data[S.n])) fail(f, `${data[S[f]]} is negative`)
  const stats = new GlmStats(data instanceof Float64Array ? data : Float64Array.from(data))
  const info = stats.info
  for (let i = 0; i < p; i++) if (info[packedIndex(p, i, i)] < 0) fail(`info[${i},${i}]`, 'a diagonal of the Fisher information is negative')
  return stats
}
