/**
 * Newton (Fisher scoring, = IRLS) for GLMs from summed per-peer statistics, without pooling rows:
 * beta_{k+1} = beta_k + I(beta_k)^-1 U(beta_k), solved by a dense Cholesky that aliases dependent columns.
 *
 * Each round, every peer computes its statistics at the solver's current `beta` (and the intercept-only model
 * at `nullIntercept`); the summed statistics go to `update`. Round 0 is at beta = 0 and only sets the honest
 * start, the intercept at the link of the data's own mean (log of total y over total exposure for a log link),
 * every other coefficient 0. Convergence is R's: |dev - devOld| / (|dev| + 0.1) < epsilon (glm.control: 1e-8,
 * at most 25 iterations). A step that lands where the deviance is not finite is halved, as R does.
 *
 * An optional ridge penalizes the non-intercept coefficients (deviance + ridge * |beta|^2, on the design's
 * scale); it is 0 by default and stated in the fit when used.
 */
import type { GlmFamily } from './family.js'
import type { GlmDesign } from './design.js'
import { computeStats, type GlmRows, type GlmStats } from './stats.js'
import { cholesky, choleskyInverse, choleskySolve, unpackSymmetric } from './cholesky.js'
import { GlmFitError } from './errors.js'
import { GLM_ALIAS_TOLERANCE, GLM_EPSILON, GLM_MAX_HALVINGS, GLM_MAX_ITERATIONS } from './constants.js'

export interface SolverOptions {
  /** Relative deviance change that stops the iterations (R: 1e-8). */
  epsilon?: number
  /** Most Newton steps (R: 25). */
  maxIterations?: number
  /** Ridge on the non-intercept coefficients (default 0: the maximum-likelihood fit). */
  ridge?: number
  /** Aliasing tolerance of the Cholesky (see constants.ts). */
  aliasTolerance?: number
  maxHalvings?: number
}

/** The solved fit: what the summary and an export read. */
export interface GlmFit {
  readonly family: GlmFamily
  readonly names: readonly string[]
  /** Coefficients; NaN for aliased columns (R's NA). */
  readonly coefficients: Float64Array
  readonly aliased: Uint8Array
  readonly rank: number
  /** Inverse of the Fisher information at the coefficients (row-major p x p), before any dispersion. */
  readonly covUnscaled: Float64Array
  readonly ridge: number
  readonly converged: boolean
  /** Newton steps taken. */
  readonly iterations: number
  /** Statistics evaluations (communication rounds): the start round plus one per step and halving. */
  readonly rounds: number
  /** The summed statistics at the coefficients (deviance, Pearson chi2, totals, null deviance). */
  readonly stats: GlmStats
}

/** The Newton iteration as a state machine driven by summed statistics, one call per round. */
export class GlmSolver {
  readonly design: GlmDesign
  readonly family: GlmFamily
  private readonly epsilon: number
  private readonly maxIterations: number
  private readonly ridge: number
  private readonly aliasTolerance: number
  private readonly maxHalvings: number
  private _beta: Float64Array
  private previous: Float64Array | null = null
  private _nullIntercept = 0
  private objectiveOld = NaN
  private halvings = 0
  private started = false
  private last: GlmStats | null = null
  private lastAliased: Uint8Array | null = null
  private _done = false
  private _converged = false
  private _iterations = 0
  private _rounds = 0

  constructor (design: GlmDesign, family: GlmFamily, options: SolverOptions = {}) {
    this.design = design
    this.family = family
    this.epsilon = options.epsilon ?? GLM_EPSILON
    this.maxIterations = options.maxIterations ?? GLM_MAX_ITERATIONS
    this.ridge = options.ridge ?? 0
    this.aliasTolerance = options.aliasTolerance ?? GLM_ALIAS_TOLERANCE
    this.maxHalvings = options.maxHalvings ?? GLM_MAX_HALVINGS
    if (!(this.ridge >= 0) || !Number.isFinite(this.ridge)) throw new GlmFitError(`ridge must be a non-negative number, got ${this.ridge}`)
    this._beta = new Float64Array(design.p)
  }

  /** Where peers evaluate their statistics this round (do not modify). */
  get beta (): Float64Array { return this._beta }
  /** The intercept-only model's intercept, evaluated alongside for the null deviance. */
  get nullIntercept (): number { return this._nullIntercept }
  get done (): boolean { return this._done }
  get converged (): boolean { return this._converged }
  get iterations (): number { return this._iterations }
  get rounds (): number { return this._rounds }

