/**
 * Randomized pairwise push-pull averaging (Boyd, Ghosh, Prabhakar and Shah 2006): two peers exchange
 * models and both end with their weighted mean. With fixed weights (example counts or 1) the weighted
 * sum of models is conserved exactly, so repeated exchanges over a connected graph converge to the
 * weighted average of the initial models.
 *
 * The engine applies the initiator's side as a delta (`pairwiseDelta`): the initiator adds
 * `mean - sent` to whatever it holds when the reply arrives. This keeps the total mass exactly
 * conserved even if the initiator changed (trained or merged) between request and reply.
 */
import { LengthMismatchError, type Vector } from './vector.js'

/** The weighted mean of two models with weights `wa`, `wb` (> 0), written into `out` (or a new Float32Array). */
export function pairwiseMean<T extends Vector = Float32Array> (a: Vector, wa: number, b: Vector, wb: number, out?: T): T {
  if (a.length !== b.length) throw new LengthMismatchError(`pairwise: lengths ${a.length} and ${b.length}`)
  if (!(wa > 0) || !(wb > 0) || !Number.isFinite(wa) || !Number.isFinite(wb)) {
    throw new RangeError(`pairwise: weights must be finite and > 0, got ${wa} and ${wb}`)
  }
  const ta = wa / (wa + wb); const tb = wb / (wa + wb)
  const target = (out ?? new Float32Array(a.length)) as T
  for (let i = 0; i < a.length; i++) target[i] = ta * a[i] + tb * b[i]
  return target
}

/**
 * The initiator's update when the reply arrives: `current + (mean(sent, reply) - sent)`, which equals the
 * mean when nothing changed locally in between. Returns a new array shaped like `current`.
 */
export function pairwiseDelta<T extends Vector> (current: T, sent: Vector, ws: number, reply: Vector, wr: number): T {
  if (current.length !== sent.length || sent.length !== reply.length) {
    throw new LengthMismatchError(`pairwise: lengths ${current.length}, ${sent.length}, ${reply.length}`)
  }
  const tr = wr / (ws + wr)
  const out = current.slice() as T
  // mean - sent = tr * (reply - sent)
  for (let i = 0; i < out.length; i++) out[i] = current[i] + tr * (reply[i] - sent[i])
  return out
}
