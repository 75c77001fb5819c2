/**
 * Epidemic averaging: each round a peer sends its model to `fanout` random neighbours; what arrives waits in a
 * buffer (the newest model per sender) and is combined with the own model when the round ends, under the
 * configured merge (mean, median, trimmed-mean, clipped). Late updates may be discounted (staleness half-life)
 * and are refused beyond `maxStalenessRounds`.
 *
 * `momentum` (beta, default 0: off) is heavy-ball momentum over rounds, applied to the merged model: the step
 * from the last merged model to this one (local training and mixing together) is accumulated as
 * u = beta u + step and the model set to the last one plus u. Where each peer holds a row or two, its local steps
 * can only fit those rows and the averaged progress per round is small; momentum carries it over rounds without
 * larger local steps (which fit the own rows harder). The velocity is in memory only and restarts at zero,
 * as it does when the peer adopts a state from members (a jump that is no step of its own).
 */
import { z } from 'zod'
import { combine, type CombineInput } from '../../averaging/combine.js'
import { stalenessDiscount } from '../../averaging/graph-weights.js'
import { influenceFields, robustMergeFields, weighting } from '../../averaging/params.js'
import { UpdateKind } from '../types.js'
import { defineRule, type AveragingRule, type BufferedUpdate, type RuleContext } from './types.js'

export const epidemicParamsSchema = z.object({
  rule: z.literal('epidemic'),
  weighting,
  fanout: z.number().int().min(1).max(256).default(3).describe('s: peers each model is sent to per round'),
  ...robustMergeFields,
  ...influenceFields,
  stalenessHalfLifeRounds: z.number().min(0).default(0).describe('0: no discount; else weight halves every this many rounds late'),
  maxStalenessRounds: z.number().int().min(0).default(10).describe('updates older than this many rounds are refused (STALE_ROUND)'),
  momentum: z.number().min(0).max(0.95).default(0).describe('heavy-ball momentum over rounds on the merged model (0: off)')
}).strict()
export type EpidemicParams = z.output<typeof epidemicParamsSchema>

class EpidemicRule implements AveragingRule {
  readonly kinds = [UpdateKind.UPDATE]
  readonly roundTimeoutMs = null
  private readonly buffer = new Map<string, BufferedUpdate>()
  /** With momentum: the model the last merge set, and the velocity (null until the first merge). */
  private heavyBall: { anchor: Float32Array, velocity: Float32Array } | null = null
  constructor (private readonly ctx: RuleContext<EpidemicParams>) {}

  roundWindow (): { maxLag: number, maxLead: number } {
    return { maxLag: Math.min(this.ctx.params.maxStalenessRounds, this.ctx.options.maxRoundLag), maxLead: this.ctx.options.maxRoundLead }
  }

  async send (honest: Float32Array, options: { signal?: AbortSignal }): Promise<void> {
    const ctx = this.ctx
    const targets = ctx.rng.sample(ctx.neighbours(), ctx.params.fanout)
    if (targets.length === 0) return
    await ctx.send(ctx.fields(UpdateKind.UPDATE, ctx.mass()), honest, targets, honest, options)
  }

  async receive ({ id, header, weights }: Parameters<AveragingRule['receive']>[0]): Promise<{ merged: boolean, refusal: null }> {
    // the newest model per sender waits for the round's end
    const prev = this.buffer.get(header.sender)
    if (prev == null || prev.round <= header.round) {
      const mass = this.ctx.params.weighting === 'examples' ? Math.max(header.weight, 0) : 1
      this.buffer.set(header.sender, { id, sender: header.sender, round: header.round, mass, weights })
    }
    return { merged: false, refusal: null }
  }

  async endRound (): Promise<void> {
    const ctx = this.ctx
    const params = ctx.params
    const buffered = [...this.buffer.values()]
    this.buffer.clear()
    if (buffered.length === 0 || !ctx.merges()) return
    await ctx.exclusive(() => {
      const own = ctx.model()
      // robust merges never trust self-reported example counts (an attacker sets its own): uniform masses
      const trustMass = params.merge === 'mean'
      const inputs: CombineInput[] = buffered.map((b) => ({
        weights: b.weights,
        mass: (trustMass ? b.mass : 1) * stalenessDiscount(ctx.round - b.round, params.stalenessHalfLifeRounds)
      }))
      const { merged } = combine({ weights: own, mass: trustMass ? ctx.mass() : 1 }, inputs, params)
      ctx.setModel(params.momentum > 0 ? this.accelerate(merged, params.momentum) : merged)
    })
    ctx.mergedBuffered(buffered.map((b) => b.id))
  }

  /** Heavy-ball step over rounds (see the module comment); returns the model to set. */
  private accelerate (merged: Float32Array, beta: number): Float32Array {
    if (this.heavyBall == null) {
      this.heavyBall = { anchor: Float32Array.from(merged), velocity: new Float32Array(merged.length) }
      return merged
    }
    const { anchor, velocity: u } = this.heavyBall
    const out = new Float32Array(merged.length)
    for (let i = 0; i < merged.length; i++) {
      u[i] = beta * u[i] + (merged[i] - anchor[i])
      out[i] = anchor[i] + u[i]
    }
    anchor.set(out)
    return out
  }

  roundComplete (): boolean { return true }
  weight (): number { return 1 }
  restore (): void {}
  /** An adopted state is not a step of this peer's training: momentum starts again from it. */
  modelReplaced (): void { this.heavyBall = null }

  rebuffer (b: BufferedUpdate): boolean {
    if (this.ctx.round - b.round > this.ctx.params.maxStalenessRounds) return false
    this.buffer.set(b.sender, { ...b, mass: this.ctx.params.weighting === 'examples' ? b.mass : 1 })
    return true
  }
}

export const epidemic = defineRule({
  name: 'epidemic',
  schema: epidemicParamsSchema,
  traits: { sendsOnReceive: false, buffers: true, lamportRounds: true },
  create: (ctx) => new EpidemicRule(ctx)
})
