/**
 * `GlmNetworkLearner`: the Learner of one peer of the exact GLM over the network (rule `glm-newton`,
 * protocol/engine/rules/glm-newton.ts). Its flat vector is
 *
 * | part | length | meaning |
 * |---|---|---|
 * | statistics | statsLength(p) | working statistics (working.ts), see below |
 * | model | numFeatures + 1 | the linear model of beta in the dataset model's layout (kernel, then the bias) |
 *
 * - `train()` evaluates this peer's working statistics at its current coefficients (no pass over the rows
 *   when they did not change); `weights()` gives them in the statistics part, and the rule starts each phase's
 *   push-sum from them.
 * - `setWeights(v)` takes the rule's estimate of the network's average working statistics (the statistics
 *   part); when its first slot is GLM_WORKING_VERSION (the rule's STEP mark, at the end of a phase) it takes the
 *   Newton / IRLS step from it, beta = I^-1 r; with -GLM_WORKING_VERSION (HOLD, the mixing rounds) it keeps it. The model part of `v` says at which
 *   coefficients this peer last evaluated (the rule passes ours back): after a restart from a checkpoint the
 *   learner starts from there.
 *
 * Each step moves no coefficient by more than `maxStep` from where this peer last evaluated (a trust region:
 * the first estimates mix few peers' rows; near the fit the steps are far smaller and Newton's is taken whole).
 * A step that lands where this peer's statistics are not finite is halved toward the previous coefficients.
 *
 * With `privacy` every evaluation is a differentially private release (private-stats.ts: records clipped,
 * Gaussian noise, the Fisher information floored by a stated ridge) and one step of the peer's accountant at
 * sampling rate 1; when the budget allows no more the learner evaluates no more and the engine sends nothing.
 */
import type { AbortOptions, Learner, MetricValues, TrainResult } from '../../protocol/interfaces.js'
import type { GlmFamily } from './family.js'
import type { GlmDesign } from './design.js'
import { GlmStats, statsLength, type GlmRows } from './stats.js'
import { emptyWorking, solveWorking, workingStats } from './working.js'
import { GlmFitError } from './errors.js'
import { GLM_MAX_HALVINGS, GLM_MAX_STEP, GLM_WORKING_VERSION } from './constants.js'
import { screenShare, type ShareBounds } from './share-bound.js'
import { privateWorkingStats, sensitivity } from './private-stats.js'
import type { PeerPrivacy } from '../privacy/peer.js'

export interface GlmNetworkLearnerInit {
  design: GlmDesign
  family: GlmFamily
  /** This peer's rows. */
  rows: GlmRows
  /** Number of rows (for numExamples). */
  numExamples: number
  /** Schema hash peers must share (e.g. the hash of the design names and family). */
  schemaHash: string
  /** Largest change of any coefficient in one step (a trust region; default GLM_MAX_STEP). */
  maxStep?: number
  /** Differential privacy: each evaluation a Gaussian-mechanism release under this peer's accountant. */
  privacy?: PeerPrivacy
  /** Metrics of the model part (the linear model) on local or test rows; default: none. */
  evaluate?: (model: Float32Array, split: 'local' | 'test') => MetricValues
}

/** Evaluations whose coefficients `history()` keeps. */
const HISTORY = 1000

const sameBeta = (a: Float64Array | null, b: Float64Array): boolean => a != null && a.length === b.length && a.every((x, i) => x === b[i])

export class GlmNetworkLearner implements Learner {
  readonly schemaHash: string
  readonly numParams: number
  readonly design: GlmDesign
  readonly family: GlmFamily
  /** Length of the statistics part. */
  readonly statsLength: number
  private readonly rows: GlmRows
  private readonly count: number
  private readonly evaluateModel: GlmNetworkLearnerInit['evaluate']
  private beta: Float64Array
  private nullIntercept = 0
  /** Coefficients and statistics of the last evaluation (what the rule's numerator holds of this peer). */
  private evaluatedAt: Float64Array | null = null
  private evaluated: GlmStats | null = null
  private readonly maxStep: number
  private readonly trail: Float64Array[] = []
  private estimate: GlmStats | null = null
  private stepped: GlmStats | null = null
  readonly privacy: PeerPrivacy | null
  private largestRidge = 0
  private lastClippedShare = 0

