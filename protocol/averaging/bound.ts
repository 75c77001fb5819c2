/**
 * Bounded influence: how far one received model may move a receiver.
 *
 * Self-centred clipping (centred clipping, Karimireddy, He and Jaggi 2021; ClippedGossip, He, Karimireddy and
 * Jaggi 2022, "Byzantine-robust decentralized learning via ClippedGossip"): a received model x_j is replaced by
 * x_self + CLIP(x_j - x_self, tau), CLIP(v, tau) = v * min(1, tau / |v|), so that whatever a merge does with
 * it afterwards, the input lies within tau of the receiver's own model. A weighted merge then moves the receiver
 * by at most a_j * tau per input, however large the sender made its model.
 *
 * The radius comes from the receiver's own recent state (`AdaptiveRadius`): `multiplier` times the lower median
 * of the latest distance seen from each recent sender (one vote per sender, so one sender flooding messages
 * cannot move the median; with fewer than half of the senders far away, the lower median is an honest
 * distance), and at least `floor`. Before any distance has been seen, the own model's norm stands in for the
 * median: tau = max(floor, multiplier x |x_self|).
 *
 * Redescending (`redescendingRadius`): a model farther than `redescend` x tau is clipped to a radius that
 * shrinks with its distance, tau x (redescend x tau / d), so an absurdly far model (a sign flip x1000, a negated
 * model claiming a huge mass) pulls less than an honest one at the radius. The most any input can pull is still
 * tau (at d = redescend x tau), so no sender gains by it.
 */
import { LengthMismatchError, type Vector } from './vector.js'

/** Lower median (the floor((m-1)/2)-th smallest); NaN for none. */
export function lowerMedian (values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[(sorted.length - 1) >> 1]
}

/** The L2 distance between two vectors, accumulated in float64. */
export function distanceTo (self: Vector, x: Vector): number {
  if (self.length !== x.length) throw new LengthMismatchError(`clip: lengths ${self.length} and ${x.length}`)
  let s = 0
  for (let i = 0; i < x.length; i++) { const d = x[i] - self[i]; s += d * d }
  return Math.sqrt(s)
}

/**
 * x_self + CLIP(x - x_self, tau): `x` itself when it lies within tau (no copy), else a new array on the sphere
 * of radius tau around x_self. `distance` is |x - x_self| (pass it when already known).
 */
export function clipToward (self: Float32Array, x: Float32Array, tau: number, distance = distanceTo(self, x)): { weights: Float32Array, distance: number, clipped: boolean } {
  if (!(distance > tau)) return { weights: x, distance, clipped: false }
  const scale = tau / distance
  const out = new Float32Array(x.length)
  for (let i = 0; i < x.length; i++) out[i] = self[i] + (x[i] - self[i]) * scale
  return { weights: out, distance, clipped: true }
}

/**
 * The radius a model at distance `distance` is clipped to: tau within `redescend` x tau, beyond it
 * tau x redescend x tau / distance (continuous at redescend x tau, falling to 0 far away). `redescend` Infinity:
 * plain clipping.
 */
export function redescendingRadius (tau: number, distance: number, redescend: number): number {
  const edge = redescend * tau
  return distance > edge && Number.isFinite(edge) ? tau * edge / distance : tau
}

export interface AdaptiveRadiusInit {
  /** A fixed radius (the adaptive rule is not used). */
  radius?: number
  multiplier: number
  floor: number
  /** Senders remembered (oldest forgotten first). */
  maxSenders?: number
}

/** The adaptive clipping radius of one receiver: a multiple of the median of its senders' latest distances. */
export class AdaptiveRadius {
  private readonly latest = new Map<string, number>()
  private readonly maxSenders: number
  constructor (private readonly init: AdaptiveRadiusInit) {
    this.maxSenders = Math.max(1, init.maxSenders ?? 1024)
  }

  /** The radius now, given the norm of the receiver's own model (used before any distance was seen). */
  radius (ownNorm: () => number): number {
    if (this.init.radius != null) return this.init.radius
    if (this.latest.size === 0) return Math.max(this.init.floor, this.init.multiplier * ownNorm())
    return Math.max(this.init.floor, this.init.multiplier * lowerMedian([...this.latest.values()]))
  }

  /** Remembers the (unclipped) distance of `sender`'s latest accepted model. */
  record (sender: string, distance: number): void {
    if (!Number.isFinite(distance)) return
    this.latest.delete(sender)
    this.latest.set(sender, distance)
    if (this.latest.size > this.maxSenders) {
      const oldest = this.latest.keys().next().value
      if (oldest != null) this.latest.delete(oldest)
    }
  }
}
