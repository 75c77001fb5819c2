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

const robustMergeSchema = z.object(robustMergeFields)
export type RobustMergeParams = z.output<typeof robustMergeSchema>
