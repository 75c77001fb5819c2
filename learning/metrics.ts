/**
 * Evaluation metrics, pure functions over plain arrays (no TF.js).
 *
 * Poisson deviance follows Noll, Salzmann and Wuthrich (2018): the unit deviance of a policy with count y and
 * expected count mu (= frequency x exposure) is 2 (mu - y - y log(mu / y)), with y log(y / mu) = 0 for y = 0;
 * `poissonDeviance` is its (weighted) mean over policies (they report it x 100, ~31.5 for a GLM),
 * `poissonDeviancePerExposure` is the total deviance divided by total exposure.
 */

export type Task = 'binary' | 'multiclass' | 'count' | 'regression'

export interface PrimaryMetric { name: string, higherIsBetter: boolean }

/** The metric each task is judged by when none is chosen. */
export function primaryMetric (task: Task): PrimaryMetric {
  switch (task) {
    case 'binary': return { name: 'accuracy', higherIsBetter: true }
    case 'multiclass': return { name: 'accuracy', higherIsBetter: true }
    case 'count': return { name: 'poissonDeviance', higherIsBetter: false }
    case 'regression': return { name: 'mse', higherIsBetter: false }
  }
}

/** Metrics a goal may be stated in (`metric:` in a scenario, `--metric`). */
export const GOAL_METRICS = ['accuracy', 'auc', 'gini', 'logLoss', 'poissonDeviance', 'devianceExplained', 'mse'] as const
export type GoalMetricName = typeof GOAL_METRICS[number]

/** The goal metrics each task has (what computeMetrics reports for it). */
export const TASK_METRICS: Record<Task, readonly GoalMetricName[]> = {
  binary: ['accuracy', 'auc', 'gini', 'logLoss'],
  multiclass: ['accuracy', 'logLoss'],
  count: ['poissonDeviance', 'devianceExplained', 'gini'],
  regression: ['mse']
}

export const HIGHER_IS_BETTER = new Set(['accuracy', 'auc', 'gini', 'devianceExplained', 'r2', 'predictedOverObserved'])

/** A metric that does not exist, or that the task does not have. */
export class UnknownMetricError extends Error {
  static override name = 'UnknownMetricError'
  override name = 'UnknownMetricError'
}

/** The goal metric `name` for a task (its direction), or the task's primary metric without one. */
export function goalMetric (task: Task, name?: string | null): PrimaryMetric {
  if (name == null || name === '') return primaryMetric(task)
  const allowed = TASK_METRICS[task]
  if (!(allowed as readonly string[]).includes(name)) {
    throw new UnknownMetricError(`metric '${name}' is not one of a ${task} task's: ${allowed.join(', ')}`)
  }
  return { name, higherIsBetter: HIGHER_IS_BETTER.has(name) }
}

type Num = ArrayLike<number>
const EPS = 1e-7

function wsum (w: Num | null | undefined, n: number): number {
  if (w == null) return n
  let s = 0
  for (let i = 0; i < n; i++) s += w[i]
  return s
}

/** Binary: share of rows where (p >= 0.5) matches y in {0,1}. */
export function binaryAccuracy (y: Num, p: Num, w?: Num | null): number {
  let ok = 0
  for (let i = 0; i < y.length; i++) if ((p[i] >= 0.5 ? 1 : 0) === (y[i] >= 0.5 ? 1 : 0)) ok += w == null ? 1 : w[i]
  return y.length === 0 ? NaN : ok / wsum(w, y.length)
}

/** Binary cross-entropy (natural log), probabilities clipped to [1e-7, 1 - 1e-7]. */
export function binaryLogLoss (y: Num, p: Num, w?: Num | null): number {
  let s = 0
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(1 - EPS, Math.max(EPS, p[i]))
    s += -(y[i] * Math.log(q) + (1 - y[i]) * Math.log(1 - q)) * (w == null ? 1 : w[i])
  }
  return y.length === 0 ? NaN : s / wsum(w, y.length)
}

/** Row indices ordered by ascending score (a stable order: ties keep row order). */
export function scoreOrder (score: Num): Uint32Array {
  const order = Uint32Array.from({ length: score.length }, (_, i) => i)
  return order.sort((a, b) => score[a] - score[b] || a - b)
}

/**
 * ROC AUC (Mann-Whitney, ties counted half) with row weights, over rows already in ascending score order
 * (`scoreOrder`): one pass, so many reweightings of one model (bootstrap) sort once. NaN with one class only.
 */