  constructor (init: GlmNetworkLearnerInit) {
    this.design = init.design
    this.family = init.family
    this.rows = init.rows
    this.count = init.numExamples
    this.schemaHash = init.schemaHash
    this.evaluateModel = init.evaluate
    this.maxStep = init.maxStep ?? GLM_MAX_STEP
    this.statsLength = statsLength(init.design.p)
    this.numParams = this.statsLength + init.design.numFeatures + 1
    this.beta = new Float64Array(init.design.p)
    this.privacy = init.privacy ?? null
  }

  /** Whether the privacy budget is spent (the engine then sends nothing from this peer). */
  privacyExhausted (): boolean { return this.privacy?.exhausted === true }

  /** The largest ridge a private release added to this peer's Fisher information (0 without privacy). */
  privateRidge (): number { return this.largestRidge }

  /** Share of this peer's records its last private release clipped (0 without privacy): the clip's bias. */
  privateClippedShare (): number { return this.lastClippedShare }

  numExamples (): number { return this.count }

  /** The current coefficients (design order; 0 where aliased). */
  coefficients (): Float64Array { return this.beta.slice() }

  /** The coefficients of each evaluation, oldest first (the last HISTORY rounds): convergence traces. */
  history (): Float64Array[] { return this.trail.map((b) => b.slice()) }

  /** The estimate of the last Newton step (the end of the last complete phase; null before any). */
  steppedEstimate (): GlmStats | null { return this.stepped?.clone() ?? null }

  /** The last estimate of the network's average working statistics this peer stepped from (null before any). */
  networkEstimate (): GlmStats | null { return this.estimate?.clone() ?? null }

  /** The linear model of `beta` in the dataset model's layout (kernel of numFeatures, then the bias). */
  modelWeights (beta: Float64Array = this.beta): Float32Array {
    const d = this.design.numFeatures
    const out = new Float32Array(d + 1)
    for (let j = 0; j < this.design.p; j++) {
      const s = this.design.source[j]
      if (s < 0) out[d] = beta[j]; else out[s] = beta[j]
    }
    return out
  }

  private betaOfModel (model: ArrayLike<number>): Float64Array {
    const d = this.design.numFeatures
    const beta = new Float64Array(this.design.p)
    for (let j = 0; j < this.design.p; j++) {
      const s = this.design.source[j]
      beta[j] = s < 0 ? model[d] : model[s]
    }
    return beta
  }

  /** This peer's working statistics at (beta, b0): a private release under privacy; null once the budget is spent. */
  private evaluateAt (beta: Float64Array, b0: number): GlmStats | null {
    const dp = this.privacy
    if (dp == null) return workingStats(this.design, this.family, this.rows, beta, b0)
    if (dp.allowedSteps(1) === 0) { dp.record(0, 1); return null }
    const release = privateWorkingStats(this.design, this.family, this.rows, beta, b0, dp.dpSgd())
    dp.record(1)
    this.largestRidge = Math.max(this.largestRidge, release.ridge)
    this.lastClippedShare = release.clippedShare
    return release.stats
  }

  async train (_steps: number, options: AbortOptions = {}): Promise<TrainResult> {
    options.signal?.throwIfAborted()
    return this.trainSync()
  }

  /** Evaluates the working statistics at the current coefficients (one pass over the rows; none when unchanged). */
  trainSync (): TrainResult {
    this.trail.push(this.beta.slice())
    if (this.trail.length > HISTORY) this.trail.shift()
    if (this.evaluated != null && sameBeta(this.evaluatedAt, this.beta)) {
      // a mixing round: the statistics at these coefficients are already known
      return { steps: 0, loss: this.evaluated.n > 0 ? this.evaluated.deviance / this.evaluated.n : NaN, examples: 0 }
    }
    let s = this.evaluateAt(this.beta, this.nullIntercept)
    for (let h = 0; s != null && !(Number.isFinite(s.deviance) && s.score.every(Number.isFinite)); h++) {
      const prev = this.evaluatedAt
      if (prev == null || h >= GLM_MAX_HALVINGS) throw new GlmFitError('the local deviance is not finite at the current coefficients and step halving did not help')
      this.beta = this.beta.map((b, j) => (b + prev[j]) / 2)
      s = this.evaluateAt(this.beta, this.nullIntercept)
    }
    // the privacy budget is spent: no release, nothing more to send (the engine stops)
    if (s == null) return { steps: 0, loss: NaN, examples: 0 }
    this.evaluated = s
    this.evaluatedAt = this.beta.slice()
    return { steps: 1, loss: s.n > 0 ? s.deviance / s.n : NaN, examples: s.n }
  }

