/**
 * Gossip learning (Ormandi, Hegedus and Jelasity 2013): each round a peer sends its model to `fanout` random
 * neighbours (one by default), and a peer averages every model the moment it arrives with its own, weighted by
 * the two merge masses (example counts, or 1 each). Nothing waits for the round's end, so it suits peers that
 * run at their own pace; like epidemic averaging it does not conserve the sum of models (use push-sum or
 * pairwise for the exact average), and it trusts self-reported example counts (use `uniform` among strangers).
 */
import { z } from 'zod'
import { pairwiseMean } from '../../averaging/pairwise.js'
import { influenceFields, weighting } from '../../averaging/params.js'
import { RefusalReason, type AbortOptions } from '../../interfaces.js'
import { UpdateKind } from '../types.js'
import { defineRule, type AcceptedUpdate, type AveragingRule, type ReceiveOutcome, type RuleContext } from './types.js'

export const gossipLearningParamsSchema = z.object({
  rule: z.literal('gossip-learning'),
  weighting,
  ...influenceFields,
  fanout: z.number().int().min(1).max(256).default(1).describe('peers each model is sent to per round')
}).strict()
export type GossipLearningParams = z.output<typeof gossipLearningParamsSchema>

class GossipLearningRule implements AveragingRule {
  readonly kinds = [UpdateKind.UPDATE]
  readonly roundTimeoutMs = null
  constructor (private readonly ctx: RuleContext<GossipLearningParams>) {}

  roundWindow (): { maxLag: number, maxLead: number } {
    return { maxLag: this.ctx.options.maxRoundLag, maxLead: this.ctx.options.maxRoundLead }
  }

  async send (honest: Float32Array, options: AbortOptions): Promise<void> {
    const ctx = this.ctx
    const targets = ctx.rng.sample(ctx.neighbours(), ctx.params.fanout)
    if (targets.length === 0) return
    await ctx.send(ctx.fields(UpdateKind.UPDATE, ctx.mass()), honest, targets, honest, options)
  }

  async receive ({ header, weights }: AcceptedUpdate): Promise<ReceiveOutcome> {
    const ctx = this.ctx
    const theirs = ctx.params.weighting === 'examples' ? header.weight : 1
    // an honest sender's mass is at least 1 (mass()); 0 would make the weighted mean undefined
    if (!(theirs > 0)) return { merged: false, refusal: RefusalReason.MALFORMED }
    if (!ctx.merges()) return { merged: false, refusal: null }
    await ctx.exclusive(() => {
      ctx.setModel(pairwiseMean(ctx.model(), ctx.mass(), weights, theirs))
    })
    return { merged: true, refusal: null }
  }

  async endRound (): Promise<void> {}
  roundComplete (): boolean { return true }
  weight (): number { return 1 }
  restore (): void {}
  rebuffer (): boolean { return false }
}

export const gossipLearning = defineRule({
  name: 'gossip-learning',
  schema: gossipLearningParamsSchema,
  traits: { sendsOnReceive: false, buffers: false, lamportRounds: true },
  create: (ctx) => new GossipLearningRule(ctx)
})
