/**
 * Personal models (issue 16): each peer ends with a model chosen on its OWN validation rows (held out from its
 * training shard, seeded), a credibility-weighted blend of the network model and its local-only model, as an
 * actuary weighs a portfolio's own experience against the collective's:
 *
 *   personal(z) = (1 - z) x network + z x local,   z in BLEND_GRID = 0, 0.1, ..., 1
 *
 * z = 0 is the network model, z = 1 the local-only model. The choice (`chooseBlend`) is the smallest z whose
 * validation loss is within one standard error of the lowest (both ends are always candidates): on its own
 * validation rows the personal model is never worse than the better of the two models by more than that
 * standard error, and a peer whose few rows cannot tell the models apart keeps the network model. The loss is
 * the task's proper scoring rule (Poisson deviance, log loss, squared error): what the models were trained on,
 * smoother than accuracy on a few rows, and the only choice when the goal metric is rank-based (AUC, Gini: not a
 * mean over rows, undefined on rows of one class).
 *
 * Validation rows that cannot tell keep the network model without a comparison (`labelsCanTell`, and the
 * one-SE rule below two rows): rows whose labels all agree (a small shard's 5 validation rows, all below 50K)
 * reward whichever model leans further towards that label, not the one that prices or ranks better, and one row
 * has no standard error.
 *
 * Pure functions over plain arrays (no TF.js); `personal-model.ts` applies them to a `Model`.
 */
import { createRng } from '../protocol/rng.js'
import { poissonUnitDeviance, type Task } from './metrics.js'

export class PersonalSelectionError extends Error {
  static override name = 'PersonalSelectionError'
  override name = 'PersonalSelectionError'
}

/** The credibility grid: 0 (network) to 1 (local only) in steps of 0.1. */
export const BLEND_GRID: readonly number[] = Object.freeze(Array.from({ length: 11 }, (_, i) => i / 10))

/** Default share of a peer's shard held out as its own validation rows. */
export const DEFAULT_VALIDATION_FRACTION = 0.2

/**
 * Splits a peer's rows into training rows and own validation rows (a seeded `fraction`, at least one row each
 * way when there are two or more rows; none held out below two rows or at fraction 0). Both sorted.
 */
export function holdOutRows (rows: Uint32Array, fraction: number, seed: number | string): { train: Uint32Array, validation: Uint32Array } {
  if (!(fraction >= 0 && fraction < 1)) throw new PersonalSelectionError(`validation fraction must be in [0, 1), got ${fraction}`)
  if (fraction === 0 || rows.length < 2) return { train: Uint32Array.from(rows), validation: new Uint32Array(0) }
  const order = createRng(seed).fork('personal-validation').shuffle(Array.from(rows))
  const nv = Math.max(1, Math.min(rows.length - 1, Math.round(rows.length * fraction)))
  return { train: Uint32Array.from(order.slice(nv)).sort(), validation: Uint32Array.from(order.slice(0, nv)).sort() }
}

/** Parameter interpolation (1 - z) network + z local: for models linear in their parameters (GLMs). */
export function blendWeights (network: Float32Array, local: Float32Array, z: number): Float32Array {
  if (network.length !== local.length) throw new PersonalSelectionError(`cannot blend ${network.length} with ${local.length} parameters`)
  const out = new Float32Array(network.length)
  for (let i = 0; i < out.length; i++) out[i] = (1 - z) * network[i] + z * local[i]
  return out
}

/** Prediction blend on the mean scale (probabilities, expected counts): for networks with hidden layers. */
export function blendPredictions (network: ArrayLike<number>, local: ArrayLike<number>, z: number): Float32Array {
  if (network.length !== local.length) throw new PersonalSelectionError(`cannot blend ${network.length} with ${local.length} predictions`)
  const out = new Float32Array(network.length)
  for (let i = 0; i < out.length; i++) out[i] = (1 - z) * network[i] + z * local[i]
  return out
}

/**
 * Whether validation rows with labels `y` can tell two models apart: at least two rows and at least two label
 * values (both classes; not every count zero). Otherwise the peer keeps the network model.
 */
