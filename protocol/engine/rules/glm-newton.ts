/**
 * glm-newton: the exact GLM over the network. Push-sum over the peers' GLM working statistics with gradient
 * tracking, and a Newton / IRLS step on each peer's running estimate every round
 * (learning/glm/working.ts, learning/glm/network-learner.ts; docs/design-notes.md "Exact GLM over the network").
 *
 * Each peer holds a push-sum numerator z (the statistics part of the learner's vector) and weight w (1 at the
 * start: uniform). When a round begins its learner evaluates its working statistics at its coefficients and
 * hands the increment since its previous evaluation, which is added to z: the network's sum of numerators is
 * then always the sum of every peer's current statistics, and sum w the number of peers, so each z / w tends to
 * their average. The peer keeps 1/(k+1) of (z, w) and sends (z / w, w / (k+1)) to each of its k out-neighbours;
 * an arriving share is validated (header and length, finite values within `maxStatistic`, the row count within
 * `maxExampleCount`: sender-supplied numbers; learning/glm/working.ts decodeWorking) and absorbed. After every change the learner gets
 * [z / w | its model] and steps from it: beta = I^-1 r. When the peers agree, that is Newton's step on the pooled
 * likelihood, and the fixed point is the pooled maximum-likelihood fit.
 *
 * Exactness needs the sums conserved: self-centred clipping is off by default (a clipped share destroys mass);
 * the engine's weight clamp still bounds a share to `maxWeightRatio` (the honest shares lie well below).
 * Bounded influence instead comes from `bound` (on by default): each share, when it is absorbed, is screened
 * against this peer's own evaluation by what an honest peer's statistics satisfy (signs, a positive
 * semi-definite Fisher information, a score within the Pearson ellipsoid, per-row scale within a ratio of
 * ours; learning/glm/share-bound.ts) and refused IMPLAUSIBLE_STATISTICS otherwise. Honest shares are convex
 * combinations of honest statistics and pass, so the fit stays exact. With `track` the estimate holds running
 * increments of which no sign or ellipsoid holds: only the value and row-count bounds apply, so `track: true`
 * is refused unless `bound: 'off'` says so.
 */
import { z } from 'zod'
import { influenceFields } from '../../averaging/params.js'
import { RefusalReason, type AbortOptions } from '../../interfaces.js'
import { ENGINE_METRICS } from '../constants.js'
import type { Checkpoint } from '../store.js'
import { UpdateKind } from '../types.js'
import { defineRule, type AcceptedUpdate, type AveragingRule, type ReceiveOutcome, type RuleContext } from './types.js'
import { decodeWorking } from '../../../learning/glm/working.js'
import { GlmStats, statsLength, STATS_HEADER } from '../../../learning/glm/stats.js'
import { GLM_MAX_COLUMNS, GLM_WORKING_VERSION } from '../../../learning/glm/constants.js'
import { DEFAULT_PHASES, phaseOf } from '../../../learning/glm/phases.js'
import { GlmNetworkLearner } from '../../../learning/glm/network-learner.js'
import { DEFAULT_SHARE_BOUNDS } from '../../../learning/glm/share-bound.js'
import type { PeerKey } from '../../interfaces.js'

export const glmNewtonParamsSchema = z.object({
  rule: z.literal('glm-newton'),
  weighting: z.enum(['examples', 'uniform']).default('uniform').describe('push-sum weights start at 1 per peer (uniform: the estimate is the average over peers) or at its row count (examples: the average per row)'),
  ...influenceFields,
  clip: influenceFields.clip.default('off').describe('self-centred clipping breaks the conserved sums: off unless asked for'),
  maxStatistic: z.number().positive().default(1e15).describe('largest magnitude of a received statistic (a share beyond it is refused MALFORMED)'),
  bound: z.union([z.literal('off'), z.object({
    scoreRatio: z.number().min(1).max(1e12).default(DEFAULT_SHARE_BOUNDS.scoreRatio).describe('largest score statistic at our coefficients over the share\'s Pearson statistic'),
    scaleRatio: z.number().min(1).max(1e12).default(DEFAULT_SHARE_BOUNDS.scaleRatio).describe('largest per-row Fisher trace and Pearson statistic over ours')
  }).strict()]).default({ ...DEFAULT_SHARE_BOUNDS }).describe('screen every share by what an honest peer\'s statistics satisfy (refused IMPLAUSIBLE_STATISTICS); off: only the value and row-count bounds'),
  phases: z.array(z.number().int().min(1).max(1000)).min(1).max(100).default([...DEFAULT_PHASES]).describe('phase lengths in rounds (the last repeats): peers take the Newton step at the end of each phase; the push-sum mixes the statistics in between (the learners read them)'),
  track: z.boolean().default(false).describe('gradient tracking across phases (add increments) instead of restarting the push-sum with each phase'),
  fanout: z.union([z.literal('all'), z.number().int().min(1).max(64)]).default('all').describe('out-neighbours each round (all: every current neighbour)')
}).strict().refine((p) => !p.track || p.bound === 'off', {
  // a tracked estimate holds running increments, which no sign or ellipsoid bound holds: the share screen cannot
  // run, so an unguarded network must be asked for, never fallen into
  path: ['track'],
  message: "true needs bound: 'off' (a tracked estimate holds running increments, which the share bound cannot screen)"
})
export type GlmNewtonParams = z.output<typeof glmNewtonParamsSchema>