export function rocAucOrdered (y: Num, score: Num, order: ArrayLike<number>, w?: Num | null): number {
  let pos = 0; let neg = 0; let pairs = 0
  let i = 0
  const n = order.length
  while (i < n) {
    let j = i
    let gp = 0; let gn = 0
    while (j < n && score[order[j]] === score[order[i]]) {
      const r = order[j]
      const wr = w == null ? 1 : w[r]
      if (y[r] >= 0.5) gp += wr; else gn += wr
      j++
    }
    pairs += gp * neg + 0.5 * gp * gn
    pos += gp; neg += gn
    i = j
  }
  if (!(pos > 0) || !(neg > 0)) return NaN
  return pairs / (pos * neg)
}

/** ROC AUC (Mann-Whitney, ties counted half). NaN when only one class is present. */
export function rocAuc (y: Num, score: Num): number {
  return rocAucOrdered(y, score, scoreOrder(score))
}

/**
 * Gini index of a frequency model (the actuaries' ordered Lorenz curve): policies ranked from the highest predicted
 * frequency (mu / exposure) down; the concentration curve plots the share of observed claims against the share of
 * exposure; Gini = 2 x the area under it - 1 (0 for a model that ranks no better than one frequency for all, 1 at
 * most). `orderAsc` is the rows in ascending predicted frequency (scoreOrder of mu / exposure); w weights rows.
 */
export function poissonGiniOrdered (y: Num, freq: Num, exposure: Num | null | undefined, orderAsc: ArrayLike<number>, w?: Num | null): number {
  let ty = 0; let tv = 0
  const n = orderAsc.length
  for (let k = 0; k < n; k++) {
    const r = orderAsc[k]
    const wr = w == null ? 1 : w[r]
    ty += wr * y[r]; tv += wr * (exposure == null ? 1 : exposure[r])
  }
  if (!(ty > 0) || !(tv > 0)) return NaN
  let area = 0; let cy = 0
  let i = n - 1
  while (i >= 0) {
    let j = i
    let gy = 0; let gv = 0
    while (j >= 0 && freq[orderAsc[j]] === freq[orderAsc[i]]) {
      const r = orderAsc[j]
      const wr = w == null ? 1 : w[r]
      gy += wr * y[r]; gv += wr * (exposure == null ? 1 : exposure[r])
      j--
    }
    // a tie group is one straight segment of the curve (trapezoid)
    area += (gv / tv) * (cy + gy / 2) / ty
    cy += gy
    i = j
  }
  return 2 * area - 1
}

function poissonGiniWeighted (y: Num, mu: Num, exposure: Num | null | undefined, w: Num | null): number {
  const freq = Float64Array.from({ length: y.length }, (_, i) => mu[i] / (exposure == null ? 1 : Math.max(exposure[i], 1e-12)))
  return poissonGiniOrdered(y, freq, exposure, scoreOrder(freq), w)
}

/** Gini index of expected counts mu (frequency x exposure) against counts y (see poissonGiniOrdered). */
export function poissonGini (y: Num, mu: Num, exposure?: Num | null): number {
  return poissonGiniWeighted(y, mu, exposure, null)
}

/** Multiclass accuracy; probs is row-major n x k, y holds class indices. */
export function multiclassAccuracy (y: Num, probs: Num, k: number, w?: Num | null): number {
  let ok = 0
  for (let i = 0; i < y.length; i++) {
    let best = 0
    for (let c = 1; c < k; c++) if (probs[i * k + c] > probs[i * k + best]) best = c
    if (best === y[i]) ok += w == null ? 1 : w[i]
  }
  return y.length === 0 ? NaN : ok / wsum(w, y.length)
}

/** Multiclass cross-entropy (natural log); probabilities clipped at 1e-7. */
export function multiclassLogLoss (y: Num, probs: Num, k: number, w?: Num | null): number {
  let s = 0
  for (let i = 0; i < y.length; i++) s += -Math.log(Math.max(EPS, probs[i * k + y[i]])) * (w == null ? 1 : w[i])
  return y.length === 0 ? NaN : s / wsum(w, y.length)
}

