/**
 * D-PSGD (Lian et al. 2017): synchronous rounds over a fixed graph. Each round a peer sends its model to every
 * neighbour and, when the round ends, combines what arrived for that round with Metropolis-Hastings weights
 * (doubly stochastic, so the plain average is preserved); a missing neighbour's weight stays with the peer. In
 * daemon mode the loop waits up to `roundTimeoutMs` for all neighbours. See protocol/averaging/graph-weights.ts.
 */
import { z } from 'zod'
import { combine } from '../../averaging/combine.js'
import { metropolisHastingsWeight } from '../../averaging/graph-weights.js'
import { influenceFields, robustMergeFields } from '../../averaging/params.js'
import type { AbortOptions, PeerKey } from '../../interfaces.js'
import { UpdateKind } from '../types.js'
import { defineRule, type AcceptedUpdate, type AveragingRule, type BufferedUpdate, type ReceiveOutcome, type RuleContext } from './types.js'

export const dpsgdParamsSchema = z.object({
  rule: z.literal('dpsgd'),
  weighting: z.literal('uniform').default('uniform').describe('Metropolis-Hastings weights only (doubly stochastic)'),
  ...robustMergeFields,
  ...influenceFields,
  roundTimeoutMs: z.number().int().positive().default(30_000).describe('daemon mode: how long to wait for neighbours each round')
}).strict()
export type DpsgdParams = z.output<typeof dpsgdParamsSchema>

class DpsgdRule implements AveragingRule {
  readonly kinds = [UpdateKind.DPSGD]
  readonly roundTimeoutMs: number
  /** Round -> sender -> model (`mass` = the sender's degree). */
  private readonly buffer = new Map<number, Map<PeerKey, BufferedUpdate>>()
  constructor (private readonly ctx: RuleContext<DpsgdParams>) {
    this.roundTimeoutMs = ctx.params.roundTimeoutMs
  }

  roundWindow (): { maxLag: number, maxLead: number } {
    // this round's models only; a neighbour up to two rounds ahead is kept for its round
    return { maxLag: 0, maxLead: Math.min(2, this.ctx.options.maxRoundLead) }
  }

  async send (honest: Float32Array, options: AbortOptions): Promise<void> {
    const ctx = this.ctx
    const neighbours = ctx.neighbours()
    if (neighbours.length === 0) return
    await ctx.send(ctx.fields(UpdateKind.DPSGD, neighbours.length), honest, neighbours, honest, options)
  }

  async receive ({ id, header, weights }: AcceptedUpdate): Promise<ReceiveOutcome> {
    this.add({ id, sender: header.sender, round: header.round, mass: header.weight, weights })
    return { merged: false, refusal: null }
  }

  private add (b: BufferedUpdate): void {
    let byRound = this.buffer.get(b.round)
    if (byRound == null) { byRound = new Map(); this.buffer.set(b.round, byRound) }
    byRound.set(b.sender, b)
  }

  async endRound (round: number): Promise<void> {
    const ctx = this.ctx
    const got = this.buffer.get(round)
    for (const r of [...this.buffer.keys()]) if (r <= round) this.buffer.delete(r)
    if (got == null || got.size === 0 || !ctx.merges()) return
    const degree = ctx.neighbours().length
    const inputs = [...got.values()]
    await ctx.exclusive(() => {
      // Metropolis-Hastings: W_ij = 1/(1+max(d_i,d_j)); missing neighbours' weight stays with self
      const ws = inputs.map((b) => metropolisHastingsWeight(Math.max(degree, 1), Math.max(1, Math.round(b.mass))))
      const selfW = Math.max(0, 1 - ws.reduce((s, x) => s + x, 0))
      const { merged } = combine({ weights: ctx.model(), mass: selfW }, inputs.map((b, i) => ({ weights: b.weights, mass: ws[i] })), ctx.params)
      ctx.setModel(merged)
    })
    ctx.mergedBuffered(inputs.map((b) => b.id))
  }

  roundComplete (): boolean {
    const got = this.buffer.get(this.ctx.round)
    return this.ctx.neighbours().every((p) => got?.has(p) === true)
  }

  weight (): number { return 1 }
  restore (): void {}

  rebuffer (b: BufferedUpdate): boolean {
    if (b.round < this.ctx.round) return false
    this.add(b)
    return true
  }
}

export const dpsgd = defineRule({
  name: 'dpsgd',
  schema: dpsgdParamsSchema,
  traits: { sendsOnReceive: false, buffers: true, lamportRounds: false },
  create: (ctx) => new DpsgdRule(ctx)
})
