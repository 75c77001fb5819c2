/**
 * A loss-threshold membership-inference attack (Yeom et al. 2018): an honest-but-curious member decrypts a
 * neighbour's update and scores each candidate record by minus its loss under those weights; records the
 * neighbour trained on tend to have lower loss. The attack's power over every threshold is the ROC AUC of
 * that score for members (the neighbour's training rows) against non-members (rows it never saw): 0.5 is
 * chance, 1 is a perfect test.
 *
 * And a stronger one, the offline likelihood-ratio attack (LiRA, Carlini et al. 2022, "offline" variant: out
 * models only): each record's confidence on its true label, logit-scaled (phi = log p - log(1 - p)), under the
 * target's weights, against its distribution under reference models that did not train on the target's rows. The
 * curious member needs no shadow training: the models it received from its other neighbours are such references
 * (they never saw the target's rows, though gossip mixed some of the target's older models into them, which only
 * weakens the test). Score: (phi_target - mean_out) / sd_out, with sd_out per record from 4 references up and
 * one pooled sd below that (the paper's fixed-variance variant); a record hard for every model no longer looks
 * like a non-member, nor an easy one like a member.
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

/**
 * Per-row logit-scaled confidence on the true label (LiRA's phi): log p - log(1 - p) of the true class for binary
 * and multiclass tasks (p floored away from 0 and 1), minus the squared error otherwise.
 */
export function perRowConfidence (model: Model, weights: Float32Array, data: TensorData & { task: string }, rows: Uint32Array): Float64Array {
  const loss = perRowLoss(model, weights, data, rows)
  if (data.task !== 'binary' && data.task !== 'multiclass') return loss.map((l) => -l)
  // loss = -log p: phi = log p - log(1 - p) = -loss - log(1 - e^-loss)
  return loss.map((l) => -l - Math.log(Math.max(P_FLOOR, -Math.expm1(-l))))
}

export interface ReferenceAttackResult {
  /** ROC AUC of the likelihood-ratio score for members vs non-members (0.5 = chance). */
  auc: number
  references: number
}

/** Fewest references for a per-record standard deviation (below: one pooled over every record). */
export const LIRA_PER_RECORD_SD_FROM = 4

/**
 * The offline likelihood-ratio attack on `target` with `references` (models that did not train on `members`);
 * needs at least one reference.
 */
export function referenceAttack (model: Model, target: Float32Array, references: readonly Float32Array[], data: TensorData & { task: string },
  members: Uint32Array, nonMembers: Uint32Array): ReferenceAttackResult {
  if (members.length === 0 || nonMembers.length === 0) throw new RangeError('membership attack: needs at least one member and one non-member row')
  if (references.length === 0) throw new RangeError('reference attack: needs at least one reference model')
  const rows = new Uint32Array(members.length + nonMembers.length)
  rows.set(members); rows.set(nonMembers, members.length)
  const n = rows.length
  const k = references.length
  const phi = perRowConfidence(model, target, data, rows)
  const mean = new Float64Array(n)
  const sq = new Float64Array(n)
  const refs = references.map((w) => perRowConfidence(model, w, data, rows))
  for (const r of refs) for (let i = 0; i < n; i++) mean[i] += r[i] / k
  for (const r of refs) for (let i = 0; i < n; i++) sq[i] += (r[i] - mean[i]) ** 2
  let pooled = 0
  for (let i = 0; i < n; i++) pooled += sq[i]
  // the pooled sd over every record (k references each); with one reference there is no spread: the score is
  // then the difference itself (any constant sd ranks the same)
  const pooledSd = k > 1 ? Math.sqrt(pooled / (n * (k - 1))) : 1
  const floor = Math.max(1e-6, 0.1 * pooledSd)
  const y = new Float64Array(n)
  const score = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    y[i] = i < members.length ? 1 : 0
    const sd = k >= LIRA_PER_RECORD_SD_FROM ? Math.max(floor, Math.sqrt(sq[i] / (k - 1))) : pooledSd
    score[i] = (phi[i] - mean[i]) / (sd > 0 ? sd : 1)
  }
  return { auc: rocAuc(y, score), references: k }
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