/** Unit Poisson deviance 2 (mu - y - y log(mu / y)); 2 mu when y = 0. */
export function poissonUnitDeviance (y: number, mu: number): number {
  const m = Math.max(mu, 1e-12)
  return y > 0 ? 2 * (m - y - y * Math.log(m / y)) : 2 * m
}

export interface PoissonMetrics {
  /** Mean unit deviance per policy (the literature's figure, x 100 in their tables). */
  poissonDeviance: number
  /** Total deviance / total exposure. */
  poissonDeviancePerExposure: number
  /** Mean unit deviance of the null model (one frequency for everyone). */
  nullDeviance: number
  /** 1 - deviance / null deviance. */
  devianceExplained: number
  /** Predicted / observed claim count (calibration). */
  predictedOverObserved: number
}

/**
 * Poisson metrics from counts y, expected counts mu (frequency x exposure) and exposures.
 * The null model predicts `nullFrequency x exposure`; by default the observed frequency sum(y) / sum(exposure).
 */
export function poissonMetrics (y: Num, mu: Num, exposure?: Num | null, w?: Num | null, nullFrequency?: number): PoissonMetrics {
  const n = y.length
  let sy = 0; let sv = 0; let smu = 0
  for (let i = 0; i < n; i++) {
    const wi = w == null ? 1 : w[i]
    sy += y[i] * wi; sv += (exposure == null ? 1 : exposure[i]) * wi; smu += mu[i] * wi
  }
  const lambda0 = nullFrequency ?? (sv > 0 ? sy / sv : 0)
  let dev = 0; let dev0 = 0
  for (let i = 0; i < n; i++) {
    const wi = w == null ? 1 : w[i]
    const v = exposure == null ? 1 : exposure[i]
    dev += poissonUnitDeviance(y[i], mu[i]) * wi
    dev0 += poissonUnitDeviance(y[i], lambda0 * v) * wi
  }
  const sw = wsum(w, n)
  return {
    poissonDeviance: dev / sw,
    poissonDeviancePerExposure: dev / sv,
    nullDeviance: dev0 / sw,
    devianceExplained: dev0 > 0 ? 1 - dev / dev0 : NaN,
    predictedOverObserved: sy > 0 ? smu / sy : NaN
  }
}

/** Mean squared error, root MSE and R^2. */
export function regressionMetrics (y: Num, p: Num, w?: Num | null): { mse: number, rmse: number, r2: number } {
  const n = y.length
  const sw = wsum(w, n)
  let my = 0
  for (let i = 0; i < n; i++) my += y[i] * (w == null ? 1 : w[i])
  my /= sw
  let se = 0; let st = 0
  for (let i = 0; i < n; i++) {
    const wi = w == null ? 1 : w[i]
    se += (y[i] - p[i]) ** 2 * wi
    st += (y[i] - my) ** 2 * wi
  }
  return { mse: se / sw, rmse: Math.sqrt(se / sw), r2: st > 0 ? 1 - se / st : NaN }
}

/**
 * All metrics of a task from predictions: binary -> p(positive) per row; multiclass -> n x k probabilities;
 * count -> expected counts (frequency x exposure); regression -> predicted values. A count task's Gini needs a
 * sort of the rows: only with `gini: true` (hundreds of peers evaluate every few rounds); the bootstrap figures
 * (bootstrap.ts) always have it.
 */
export function computeMetrics (task: Task, y: Num, pred: Num, options: { numClasses?: number, exposure?: Num | null, weight?: Num | null, nullFrequency?: number, gini?: boolean } = {}): Record<string, number> {
  const w = options.weight ?? null
  switch (task) {
    case 'binary': {
      const auc = rocAucOrdered(y, pred, scoreOrder(pred), w)
      return { accuracy: binaryAccuracy(y, pred, w), logLoss: binaryLogLoss(y, pred, w), auc, gini: 2 * auc - 1, examples: y.length }
    }
    case 'multiclass': {
      const k = options.numClasses ?? Math.round(pred.length / Math.max(1, y.length))
      return { accuracy: multiclassAccuracy(y, pred, k, w), logLoss: multiclassLogLoss(y, pred, k, w), examples: y.length }
    }
    case 'count':
      return { ...poissonMetrics(y, pred, options.exposure, w, options.nullFrequency), ...(options.gini === true ? { gini: poissonGiniWeighted(y, pred, options.exposure, w) } : {}), examples: y.length }
    case 'regression':
      return { ...regressionMetrics(y, pred, w), examples: y.length }
  }
}