  /** [this peer's statistics at its last evaluation (a zero vector before any) | the model there]. */
  weights (): Float32Array {
    const out = new Float32Array(this.numParams)
    out.set(this.evaluated?.data ?? emptyWorking(this.family, this.design.p).data)
    out.set(this.modelWeights(this.evaluatedAt ?? this.beta), this.statsLength)
    return out
  }

  /**
   * [estimate | model at the last evaluation]: steps from the estimate (see the module comment). While this
   * peer's statistics in the estimate are those at beta = 0 (the first round), the step is the honest start
   * instead: the intercept at the link of the network's mean response, every other coefficient 0.
   */
  setWeights (weights: Float32Array): void {
    if (weights.length !== this.numParams) throw new GlmFitError(`setWeights: got ${weights.length} values, the exact GLM vector has ${this.numParams}`)
    const est = new GlmStats(Float64Array.from(weights.subarray(0, this.statsLength)))
    const mark = est.data[0]
    if (Math.abs(mark) !== GLM_WORKING_VERSION || !(est.n > 0)) return // no estimate yet (a fresh vector)
    est.data[0] = GLM_WORKING_VERSION
    const at = this.betaOfModel(weights.subarray(this.statsLength))
    if (this.evaluatedAt == null) this.beta = at // a restart (or a share before the first round: at = 0)
    this.estimate = est
    if (mark !== GLM_WORKING_VERSION) return // HOLD: a mixing round, the coefficients stay
    if ((this.evaluatedAt ?? at).every((b) => b === 0)) {
      try {
        const b0 = this.family.startIntercept(est.sumWY, est.sumW, est.sumWMu)
        this.beta = new Float64Array(this.design.p)
        if (this.design.intercept) { this.beta[0] = b0; this.nullIntercept = b0 }
      } catch (err) {
        if (!(err instanceof GlmFitError)) throw err // no positive response seen yet: stay at 0
      }
      return
    }
    const sol = solveWorking(est, { intercept: this.design.intercept })
    if (!sol.beta.every(Number.isFinite)) return
    this.stepped = est
    // a trust region around where we evaluated: early estimates mix few peers' rows and may be far off
    const from = this.evaluatedAt ?? at
    const m = this.maxStep
    this.beta = from.map((b, j) => sol.aliased[j] === 1 ? b : b + Math.max(-m, Math.min(m, sol.beta[j] - b)))
    if (this.design.intercept) this.nullIntercept = sol.nullIntercept
  }

  /**
   * Screens a share the rule received (share-bound.ts) against this peer's last evaluation: null when an honest
   * peer could have sent it, else what is wrong. `estimate`: the rule's running estimate before the share.
   */
  screenShare (share: GlmStats, estimate: GlmStats | null, bounds: ShareBounds): string | null {
    const unitDispersion = this.family.name === 'poisson' || this.family.name === 'binomial'
    // under privacy every slot of an honest share carries noise of std at most noiseMultiplier x clip (a convex
    // combination of releases): six of them widen each bound
    const dp = this.privacy?.dpSgd()
    const noise = dp != null ? 6 * dp.noiseMultiplier * sensitivity(dp.clip) : 0
    return screenShare(share, { own: this.evaluated, beta: this.evaluatedAt, estimate, unitDispersion }, { ...bounds, noise })
  }

  async evaluate (options: AbortOptions & { split?: 'local' | 'test' } = {}): Promise<MetricValues> {
    options.signal?.throwIfAborted()
    return this.evaluateModel?.(this.modelWeights(), options.split ?? 'local') ?? {}
  }
}
