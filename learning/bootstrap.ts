/**
 * Bootstrap intervals over test rows: how much a figure would move on another test set of the same size.
 *
 * A resample draws n rows with replacement (seeded); it is kept as a count per row, so one model's metrics under
 * B resamples are B weighted sums over per-row terms computed once (`RowTerms`): deviance, log loss and accuracy
 * are weighted means of per-row values, the Poisson null deviance is a closed form in a few weighted sums (its
 * frequency is the resample's own), AUC and Gini are one pass over the rows in an order sorted once. Every model
 * evaluated on the same rows with the same seed sees the SAME resamples, so differences between models (the gap
 * a goal bounds) get paired intervals.
 */
import { createRng } from '../protocol/rng.js'
import { poissonGiniOrdered, poissonUnitDeviance, rocAucOrdered, scoreOrder, type Task } from './metrics.js'

type Num = ArrayLike<number>
const EPS = 1e-7

/** B resamples of n rows: counts[b][i] = how often row i was drawn in resample b. */
export interface Resamples { n: number, counts: Uint8Array[] }

/** B multinomial resamples of n rows, deterministic from the seed. */
export function drawResamples (n: number, B: number, seed: number | string): Resamples {
  const rng = createRng(seed).fork('bootstrap')
  const counts: Uint8Array[] = []
  for (let b = 0; b < B; b++) {
    const c = new Uint8Array(n)
    for (let k = 0; k < n; k++) {
      const i = Math.floor(rng.next() * n)
      if (c[i] < 255) c[i]++
    }
    counts.push(c)
  }
  return { n, counts }
}

/** Per-row terms of one model's predictions, from which every metric of the task follows under any row weights. */
export interface RowTerms {
  task: Task
  y: Num
  /** Optional sample weight per row (multiplies the resample counts). */
  weight: Num | null
  /** Per-row values whose weighted mean is a metric: accuracy, logLoss, poissonDeviance, mse. */
  means: Record<string, Float64Array>
  /** Binary: P(positive) and its ascending order (AUC); count: predicted frequency and its order (Gini). */
  score?: Float64Array
  order?: Uint32Array
  /** Count: expected counts and exposures. */
  mu?: Num
  exposure?: Num | null
}

/**
 * Per-row terms from predictions as `computeMetrics` takes them: binary P(positive); multiclass n x k
 * probabilities; count expected counts (with exposures); regression values.
 */
export function rowTerms (task: Task, y: Num, pred: Num, options: { numClasses?: number, exposure?: Num | null, weight?: Num | null } = {}): RowTerms {
  const n = y.length
  const weight = options.weight ?? null
  const means: Record<string, Float64Array> = {}
  if (task === 'binary') {
    const acc = new Float64Array(n); const ll = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const q = Math.min(1 - EPS, Math.max(EPS, pred[i]))
      acc[i] = (pred[i] >= 0.5 ? 1 : 0) === (y[i] >= 0.5 ? 1 : 0) ? 1 : 0
      ll[i] = -(y[i] * Math.log(q) + (1 - y[i]) * Math.log(1 - q))
    }
    means.accuracy = acc; means.logLoss = ll
    const score = Float64Array.from({ length: n }, (_, i) => pred[i])
    return { task, y, weight, means, score, order: scoreOrder(score) }
  }
  if (task === 'multiclass') {
    const k = options.numClasses ?? Math.round(pred.length / Math.max(1, n))
    const acc = new Float64Array(n); const ll = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      let best = 0
      for (let c = 1; c < k; c++) if (pred[i * k + c] > pred[i * k + best]) best = c
      acc[i] = best === y[i] ? 1 : 0
      ll[i] = -Math.log(Math.max(EPS, pred[i * k + y[i]]))
    }
    means.accuracy = acc; means.logLoss = ll
    return { task, y, weight, means }
  }
  if (task === 'count') {
    const exposure = options.exposure ?? null
    const dev = new Float64Array(n)
    const score = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      dev[i] = poissonUnitDeviance(y[i], pred[i])
      score[i] = pred[i] / (exposure == null ? 1 : Math.max(exposure[i], 1e-12))
    }
    means.poissonDeviance = dev
    return { task, y, weight, means, score, order: scoreOrder(score), mu: pred, exposure }
  }
  const se = new Float64Array(n)
  for (let i = 0; i < n; i++) se[i] = (y[i] - pred[i]) ** 2
  means.mse = se
  return { task, y, weight, means }
}

