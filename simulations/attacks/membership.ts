/**
 * A loss-threshold membership-inference attack (Yeom et al. 2018): an honest-but-curious member decrypts a
 * neighbour's update and scores each candidate record by minus its loss under those weights; records the
 * neighbour trained on tend to have lower loss. The attack's power over every threshold is the ROC AUC of
 * that score for members (the neighbour's training rows) against non-members (rows it never saw): 0.5 is
 * chance, 1 is a perfect test.
 */
import type { Model, TensorData } from '../../learning/model.js'
import { rocAuc } from '../../learning/metrics.js'

const P_FLOOR = 1e-12

/** Per-row loss of `weights` on `rows`: cross-entropy for binary and multiclass, squared error otherwise. */
export function perRowLoss (model: Model, weights: Float32Array, data: TensorData & { task: string }, rows: Uint32Array): Float64Array {
  const pred = model.predict(weights, data, rows)
  const n = rows.length
  const k = pred.length / n
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const y = data.y[rows[i]]
    if (data.task === 'binary') {
      const p = k === 2 ? pred[i * 2 + 1] : pred[i]
      out[i] = -Math.log(Math.max(P_FLOOR, y >= 0.5 ? p : 1 - p))
    } else if (data.task === 'multiclass') {
      out[i] = -Math.log(Math.max(P_FLOOR, pred[i * k + y]))
    } else {
      const d = pred[i] - y
      out[i] = d * d
    }
  }
  return out
}

export interface MembershipResult {
  /** ROC AUC of -loss for members vs non-members (0.5 = chance). */
  auc: number
  members: number
  nonMembers: number
  meanLossMembers: number
  meanLossNonMembers: number
}

/** Runs the loss-threshold attack on `weights` with known members and non-members (disjoint row sets). */
export function lossThresholdAttack (model: Model, weights: Float32Array, data: TensorData & { task: string },
  members: Uint32Array, nonMembers: Uint32Array): MembershipResult {
  if (members.length === 0 || nonMembers.length === 0) throw new RangeError('membership attack: needs at least one member and one non-member row')
  const lm = perRowLoss(model, weights, data, members)
  const ln = perRowLoss(model, weights, data, nonMembers)
  const y = new Float64Array(lm.length + ln.length)
  const score = new Float64Array(y.length)
  for (let i = 0; i < lm.length; i++) { y[i] = 1; score[i] = -lm[i] }
  for (let i = 0; i < ln.length; i++) score[lm.length + i] = -ln[i]
  const mean = (a: Float64Array): number => a.reduce((s, v) => s + v, 0) / a.length
  return { auc: rocAuc(y, score), members: lm.length, nonMembers: ln.length, meanLossMembers: mean(lm), meanLossNonMembers: mean(ln) }
}
