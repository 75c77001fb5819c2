/**
 * The parameter pieces averaging rules share, as zod fields: how models are weighed and how several are merged.
 * Each rule's own schema (its `rule` literal and its fields) lives with the rule in protocol/engine/rules/, and
 * `parseAveragingParams` there validates a manifest's or scenario's parameters against the registry of rules.
 *
 * ```ts
 * const schema = z.object({ rule: z.literal('my-rule'), weighting, ...robustMergeFields }).strict()
 * ```
 */
import { z } from 'zod'

/** Defaults of the bounded-influence fields (`influenceFields`). */
export const DEFAULT_CLIP = { multiplier: 1, floor: 1e-3, redescend: 4, maxExampleCount: 1_000_000, maxWeightRatio: 2 } as const

export const MERGES = ['mean', 'median', 'trimmed-mean', 'clipped'] as const
export type MergeName = typeof MERGES[number]

/** Thrown for invalid averaging parameters; the message names the field. */
export class InvalidAveragingParamsError extends Error {
  static override name = 'InvalidAveragingParamsError'
  override name = 'InvalidAveragingParamsError'
}

/** How each model is weighed in a merge. */
export const weighting = z.enum(['examples', 'uniform']).default('examples')
  .describe('examples: weigh each model by its local example count; uniform: all equal')

/** The fields of a rule that combines several models at once (protocol/averaging/combine.ts). */
export const robustMergeFields = {
  merge: z.enum(MERGES).default('mean').describe('how several models are combined'),
  trimBeta: z.number().min(0).lt(0.5).default(0.2).describe('trimmed-mean: fraction dropped at each end'),
  clipRadius: z.union([z.literal('adaptive'), z.number().positive()]).default('adaptive')
    .describe('clipped: fixed radius, or adaptive (clip the farthest neighbours up to clipFraction of weight)'),
  clipFraction: z.number().min(0).lt(1).default(0.2).describe('clipped, adaptive radius: assumed adversarial weight fraction')
}

/**
 * Bounded influence, shared by every rule (applied by the engine core before a rule sees an update; see
 * protocol/averaging/bound.ts and docs/averaging.md "Bounded influence"):
 * - `clip`: self-centred clipping of every received model to a radius tau around the receiver's own. `radius`
 *   fixes tau; otherwise tau = `multiplier` x the lower median of the latest distance of each recent sender,
 *   at least `floor`; a model farther than `redescend` x tau is clipped to tau x redescend x tau / distance
 *   (far outliers pull less than honest models at the radius). `'off'` turns clipping off.
 * - `maxExampleCount`: sender-reported example counts and masses are clamped to this.
 * - `maxWeightRatio`: a sender's mass or push-sum weight is clamped to this many times the receiver's own mass.
 */
export const clipSchema = z.union([
  z.literal('off'),
  z.object({
    radius: z.number().positive().finite().optional().describe('fixed clipping radius (else adaptive)'),
    multiplier: z.number().positive().finite().default(DEFAULT_CLIP.multiplier).describe('adaptive radius: multiple of the median recent distance'),
    floor: z.number().positive().finite().default(DEFAULT_CLIP.floor).describe('adaptive radius: smallest radius'),
    redescend: z.number().min(1).finite().default(DEFAULT_CLIP.redescend).describe('a model farther than this many radii is clipped to a radius shrinking with its distance')
  }).strict()
]).default({ multiplier: DEFAULT_CLIP.multiplier, floor: DEFAULT_CLIP.floor, redescend: DEFAULT_CLIP.redescend })
export type ClipParams = z.output<typeof clipSchema>

export const influenceFields = {
  clip: clipSchema,
  maxExampleCount: z.number().positive().default(DEFAULT_CLIP.maxExampleCount).describe('sender-reported example counts are clamped to this'),
  maxWeightRatio: z.number().min(1).default(DEFAULT_CLIP.maxWeightRatio).describe('a sender\'s mass is clamped to this many times our own')
}
const influenceSchema = z.object(influenceFields)
export type InfluenceParams = z.output<typeof influenceSchema>

/** The default bounds, spelled out (what `murmur network create` writes into a new manifest). */
export function defaultInfluence (): InfluenceParams {
  return { clip: { multiplier: DEFAULT_CLIP.multiplier, floor: DEFAULT_CLIP.floor, redescend: DEFAULT_CLIP.redescend }, maxExampleCount: DEFAULT_CLIP.maxExampleCount, maxWeightRatio: DEFAULT_CLIP.maxWeightRatio }
}

const robustMergeSchema = z.object(robustMergeFields)
export type RobustMergeParams = z.output<typeof robustMergeSchema>