export function labelsCanTell (y: ArrayLike<number>): boolean {
  if (y.length < 2) return false
  for (let i = 1; i < y.length; i++) if (y[i] !== y[0]) return true
  return false
}

/** The validation loss a task's personal model is chosen by. */
export function selectionLoss (task: Task): 'poissonDeviance' | 'logLoss' | 'mse' {
  return task === 'count' ? 'poissonDeviance' : task === 'regression' ? 'mse' : 'logLoss'
}

export interface BlendChoice {
  z: number
  loss: number
  /** Validation loss of the network model (z = 0) and of the local-only model (z = 1). */
  networkLoss: number
  localLoss: number
  /** The z of the lowest loss (the choice under `rule: 'min'`). */
  bestZ: number
}

export interface BlendCandidate {
  z: number
  /** Mean validation loss of the blend. */
  loss: number
  /** Its per-row losses on the validation rows (same rows, same order for every candidate): enables the 1-SE rule. */
  rows?: ArrayLike<number>
}

/**
 * The credibility z from `candidates` (which must include z = 0 and z = 1); a non-finite loss never wins.
 * - `rule: 'one-se'` (default when every candidate has its row losses): a peer leaves the network model only when
 *   its validation rows show it worse than the best candidate beyond their paired 95% interval (the network
 *   model's loss above the best's by more than 1.96 standard errors of the paired per-row difference: a
 *   one-sided test at 2.5%); then the SMALLEST z whose loss is within one standard error of the lowest (the SE
 *   of the paired difference), Breiman's one-standard-error rule. Credibility grows with evidence, as
 *   Buhlmann's n / (n + k) does, and on the validation rows the choice is never worse than the best candidate
 *   by more than one standard error. Below two rows there is no standard error: the network model (z = 0).
 *   Why the gate: the one-SE rule alone moves a peer whose models are equally good at least one time in six (a
 *   one-sided 1-SE excess; more with the best of 11 blends to pick from), and on Adult a US peer's 167 rows moved it to
 *   z 0.6, 0.26 AUC points (5.8 SE) behind the network model on 14,662 US test rows (BENCHMARKS.md session 10). Why the
 *   paired SE, not the best candidate's own SE (ESL 7.10): blends of two models differ by nearly the same amount
 *   on every row, so the rows' spread, common to all of them, says nothing about which is better; with it a
 *   region claiming twice as often as the rest kept z 0.2 and stayed 4.5% worse than its local model
 *   (test/simulations/personal.test.ts).
 * - `rule: 'min'`: the lowest loss (ties within 1e-12 relative to the smaller z): never worse than either model
 *   on the validation rows, but on a few dozen rows it chases their noise.
 */
export function chooseBlend (candidates: readonly BlendCandidate[], options: { rule?: 'one-se' | 'min' } = {}): BlendChoice {
  const at = (z: number): number => {
    const c = candidates.find((x) => x.z === z)
    if (c == null) throw new PersonalSelectionError(`the candidates must include z = ${z} (the ${z === 0 ? 'network' : 'local-only'} model)`)
    return c.loss
  }
  const networkLoss = at(0)
  const localLoss = at(1)
  const sorted = [...candidates].sort((a, b) => a.z - b.z)
  let best: BlendCandidate | null = null
  for (const c of sorted) {
    if (!Number.isFinite(c.loss)) continue
    if (best == null || c.loss < best.loss - 1e-12 * Math.abs(best.loss)) best = c
  }
  // no finite loss anywhere (no validation rows): keep the network model
  if (best == null) return { z: 0, loss: NaN, networkLoss, localLoss, bestZ: 0 }
  const rule = options.rule ?? (candidates.every((c) => c.rows != null) ? 'one-se' : 'min')
  if (rule === 'min') return { z: best.z, loss: best.loss, networkLoss, localLoss, bestZ: best.z }
  const bestRows = best.rows
  if (bestRows == null) throw new PersonalSelectionError("rule 'one-se' needs every candidate's per-row losses")
  const keep = { z: 0, loss: networkLoss, networkLoss, localLoss, bestZ: best.z }
  if (bestRows.length < 2 || best.z === 0) return keep
  const network = sorted[0].z === 0 ? sorted[0] : null
  if (network?.rows == null || !Number.isFinite(network.loss)) return { z: best.z, loss: best.loss, networkLoss, localLoss, bestZ: best.z }
  // the gate: the network model within the paired 95% interval of the best candidate is kept
  const gate = pairedDifference(network.rows, bestRows, false) // positive: the network model better; here <= 0
  if (-gate.mean <= gate.halfWidth) return keep
  for (const c of sorted) {
    if (!Number.isFinite(c.loss) || c.rows == null) continue
    if (c === best) break
    const d = pairedDifference(c.rows, bestRows, false)
    if (-d.mean <= d.halfWidth / 1.96) return { z: c.z, loss: c.loss, networkLoss, localLoss, bestZ: best.z }
  }
  return { z: best.z, loss: best.loss, networkLoss, localLoss, bestZ: best.z }
}

