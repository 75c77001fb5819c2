/**
 * Randomized pairwise averaging (push-pull): each round a peer not in an exchange starts one with probability
 * `initiateProbability`, sending its model to one random neighbour; the responder replies with its pre-merge
 * model and both end with the weighted mean (the initiator applies it as a delta, which conserves the weighted
 * sum exactly even if it trained in between). A peer in an open exchange answers BUSY. See
 * protocol/averaging/pairwise.ts.
 */
import { z } from 'zod'
import { pairwiseDelta, pairwiseMean } from '../../averaging/pairwise.js'
import { influenceFields, weighting } from '../../averaging/params.js'
import { RefusalReason, type AbortOptions, type PeerKey } from '../../interfaces.js'
import { UpdateKind, type UpdateHeader } from '../types.js'
import { defineRule, type AcceptedUpdate, type AveragingRule, type ReceiveOutcome, type RoundWindow, type RuleContext } from './types.js'

export const pairwiseParamsSchema = z.object({
  rule: z.literal('pairwise'),
  weighting,
  ...influenceFields,
  initiateProbability: z.number().gt(0).max(1).default(0.5)
    .describe('chance that a peer starts an exchange in a round (the others answer)')
}).strict()
export type PairwiseParams = z.output<typeof pairwiseParamsSchema>

interface PendingExchange { id: string, to: PeerKey, sent: Float32Array, mass: number, round: number }

class PairwiseRule implements AveragingRule {
  readonly kinds = [UpdateKind.PAIRWISE_REQUEST, UpdateKind.PAIRWISE_REPLY]
  readonly roundTimeoutMs = null
  private readonly pending = new Map<string, PendingExchange>()
  private active: PendingExchange | null = null
  constructor (private readonly ctx: RuleContext<PairwiseParams>) {}

  roundWindow (kind: UpdateKind): RoundWindow | null {
    // a reply is matched to its open request instead (pairwiseMaxReplyAgeRounds)
    if (kind === UpdateKind.PAIRWISE_REPLY) return null
    return { maxLag: this.ctx.options.maxRoundLag, maxLead: this.ctx.options.maxRoundLead }
  }

  async send (honest: Float32Array, options: AbortOptions): Promise<void> {
    const ctx = this.ctx
    const round = ctx.round
    // expire the active exchange after the reply timeout (its late reply is still applied, as a delta)
    const active = this.active
    if (active != null && round - active.round >= ctx.options.pairwiseReplyTimeoutRounds) this.active = null
    for (const [id, p] of this.pending) if (round - p.round > ctx.options.pairwiseMaxReplyAgeRounds) this.pending.delete(id)
    if (this.active != null) return
    if (ctx.rng.next() >= ctx.params.initiateProbability) return
    const candidates = ctx.neighbours()
    if (candidates.length === 0) return
    const to = candidates[ctx.rng.int(candidates.length)]
    const mass = ctx.mass()
    const fields = ctx.fields(UpdateKind.PAIRWISE_REQUEST, mass)
    const exchange: PendingExchange = { id: '', to, sent: honest.slice(), mass, round }
    this.active = exchange // busy from now on (also while sealing)
    const { id, delivered } = await ctx.send(fields, honest, [to], honest, options)
    exchange.id = id
    if (delivered.length === 0) {
      if (this.active === exchange) this.active = null
      return
    }
    this.pending.set(id, exchange)
  }

  async receive ({ id, header, weights }: AcceptedUpdate, options: AbortOptions): Promise<ReceiveOutcome> {
    if (header.kind === UpdateKind.PAIRWISE_REQUEST) {
      if (this.active != null) return { merged: false, refusal: RefusalReason.BUSY }
      return { merged: this.ctx.merges() && await this.answer(header, id, weights, options), refusal: null }
    }
    const pending = this.pending.get(header.parents[0] ?? '')
    if (pending == null || pending.to !== header.sender) {
      // no open exchange this reply belongs to (expired or unknown)
      return { merged: false, refusal: RefusalReason.STALE_ROUND }
    }
    this.pending.delete(pending.id)
    if (this.active === pending) this.active = null
    if (!(header.weight > 0)) return { merged: false, refusal: RefusalReason.MALFORMED }
    await this.ctx.exclusive(() => {
      this.ctx.setModel(pairwiseDelta(this.ctx.model(), pending.sent, pending.mass, weights, header.weight))
    })
    return { merged: true, refusal: null }
  }

  /** Responder side: replies with its pre-merge model, and merges only if the reply went out. */
  private async answer (header: UpdateHeader, requestId: string, theirs: Float32Array, options: AbortOptions): Promise<boolean> {
    const ctx = this.ctx
    if (!(header.weight > 0)) return false
    const mine = ctx.model()
    const myMass = ctx.mass()
    const fields = ctx.fields(UpdateKind.PAIRWISE_REPLY, myMass, [requestId])
    const { delivered } = await ctx.send(fields, mine, [header.sender], mine, options)
    if (delivered.length === 0) return false
    const mean = pairwiseMean(mine, myMass, theirs, header.weight)
    await ctx.exclusive(() => {
      // delta form: exact mass conservation even if our model changed while the reply was being sent
      const current = ctx.model()
      const next = new Float32Array(current.length)
      for (let i = 0; i < next.length; i++) next[i] = current[i] + (mean[i] - mine[i])
      ctx.setModel(next)
    })
    return true
  }

  async endRound (): Promise<void> {}
  roundComplete (): boolean { return true }
  weight (): number { return 1 }
  restore (): void {}
  rebuffer (): boolean { return false }
}

export const pairwise = defineRule({
  name: 'pairwise',
  schema: pairwiseParamsSchema,
  traits: { sendsOnReceive: true, buffers: false, lamportRounds: true },
  create: (ctx) => new PairwiseRule(ctx)
})
