/**
 * A peer's personal model over a `Model` (the selection rule is in personal.ts): the blend of its network and
 * local-only weights with the credibility z chosen on its own validation rows, its predictions, and its figures
 * on any rows beside the two models it blends.
 *
 * How the two models are blended depends on the model:
 * - linear in its parameters (logistic, softmax, Poisson GLM): parameter interpolation. The blend is again a GLM
 *   of the same design (one coefficient table, exportable as one model); on the log scale of a Poisson GLM it is
 *   a geometric blend of the two rate tables.
 * - hidden layers (MLPs): prediction blend on the mean scale (probabilities, expected counts), the credibility
 *   premium (1 - z) collective + z own. Two independently trained networks' parameters do not interpolate
 *   (hidden units are not aligned), so the personal model is the pair of models and z.
 */
import type { Dataset } from './dataset.js'
import type { Model } from './model.js'
import { computeMetrics } from './metrics.js'
import { BLEND_GRID, blendPredictions, blendWeights, chooseBlend, labelsCanTell, pairedDifference, rowContributions, selectionLoss } from './personal.js'
import { pairedAucDifference } from './auc-compare.js'

export type BlendMode = 'parameters' | 'predictions'

export interface PersonalModel {
  mode: BlendMode
  /** Credibility of the local-only model: 0 = the network model, 1 = the local-only model. */
  z: number
  network: Float32Array
  local: Float32Array
}

export interface PersonalChoice extends PersonalModel {
  /** The selection criterion (a metric name) and its values on the peer's own validation rows. */
  loss: string
  /** `canTell`: false when the rows cannot tell the models apart (personal.ts `labelsCanTell`): z 0 then. */
  validation: { rows: number, network: number, localOnly: number, personal: number, canTell: boolean }
}

/** Parameter interpolation for models linear in their parameters, prediction blend for the others. */
export function blendModeOf (model: Model): BlendMode {
  return model.hiddenSizes.length === 0 && model.describe().conv.length === 0 ? 'parameters' : 'predictions'
}

/** Predictions as computeMetrics takes them (binary: P(positive), also from a two-unit softmax). */
function predictFor (model: Model, dataset: Dataset, rows: Uint32Array, weights: Float32Array): Float32Array {
  const pred = model.predict(weights, dataset, rows)
  if (dataset.task !== 'binary' || model.outputDim !== 2) return pred
  const p = new Float32Array(rows.length)
  for (let i = 0; i < rows.length; i++) p[i] = pred[i * 2 + 1]
  return p
}

/** The weights of the personal model when it is one model (parameter blends, or z at either end), else null. */
export function personalWeights (pm: PersonalModel): Float32Array | null {
  if (pm.z === 0) return Float32Array.from(pm.network)
  if (pm.z === 1) return Float32Array.from(pm.local)
  return pm.mode === 'parameters' ? blendWeights(pm.network, pm.local, pm.z) : null
}

/** Predictions of the personal model on some rows (computeMetrics's form). */
export function predictPersonal (model: Model, dataset: Dataset, rows: Uint32Array, pm: PersonalModel): Float32Array {
  const w = personalWeights(pm)
  if (w != null) return predictFor(model, dataset, rows, w)
  return blendPredictions(predictFor(model, dataset, rows, pm.network), predictFor(model, dataset, rows, pm.local), pm.z)
}

interface Targets { y: Float32Array, exposure: Float32Array | null, weight: Float32Array | null }
function targets (dataset: Dataset, rows: Uint32Array): Targets {
  return {
    y: Float32Array.from(rows, (r) => dataset.y[r]),
    exposure: dataset.exposure != null ? Float32Array.from(rows, (r) => dataset.exposure![r]) : null,
    weight: dataset.weight != null ? Float32Array.from(rows, (r) => dataset.weight![r]) : null
  }
}

const metricsOf = (dataset: Dataset, t: Targets, pred: Float32Array): Record<string, number> =>
  computeMetrics(dataset.task, t.y, pred, { numClasses: dataset.numClasses, exposure: t.exposure, weight: t.weight })

/**
 * Chooses the personal model on `validation` rows: every z of `grid` (default 0, 0.1, ..., 1) scored by the
 * criterion, z by personal.ts `chooseBlend` (default: the one-standard-error rule); without validation rows
 * the network model (z = 0), and likewise when their labels cannot tell the models apart (`labelsCanTell`: one
 * row, or one class). The criterion is `metric` (the run's, the one the peer is judged by) when it is a mean
 * over rows (accuracy, logLoss, poissonDeviance, mse), else the task's loss (`selectionLoss`: e.g. for AUC).
 */
