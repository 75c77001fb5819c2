/**
 * The engine's bound step: before any rule sees an accepted update, the core bounds how far it can move this
 * peer, so every rule (and a new one) gets it: the sender's example count and mass are clamped to what the
 * parameters allow (`maxExampleCount`; at most `maxWeightRatio` times our own mass), and its model is clipped to
 * the adaptive radius around ours, redescending for far outliers (protocol/averaging/bound.ts). Each clip or
 * clamp is counted by reason.
 */
import { AdaptiveRadius, clipToward, distanceTo, redescendingRadius } from '../averaging/bound.js'
import type { InfluenceParams } from '../averaging/params.js'
import { norm } from '../averaging/vector.js'
import type { AcceptedUpdate } from './rules/types.js'
import type { BoundReason } from './types.js'

export class InfluenceBound {
  private readonly radius: AdaptiveRadius | null
  constructor (private readonly params: InfluenceParams, private readonly count: (reason: BoundReason) => void) {
    this.radius = params.clip === 'off' ? null : new AdaptiveRadius(params.clip)
  }

  /** The clipping radius now (null: clipping is off). */
  currentRadius (own: Float32Array): number | null {
    return this.radius?.radius(() => norm(own)) ?? null
  }

  /**
   * The update as a rule may use it: `own` is this peer's model, `ownMass` its merge mass (example count or 1).
   * Returns the same object when nothing was bounded.
   */
  apply (update: AcceptedUpdate, own: Float32Array, ownMass: number): AcceptedUpdate {
    const { header } = update
    let out = update
    const maxExamples = this.params.maxExampleCount
    if (header.examples > maxExamples) {
      out = { ...out, header: { ...out.header, examples: maxExamples } }
      this.count('EXAMPLES_CLAMPED')
    }
    const maxWeight = Math.min(maxExamples, this.params.maxWeightRatio * Math.max(1, ownMass))
    if (header.weight > maxWeight) {
      out = { ...out, header: { ...out.header, weight: maxWeight } }
      this.count('WEIGHT_CLAMPED')
    }
    if (this.radius != null) {
      const tau = this.radius.radius(() => norm(own))
      const distance = distanceTo(own, update.weights)
      const r = clipToward(own, update.weights, this.params.clip === 'off' ? tau : redescendingRadius(tau, distance, this.params.clip.redescend), distance)
      this.radius.record(header.sender, r.distance)
      if (r.clipped) {
        out = { ...out, weights: r.weights }
        this.count('CLIPPED')
      }
    }
    return out
  }
}