/** Shares of later phases kept at most (a sender ahead of us by a phase sends one per round). */
const MAX_PENDING = 256

/** The rule cannot run with this learner or these engine options. */
export class GlmNewtonSetupError extends Error {
  static override name = 'GlmNewtonSetupError'
  override name = 'GlmNewtonSetupError'
}

/** The length of the statistics part of a GLM network learner's vector, from its header. */
function statsPart (v: Float32Array): number {
  const p = v[3]
  if (Math.abs(v[0]) !== GLM_WORKING_VERSION || !(Number.isInteger(p) && p > 0 && p <= GLM_MAX_COLUMNS) || statsLength(p) > v.length) {
    throw new GlmNewtonSetupError('rule glm-newton needs the exact GLM learner (its vector starts with working statistics); set the model to an exact GLM')
  }
  return statsLength(p)
}

class GlmNewtonRule implements AveragingRule {
  readonly kinds = [UpdateKind.UPDATE]
  readonly roundTimeoutMs = null
  private w: number
  /** Push-sum numerator of the statistics part (header slots hold the constant header). */
  private num: Float64Array | null = null
  /** This peer's statistics as its learner last gave them. */
  private own: Float64Array | null = null
  private phase = -1
  /** Shares of a later phase than ours (a sender ahead of us), absorbed when we start that phase. */
  private pending: Array<{ phase: number, x: Float64Array, weight: number, from: PeerKey }> = []

  constructor (private readonly ctx: RuleContext<GlmNewtonParams>) {
    this.w = ctx.mass()
    if (ctx.options.localSteps < 1) throw new GlmNewtonSetupError('rule glm-newton evaluates the statistics in the local step: localSteps must be at least 1')
  }

  roundWindow (): { maxLag: number, maxLead: number } {
    return { maxLag: this.ctx.options.maxRoundLag, maxLead: this.ctx.options.maxRoundLead }
  }

  private numerator (v: Float32Array, length: number): Float64Array {
    if (this.num == null) {
      this.num = new Float64Array(length)
      for (let i = 0; i < 4; i++) this.num[i] = v[i]
      this.num[0] = GLM_WORKING_VERSION
    }
    return this.num
  }

  /**
   * [num / w | model] as the learner's vector (its model part from `model`). Slot 0 is the mark the learner
   * reads: GLM_WORKING_VERSION (STEP: take the Newton step from this estimate; also what travels) or its
   * negative (HOLD: the coefficients stay).
   */
  private estimate (model: Float32Array, length: number, step: boolean): Float32Array {
    const num = this.numerator(model, length)
    const out = new Float32Array(model.length)
    for (let i = 0; i < 4; i++) out[i] = num[i]
    if (!step) out[0] = -GLM_WORKING_VERSION
    for (let i = 4; i < length; i++) out[i] = num[i] / this.w
    out.set(model.subarray(length), length)
    return out
  }

  async send (honest: Float32Array, options: AbortOptions): Promise<void> {
    const ctx = this.ctx
    const length = statsPart(honest)
    const all = ctx.neighbours()
    const targets = ctx.params.fanout === 'all' ? all : ctx.rng.sample(all, ctx.params.fanout)
    const { vector, share } = await ctx.exclusive(() => {
      const num = this.numerator(honest, length)
      const previous = this.own
      const own = Float64Array.from(honest.subarray(0, length))
      this.own = own
      const phase = phaseOf(ctx.round, ctx.params.phases).phase
      if (!ctx.params.track && phase !== this.phase) {
        // a new phase: a fresh push-sum of every peer's statistics at its new coefficients
        for (let i = 4; i < length; i++) num[i] = own[i]
        this.w = ctx.mass()
        for (const p of this.pending) {
          if (p.phase !== phase) continue
          // screened now, against this phase's own evaluation (the one it was sent in)
          if (this.implausible(p.x, num, length)) { ctx.refuse(RefusalReason.IMPLAUSIBLE_STATISTICS, p.from); continue }
          for (let i = 4; i < length; i++) num[i] += p.weight * p.x[i]
          this.w += p.weight
        }
        this.pending = this.pending.filter((p) => p.phase > phase)
      } else if (ctx.params.track) {
        // tracking: add this peer's increment since its previous statistics (all of them the first time; a
        // restart counts them again: tracking is not restart-safe)
        for (let i = 4; i < length; i++) num[i] += own[i] - (previous?.[i] ?? 0)
      }
      this.phase = phase
      const v = this.estimate(honest, length, true)
      ctx.setModel(this.estimate(honest, length, false))
      const s = this.w / (targets.length + 1)
      if (targets.length > 0) {
        const keep = 1 / (targets.length + 1)
        for (let i = 4; i < length; i++) num[i] *= keep
        this.w = s
      }
      return { vector: v, share: s }
    })
    if (targets.length === 0) return
    const { delivered } = await ctx.send(ctx.fields(UpdateKind.UPDATE, share), vector, targets, vector, options)
    const lost = targets.length - delivered.length
    if (lost > 0) {
      // undelivered shares come back: the sums stay conserved
      await ctx.exclusive(() => { this.absorb(vector, share * lost, length, ctx.model()) })
    }
  }