export function choosePersonal (model: Model, dataset: Dataset, validation: Uint32Array, network: Float32Array, local: Float32Array, options: { grid?: readonly number[], mode?: BlendMode, rule?: 'one-se' | 'min', metric?: { name: string, higherIsBetter: boolean } } = {}): PersonalChoice {
  const mode = options.mode ?? blendModeOf(model)
  // the criterion: the run's metric when it is a mean over rows (accuracy, logLoss, ...), else the task's loss
  const judged = options.metric != null && rowContributions(dataset.task, options.metric.name, [0], [0.5], { numClasses: dataset.numClasses }) != null ? options.metric : null
  const loss = judged?.name ?? selectionLoss(dataset.task)
  const sign = judged?.higherIsBetter === true ? -1 : 1
  const grid = [...new Set([0, 1, ...(options.grid ?? BLEND_GRID)])].sort((a, b) => a - b)
  if (validation.length === 0) return { mode, z: 0, network, local, loss, validation: { rows: 0, network: NaN, localOnly: NaN, personal: NaN, canTell: false } }
  const t = targets(dataset, validation)
  const canTell = labelsCanTell(t.y)
  const pn = mode === 'predictions' ? predictFor(model, dataset, validation, network) : null
  const pl = mode === 'predictions' ? predictFor(model, dataset, validation, local) : null
  const candidates = grid.map((z) => {
    const pred = pn != null && pl != null ? blendPredictions(pn, pl, z) : predictFor(model, dataset, validation, blendWeights(network, local, z))
    const rows = rowContributions(dataset.task, loss, t.y, pred, { numClasses: dataset.numClasses, weight: t.weight })
    if (rows != null && sign < 0) for (let i = 0; i < rows.length; i++) rows[i] = -rows[i]
    return { z, loss: sign * metricsOf(dataset, t, pred)[loss], rows: rows ?? undefined }
  })
  const c = chooseBlend(candidates, { rule: options.rule })
  const z = canTell ? c.z : 0
  const personal = canTell ? c.loss : c.networkLoss
  return { mode, z, network, local, loss, validation: { rows: validation.length, network: sign * c.networkLoss, localOnly: sign * c.localLoss, personal: sign * personal, canTell } }
}

/**
 * A comparison of the personal model with another on the same rows: mean difference and 95% half-width
 * (personal.ts for metrics that are means over rows; auc-compare.ts, DeLong, for AUC and Gini). `bounded`: a
 * class has a single row, so the interval uses the variance's upper bound (auc-compare.ts).
 */
export interface Paired { mean: number, halfWidth: number, bounded?: boolean }

/**
 * The paired difference a - b (positive: a better) of two binary models' AUC or Gini (2 AUC - 1) on the same
 * rows (DeLong); null for other metrics, weighted rows, or one class only.
 */
function pairedRankDifference (task: string, metric: string, y: Float32Array, weight: Float32Array | null, a: Float32Array, b: Float32Array): Paired | null {
  if (task !== 'binary' || weight != null || (metric !== 'auc' && metric !== 'gini')) return null
  const d = pairedAucDifference(y, a, b)
  if (d == null) return null
  const k = metric === 'gini' ? 2 : 1
  return { mean: k * d.mean, halfWidth: k * d.halfWidth, ...(d.bounded ? { bounded: true } : {}) }
}

export interface PersonalFigures {
  rows: number
  /** `metric` of the network, local-only and personal models on the rows. */
  network: number | null
  localOnly: number | null
  personal: number | null
  /**
   * Personal minus the other (positive: personal better), with its 95% half-width; null when `metric` has no
   * paired interval (neither a mean over rows nor a binary AUC / Gini on unweighted rows with both classes).
   */
  vsNetwork: Paired | null
  vsLocalOnly: Paired | null
}

/** The three models of a peer scored on `rows` by `metric` (higher or lower better), with paired intervals. */
export function evaluatePersonal (model: Model, dataset: Dataset, rows: Uint32Array, pm: PersonalModel, metric: { name: string, higherIsBetter: boolean }): PersonalFigures {
  if (rows.length === 0) return { rows: 0, network: null, localOnly: null, personal: null, vsNetwork: null, vsLocalOnly: null }
  const t = targets(dataset, rows)
  const preds = {
    network: predictFor(model, dataset, rows, pm.network),
    localOnly: predictFor(model, dataset, rows, pm.local),
    personal: null as Float32Array | null
  }
  preds.personal = pm.z === 0 ? preds.network : pm.z === 1 ? preds.localOnly : pm.mode === 'predictions' ? blendPredictions(preds.network, preds.localOnly, pm.z) : predictPersonal(model, dataset, rows, pm)
  const value = (p: Float32Array): number | null => { const v = metricsOf(dataset, t, p)[metric.name]; return typeof v === 'number' && Number.isFinite(v) ? v : null }
  const rc = (p: Float32Array): Float64Array | null => rowContributions(dataset.task, metric.name, t.y, p, { numClasses: dataset.numClasses, weight: t.weight })
  const [cn, cl, cp] = [rc(preds.network), rc(preds.localOnly), rc(preds.personal)]
  const vs = (other: Float32Array, co: Float64Array | null): Paired | null => cp != null && co != null
    ? pairedDifference(cp, co, metric.higherIsBetter)
    : pairedRankDifference(dataset.task, metric.name, t.y, t.weight, preds.personal as Float32Array, other)
  return {
    rows: rows.length,
    network: value(preds.network),
    localOnly: value(preds.localOnly),
    personal: value(preds.personal),
    vsNetwork: vs(preds.network, cn),
    vsLocalOnly: vs(preds.localOnly, cl)
  }
}
