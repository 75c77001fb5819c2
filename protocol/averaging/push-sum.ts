/**
 * Push-sum (Kempe, Dobra and Gehrke 2003) and its running-sums variant, on (x, w) pairs.
 *
 * Each node holds a numerator `x` and a weight `w`; its estimate is `z = x / w`. To gossip it keeps a share
 * `1/(s+1)` of (x, w) and sends one share to each of `s` out-neighbours; on arrival it adds the shares it
 * receives. Sums of x and of w are conserved, so every `z` converges to `sum x / sum w` on directed,
 * asynchronous, time-varying links (as long as the union graph is strongly connected often enough).
 * Stochastic Gradient Push (Assran et al. 2019) is the same with local SGD steps on `z` between gossips.
 *
 * Under message loss plain push-sum loses the dropped shares: the estimates still converge to a common
 * value but it is a biased weighted average (measured in test/averaging/convergence.test.ts and
 * docs/averaging.md). `RunningSumsNode` implements the loss-robust variant (Hadjicostis, Dominguez-Garcia
 * and Vaidya 2016): each link carries the cumulative mass ever sent on it, so a lost message is made up by
 * the next one that gets through, and the average stays exact.
 */
import { LengthMismatchError, type Vector } from './vector.js'

/** What a push-sum node sends: its de-biased estimate and the weight share (the numerator is `z * weight`). */
export interface PushSumShare { z: Float64Array, weight: number }

/** The numerator x = initial * weight of a node starting from `initial` with push-sum weight `weight` (> 0). */
function initialNumerator (initial: Vector, weight: number): Float64Array {
  if (!(weight > 0)) throw new RangeError(`push-sum weight must be > 0, got ${weight}`)
  const x = new Float64Array(initial.length)
  for (let i = 0; i < initial.length; i++) x[i] = initial[i] * weight
  return x
}

/** The de-biased estimate x / w. */
function deBiased (x: Float64Array, w: number): Float64Array {
  const z = new Float64Array(x.length)
  for (let i = 0; i < z.length; i++) z[i] = x[i] / w
  return z
}

/** A plain push-sum node in float64. */
export class PushSumNode {
  x: Float64Array
  w: number
  constructor (initial: Vector, weight = 1) {
    this.x = initialNumerator(initial, weight)
    this.w = weight
  }

  /** The de-biased estimate x / w. */
  estimate (): Float64Array { return deBiased(this.x, this.w) }

  /** Keeps 1/(fanout+1) of the mass and returns `fanout` equal shares to send. */
  split (fanout: number): PushSumShare[] {
    if (!(Number.isInteger(fanout) && fanout >= 1)) throw new RangeError(`fanout must be an integer >= 1, got ${fanout}`)
    const share = 1 / (fanout + 1)
    const z = this.estimate()
    const weight = this.w * share
    this.w = weight
    for (let i = 0; i < this.x.length; i++) this.x[i] *= share
    return Array.from({ length: fanout }, () => ({ z, weight }))
  }

  /** Adds an arriving share. */
  absorb (share: { z: Vector, weight: number }): void {
    if (share.z.length !== this.x.length) throw new LengthMismatchError(`push-sum: share length ${share.z.length}, expected ${this.x.length}`)
    const a = share.weight
    for (let i = 0; i < this.x.length; i++) this.x[i] += a * share.z[i]
    this.w += a
  }
}

/**
 * Push-sum merge as the engine does it on a learner's float32 weights: the receiver's model `z` with weight
 * `w` absorbs an arriving (zj, wj); returns the new estimate and weight.
 */
export function pushSumAbsorb<T extends Vector> (z: T, w: number, zj: Vector, wj: number): { z: T, w: number } {
  if (z.length !== zj.length) throw new LengthMismatchError(`push-sum: lengths ${z.length} and ${zj.length}`)
  if (!(wj >= 0) || !Number.isFinite(wj)) throw new RangeError(`push-sum: arriving weight must be finite and >= 0, got ${wj}`)
  const total = w + wj
  if (!(total > 0 && Number.isFinite(total))) throw new RangeError(`push-sum: total weight must be finite and > 0, got ${total}`)
  const a = w / total; const b = wj / total
  const out = z.slice() as T
  for (let i = 0; i < out.length; i++) out[i] = a * z[i] + b * zj[i]
  return { z: out, w: total }
}

/** One link message of running-sums push-sum: cumulative mass sent on the link so far. */
export interface RunningSumsMessage { from: number, sigmaX: Float64Array, sigmaW: number }

/**
 * Loss-robust push-sum with running sums. Links are identified by the neighbour's index. Memory is one
 * vector per out-link and per in-link (cumulative sums), which is why the engine does not use it for
 * 100k-parameter models on 1,000 peers; it is exact under loss, and the tests prove it.
 */
export class RunningSumsNode {
  readonly id: number
  x: Float64Array
  w: number
  private readonly sentX = new Map<number, Float64Array>()
  private readonly sentW = new Map<number, number>()
  private readonly recvX = new Map<number, Float64Array>()
  private readonly recvW = new Map<number, number>()
  constructor (id: number, initial: Vector, weight = 1) {
    this.id = id
    this.x = initialNumerator(initial, weight)
    this.w = weight
  }

  /** The de-biased estimate x / w. */
  estimate (): Float64Array { return deBiased(this.x, this.w) }

  /** Splits the current mass among itself and `targets`; returns one cumulative message per target. */
  send (targets: readonly number[]): Array<{ to: number, message: RunningSumsMessage }> {
    const share = 1 / (targets.length + 1)
    const out: Array<{ to: number, message: RunningSumsMessage }> = []
    for (const t of targets) {
      let sx = this.sentX.get(t)
      if (sx == null) { sx = new Float64Array(this.x.length); this.sentX.set(t, sx) }
      for (let i = 0; i < sx.length; i++) sx[i] += share * this.x[i]
      const sw = (this.sentW.get(t) ?? 0) + share * this.w
      this.sentW.set(t, sw)
      out.push({ to: t, message: { from: this.id, sigmaX: sx.slice(), sigmaW: sw } })
    }
    for (let i = 0; i < this.x.length; i++) this.x[i] *= share
    this.w *= share
    return out
  }

  /** Adds what the link carried since the last message that got through (messages may arrive out of order). */
  receive (message: RunningSumsMessage): void {
    const lastW = this.recvW.get(message.from) ?? 0
    if (message.sigmaW <= lastW) return // older than one already applied
    let lastX = this.recvX.get(message.from)
    if (lastX == null) { lastX = new Float64Array(this.x.length); this.recvX.set(message.from, lastX) }
    for (let i = 0; i < this.x.length; i++) {
      this.x[i] += message.sigmaX[i] - lastX[i]
      lastX[i] = message.sigmaX[i]
    }
    this.w += message.sigmaW - lastW
    this.recvW.set(message.from, message.sigmaW)
  }
}