const EPS = 1e-7

/**
 * Each row's contribution to a metric that is a (weighted) mean over rows, scaled so that their plain mean is
 * the metric: accuracy (1 if right), logLoss, poissonDeviance (unit deviance), mse. Null for other metrics
 * (AUC is not a mean over rows). `pred` as in computeMetrics (binary: P(positive); multiclass: n x k).
 */
export function rowContributions (task: Task, metric: string, y: ArrayLike<number>, pred: ArrayLike<number>, options: { numClasses?: number, weight?: ArrayLike<number> | null } = {}): Float64Array | null {
  const n = y.length
  const out = new Float64Array(n)
  const k = options.numClasses ?? 2
  for (let i = 0; i < n; i++) {
    let c: number
    if (metric === 'accuracy') {
      if (task === 'binary') c = (pred[i] >= 0.5 ? 1 : 0) === (y[i] >= 0.5 ? 1 : 0) ? 1 : 0
      else if (task === 'multiclass') {
        let best = 0
        for (let j = 1; j < k; j++) if (pred[i * k + j] > pred[i * k + best]) best = j
        c = best === y[i] ? 1 : 0
      } else return null
    } else if (metric === 'logLoss') {
      if (task === 'binary') { const q = Math.min(1 - EPS, Math.max(EPS, pred[i])); c = -(y[i] * Math.log(q) + (1 - y[i]) * Math.log(1 - q)) } else if (task === 'multiclass') c = -Math.log(Math.max(EPS, pred[i * k + y[i]]))
      else return null
    } else if (metric === 'poissonDeviance' && task === 'count') c = poissonUnitDeviance(y[i], pred[i])
    else if (metric === 'mse' && task === 'regression') c = (y[i] - pred[i]) ** 2
    else return null
    out[i] = c
  }
  const w = options.weight
  if (w != null) {
    let sw = 0
    for (let i = 0; i < n; i++) sw += w[i]
    for (let i = 0; i < n; i++) out[i] *= sw > 0 ? (w[i] * n) / sw : 0
  }
  return out
}

/**
 * How much better model a is than model b on the same rows (paired), from their row contributions: the mean
 * difference (positive: a better, in the metric's units) and the half-width of its 95% interval (normal
 * approximation, 1.96 standard errors of the mean paired difference).
 */
export function pairedDifference (a: ArrayLike<number>, b: ArrayLike<number>, higherIsBetter: boolean): { mean: number, halfWidth: number } {
  const n = a.length
  if (n !== b.length) throw new PersonalSelectionError(`paired rows differ: ${n} and ${b.length}`)
  if (n === 0) return { mean: NaN, halfWidth: NaN }
  let s = 0
  for (let i = 0; i < n; i++) s += higherIsBetter ? a[i] - b[i] : b[i] - a[i]
  const mean = s / n
  let ss = 0
  for (let i = 0; i < n; i++) { const d = (higherIsBetter ? a[i] - b[i] : b[i] - a[i]) - mean; ss += d * d }
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0
  return { mean, halfWidth: 1.96 * sd / Math.sqrt(n) }
}
