/**
 * Push-sum (Stochastic Gradient Push): each round a peer keeps 1/(k+1) of its weight and sends a share to each
 * of `fanout` random neighbours; an arriving (model, weight share) is absorbed at once. Sums of weight and of
 * weighted models are conserved (shares that cannot be sent come back), so the de-biased models converge to
 * the weighted average on directed, asynchronous links. See protocol/averaging/push-sum.ts.
 */
import { z } from 'zod'
import { pushSumAbsorb } from '../../averaging/push-sum.js'
import { influenceFields, weighting } from '../../averaging/params.js'
import { RefusalReason, type AbortOptions } from '../../interfaces.js'
import { ENGINE_METRICS } from '../constants.js'
import type { Checkpoint } from '../store.js'
import { UpdateKind } from '../types.js'
import { defineRule, type AcceptedUpdate, type AveragingRule, type ReceiveOutcome, type RuleContext } from './types.js'

export const pushSumParamsSchema = z.object({
  rule: z.literal('push-sum'),
  weighting,
  ...influenceFields,
  fanout: z.number().int().min(1).max(64).default(1).describe('out-neighbours each round (SGP uses 1)')
}).strict()
export type PushSumParams = z.output<typeof pushSumParamsSchema>

class PushSumRule implements AveragingRule {
  readonly kinds = [UpdateKind.UPDATE]
  readonly roundTimeoutMs = null
  private w: number
  constructor (private readonly ctx: RuleContext<PushSumParams>) {
    this.w = ctx.mass()
  }

  roundWindow (): { maxLag: number, maxLead: number } {
    return { maxLag: this.ctx.options.maxRoundLag, maxLead: this.ctx.options.maxRoundLead }
  }

  async send (honest: Float32Array, options: AbortOptions): Promise<void> {
    const ctx = this.ctx
    const targets = ctx.rng.sample(ctx.neighbours(), ctx.params.fanout)
    if (targets.length === 0) return
    // split the mass: keep 1/(k+1), send 1/(k+1) to each target (all under the lock, before any await)
    const share = await ctx.exclusive(() => {
      const s = this.w / (targets.length + 1)
      this.w = s
      return s
    })
    const { delivered } = await ctx.send(ctx.fields(UpdateKind.UPDATE, share), honest, targets, honest, options)
    const lost = targets.length - delivered.length
    if (lost > 0) {
      // undelivered shares come back (exact: absorb the snapshot with the weight that did not leave)
      await ctx.exclusive(() => {
        const r = pushSumAbsorb(ctx.model(), this.w, honest, share * lost)
        ctx.setModel(r.z)
        this.w = r.w
      })
    }
  }

  async receive ({ header, weights }: AcceptedUpdate): Promise<ReceiveOutcome> {
    const ctx = this.ctx
    const mergeAllowed = ctx.merges()
    const absorbed = await ctx.exclusive(() => {
      // a hostile weight near Number.MAX_VALUE would overflow ours to Infinity (then NaN models)
      if (!Number.isFinite(this.w + header.weight)) return false
      if (mergeAllowed) {
        const r = pushSumAbsorb(ctx.model(), this.w, weights, header.weight)
        ctx.setModel(r.z)
        this.w = r.w
      } else {
        this.w += header.weight // keep the mass, do not move the model (static attacker)
      }
      return true
    })
    return { merged: absorbed && mergeAllowed, refusal: absorbed ? null : RefusalReason.NON_FINITE }
  }

  async endRound (): Promise<void> {
    this.ctx.metrics?.set(ENGINE_METRICS.pushSumWeight, this.w)
  }

  roundComplete (): boolean { return true }
  weight (): number { return this.w }

  restore (cp: Checkpoint): void {
    // a checkpoint of another rule keeps the starting weight
    if (cp.rule === 'push-sum' && cp.pushSumWeight > 0) this.w = cp.pushSumWeight
  }

  rebuffer (): boolean { return false }
}

export const pushSum = defineRule({
  name: 'push-sum',
  schema: pushSumParamsSchema,
  traits: { sendsOnReceive: false, buffers: false, lamportRounds: true },
  create: (ctx) => new PushSumRule(ctx)
})