/**
 * Every metric of the task under row weights `w` (resample counts; null = each row once), as computeMetrics
 * reports them (binary: accuracy, logLoss, auc, gini; multiclass: accuracy, logLoss; count: poissonDeviance,
 * devianceExplained, predictedOverObserved, gini; regression: mse).
 */
export function metricsAt (t: RowTerms, counts: Num | null): Record<string, number> {
  const n = t.y.length
  let w: Num | null = counts
  if (t.weight != null) {
    const ww = new Float64Array(n)
    for (let i = 0; i < n; i++) ww[i] = (counts == null ? 1 : counts[i]) * t.weight[i]
    w = ww
  }
  let sw = 0
  for (let i = 0; i < n; i++) sw += w == null ? 1 : w[i]
  const out: Record<string, number> = {}
  for (const [name, v] of Object.entries(t.means)) {
    let s = 0
    for (let i = 0; i < n; i++) s += v[i] * (w == null ? 1 : w[i])
    out[name] = sw > 0 ? s / sw : NaN
  }
  if (t.task === 'binary') {
    const auc = rocAucOrdered(t.y, t.score!, t.order!, w)
    out.auc = auc; out.gini = 2 * auc - 1
  } else if (t.task === 'count') {
    // null model: the resample's own frequency lambda0 = sum y / sum v, its deviance in closed form
    let sy = 0; let sv = 0; let smu = 0; let sylogyv = 0
    for (let i = 0; i < n; i++) {
      const wi = w == null ? 1 : w[i]
      if (wi === 0) continue
      const y = t.y[i]
      const v = t.exposure == null ? 1 : t.exposure[i]
      sy += wi * y; sv += wi * v; smu += wi * t.mu![i]
      if (y > 0) sylogyv += wi * y * Math.log(y / Math.max(v, 1e-12))
    }
    const l0 = sv > 0 ? sy / sv : 0
    // sum w d0 = 2 sum w (l0 v - y + y log(y / (l0 v))) = 2 (l0 sv - sy + sum w y log(y / v) - sy log l0)
    const dev0 = l0 > 0 ? 2 * (l0 * sv - sy + sylogyv - sy * Math.log(l0)) : 2 * Math.max(l0, 1e-12) * sv
    out.devianceExplained = dev0 > 0 ? 1 - out.poissonDeviance * sw / dev0 : NaN
    out.predictedOverObserved = sy > 0 ? smu / sy : NaN
    out.gini = poissonGiniOrdered(t.y, t.score!, t.exposure, t.order!, w)
  }
  return out
}

/** Every metric of the task under each resample: name -> B values. */
export function resampledMetrics (t: RowTerms, resamples: Resamples): Record<string, Float64Array> {
  if (resamples.n !== t.y.length) throw new RangeError(`resamples are of ${resamples.n} rows, the predictions of ${t.y.length}`)
  const B = resamples.counts.length
  const out: Record<string, Float64Array> = {}
  resamples.counts.forEach((c, b) => {
    for (const [name, v] of Object.entries(metricsAt(t, c))) (out[name] ??= new Float64Array(B))[b] = v
  })
  return out
}

/** The central `level` share of finite values (percentile interval); null without finite values. */
export function percentileInterval (values: ArrayLike<number>, level = 0.95): [number, number] | null {
  const v = Array.from(values).filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return null
  const at = (q: number): number => {
    const pos = (v.length - 1) * q
    const lo = Math.floor(pos); const hi = Math.ceil(pos)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)
  }
  const tail = (1 - level) / 2
  return [at(tail), at(1 - tail)]
}