  /**
   * Whether a share fails the bound (learning/glm/share-bound.ts) against our learner's own evaluation and the
   * running estimate `num / w` (false when the bound is off, with tracking, or without the exact GLM learner).
   */
  private implausible (x: Float64Array, num: Float64Array, length: number): boolean {
    const { params, learner } = this.ctx
    if (params.bound === 'off' || params.track || !(learner instanceof GlmNetworkLearner)) return false
    const estimate = new GlmStats(Float64Array.from(num.subarray(0, length), (v, i) => i < 4 ? v : v / this.w))
    return learner.screenShare(new GlmStats(x), estimate, params.bound) != null
  }

  private absorb (x: ArrayLike<number>, weight: number, length: number, own: Float32Array): void {
    const num = this.numerator(own, length)
    for (let i = 4; i < length; i++) num[i] += weight * x[i]
    this.w += weight
    this.ctx.setModel(this.estimate(own, length, false))
  }

  async receive ({ header, weights }: AcceptedUpdate): Promise<ReceiveOutcome> {
    const ctx = this.ctx
    const mergeAllowed = ctx.merges()
    return await ctx.exclusive((): ReceiveOutcome => {
      const own = ctx.model()
      const length = statsPart(own)
      let x: GlmStats
      try {
        x = decodeWorking(weights.subarray(0, length), new GlmStats(Float64Array.from(this.numerator(own, length))), { maxRows: ctx.params.maxExampleCount, maxValue: ctx.params.maxStatistic })
      } catch (err) {
        if ((err as Error).name !== 'GlmStatsError') throw err
        return { merged: false, refusal: RefusalReason.MALFORMED }
      }
      // a share of an earlier phase: its push-sum is over (restarting mode)
      const senderPhase = phaseOf(header.round, ctx.params.phases).phase
      if (!ctx.params.track && senderPhase < this.phase) return { merged: false, refusal: RefusalReason.STALE_ROUND }
      // a weight near Number.MAX_VALUE would overflow ours to Infinity (the engine clamps it before us anyway)
      if (!Number.isFinite(this.w + header.weight)) return { merged: false, refusal: RefusalReason.NON_FINITE }
      if (!mergeAllowed) { this.w += header.weight; return { merged: false, refusal: null } }
      if (!ctx.params.track && senderPhase > this.phase && this.phase >= 0) {
        // a share of a phase we have not started: it belongs to that phase's push-sum (bounded: the oldest goes)
        this.pending.push({ phase: senderPhase, x: x.data, weight: header.weight, from: header.sender })
        if (this.pending.length > MAX_PENDING) this.pending.shift()
        return { merged: true, refusal: null }
      }
      if (this.implausible(x.data, this.numerator(own, length), length)) return { merged: false, refusal: RefusalReason.IMPLAUSIBLE_STATISTICS }
      this.absorb(x.data, header.weight, length, own)
      return { merged: true, refusal: null }
    })
  }

  async endRound (round: number): Promise<void> {
    const ctx = this.ctx
    ctx.metrics?.set(ENGINE_METRICS.pushSumWeight, this.w)
    // the end of a phase: the learner takes the Newton step from this estimate (the round decides, for every peer alike)
    if (this.num != null && phaseOf(round, ctx.params.phases).last) {
      await ctx.exclusive(() => {
        const own = ctx.model()
        ctx.setModel(this.estimate(own, statsPart(own), true))
      })
    }
  }

  roundComplete (): boolean { return true }
  weight (): number { return this.w }

  restore (cp: Checkpoint): void {
    if (cp.rule !== 'glm-newton' || !(cp.pushSumWeight > 0) || cp.weights.length < STATS_HEADER) return
    const v = Float32Array.from(cp.weights)
    const length = statsPart(v)
    this.w = cp.pushSumWeight
    this.num = new Float64Array(length)
    for (let i = 0; i < 4; i++) this.num[i] = v[i]
    this.num[0] = GLM_WORKING_VERSION
    for (let i = 4; i < length; i++) this.num[i] = v[i] * this.w
  }

  rebuffer (): boolean { return false }
}

export const glmNewton = defineRule({
  name: 'glm-newton',
  schema: glmNewtonParamsSchema,
  traits: { sendsOnReceive: false, buffers: false, lamportRounds: true },
  create: (ctx) => new GlmNewtonRule(ctx)
})