  private penalty (beta: Float64Array): number {
    if (this.ridge === 0) return 0
    let s = 0
    for (let j = this.design.intercept ? 1 : 0; j < beta.length; j++) s += beta[j] * beta[j]
    return this.ridge * s
  }

  private factor (stats: GlmStats): { chol: ReturnType<typeof cholesky>, score: Float64Array } {
    const p = this.design.p
    const a = unpackSymmetric(stats.info, p)
    const score = Float64Array.from(stats.score)
    if (this.ridge > 0) {
      // penalized log-likelihood l - ridge/2 |beta|^2 per unit deviance scale: dev + ridge |beta|^2
      for (let j = this.design.intercept ? 1 : 0; j < p; j++) { a[j * p + j] += this.ridge; score[j] -= this.ridge * this._beta[j] }
    }
    return { chol: cholesky(a, p, this.aliasTolerance), score }
  }

  /** Feeds the summed statistics at (beta, nullIntercept). Returns true while another round is needed. */
  update (stats: GlmStats): boolean {
    if (this._done) throw new GlmFitError('the solver has finished; start a new one')
    if (stats.p !== this.design.p) throw new GlmFitError(`statistics for ${stats.p} columns, the design has ${this.design.p}`)
    this._rounds++
    if (!this.started) {
      if (!(stats.n > 0)) throw new GlmFitError('no rows with positive weight: nothing to fit')
      const b0 = this.family.startIntercept(stats.sumWY, stats.sumW, stats.sumWMu)
      this._beta = new Float64Array(this.design.p)
      if (this.design.intercept) { this._beta[0] = b0; this._nullIntercept = b0 }
      this.started = true
      return true
    }
    const finite = Number.isFinite(stats.deviance) && stats.score.every(Number.isFinite)
    if (!finite) {
      if (this.previous == null || this.halvings >= this.maxHalvings) throw new GlmFitError(`the deviance is not finite at round ${this._rounds} and step halving did not help; no valid fit`)
      this.halvings++
      const prev = this.previous
      this._beta = this._beta.map((b, j) => (b + prev[j]) / 2)
      return true
    }
    this.halvings = 0
    this.last = stats
    const objective = stats.deviance + this.penalty(this._beta)
    if (Number.isFinite(this.objectiveOld) && Math.abs(objective - this.objectiveOld) / (Math.abs(objective) + 0.1) < this.epsilon) {
      this._converged = true
      this._done = true
      return false
    }
    if (this._iterations >= this.maxIterations) { this._done = true; return false }
    const { chol, score } = this.factor(stats)
    const delta = choleskySolve(chol, score)
    this.previous = this._beta
    this._beta = this._beta.map((b, j) => chol.aliased[j] === 1 ? 0 : b + delta[j])
    this.lastAliased = chol.aliased
    if (this.design.intercept && stats.nullInfo > 0) this._nullIntercept += stats.nullScore / stats.nullInfo
    this._iterations++
    this.objectiveOld = objective
    return true
  }

  /** The fit at the last evaluated coefficients (after `done`, or to inspect a run cut short). */
  result (): GlmFit {
    const stats = this.last
    if (stats == null) throw new GlmFitError('no statistics at a fitted point yet')
    const { chol } = this.factor(stats)
    const aliased = Uint8Array.from(chol.aliased, (a, j) => a | (this.lastAliased?.[j] ?? 0))
    const coefficients = this._beta.map((b, j) => aliased[j] === 1 ? NaN : b)
    return {
      family: this.family,
      names: this.design.names,
      coefficients,
      aliased,
      rank: chol.rank,
      covUnscaled: choleskyInverse(chol),
      ridge: this.ridge,
      converged: this._converged,
      iterations: this._iterations,
      rounds: this._rounds,
      stats
    }
  }
}

/** Runs the solver to the end with a synchronous evaluator (one call per round). */
export function fitGlm (design: GlmDesign, family: GlmFamily, evaluate: (beta: Float64Array, nullIntercept: number) => GlmStats, options: SolverOptions = {}): GlmFit {
  const solver = new GlmSolver(design, family, options)
  while (solver.update(evaluate(solver.beta, solver.nullIntercept))) { /* next round */ }
  return solver.result()
}

/** The pooled fit on one set of rows (the centralized reference). */
export function fitPooled (design: GlmDesign, family: GlmFamily, rows: GlmRows, options: SolverOptions = {}): GlmFit {
  return fitGlm(design, family, (beta, b0) => computeStats(design, family, rows, beta, b0), options)
}
