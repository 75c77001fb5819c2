/**
 * Averaging rule parameters, as they appear in a network manifest or a scenario file, validated with zod.
 *
 * ```ts
 * parseAveragingParams({ rule: 'epidemic', fanout: 3, merge: 'trimmed-mean', trimBeta: 0.2 })
 * // => { rule: 'epidemic', fanout: 3, merge: 'trimmed-mean', trimBeta: 0.2, weighting: 'examples', ... }
 * ```
 */
import { z } from 'zod'

export const AVERAGING_RULES = ['pairwise', 'push-sum', 'epidemic', 'dpsgd'] as const
export type AveragingRuleName = typeof AVERAGING_RULES[number]
export const MERGES = ['mean', 'median', 'trimmed-mean', 'clipped'] as const
export type MergeName = typeof MERGES[number]

/** Thrown for invalid averaging parameters; the message names the field. */
export class InvalidAveragingParamsError extends Error {
  static override name = 'InvalidAveragingParamsError'
  override name = 'InvalidAveragingParamsError'
}

const weighting = z.enum(['examples', 'uniform']).default('examples')
  .describe('examples: weigh each model by its local example count; uniform: all equal')

const robust = {
  merge: z.enum(MERGES).default('mean').describe('how several models are combined'),
  trimBeta: z.number().min(0).lt(0.5).default(0.2).describe('trimmed-mean: fraction dropped at each end'),
  clipRadius: z.union([z.literal('adaptive'), z.number().positive()]).default('adaptive')
    .describe('clipped: fixed radius, or adaptive (clip the farthest neighbours up to clipFraction of weight)'),
  clipFraction: z.number().min(0).lt(1).default(0.2).describe('clipped, adaptive radius: assumed adversarial weight fraction')
}

export const pairwiseParamsSchema = z.object({
  rule: z.literal('pairwise'),
  weighting,
  initiateProbability: z.number().gt(0).max(1).default(0.5)
    .describe('chance that a peer starts an exchange in a round (the others answer)')
}).strict()

export const pushSumParamsSchema = z.object({
  rule: z.literal('push-sum'),
  weighting,
  fanout: z.number().int().min(1).max(64).default(1).describe('out-neighbours each round (SGP uses 1)')
}).strict()

export const epidemicParamsSchema = z.object({
  rule: z.literal('epidemic'),
  weighting,
  fanout: z.number().int().min(1).max(256).default(3).describe('s: peers each model is sent to per round'),
  ...robust,
  stalenessHalfLifeRounds: z.number().min(0).default(0).describe('0: no discount; else weight halves every this many rounds late'),
  maxStalenessRounds: z.number().int().min(0).default(10).describe('updates older than this many rounds are refused (STALE_ROUND)')
}).strict()

export const dpsgdParamsSchema = z.object({
  rule: z.literal('dpsgd'),
  weighting: z.literal('uniform').default('uniform').describe('Metropolis-Hastings weights only (doubly stochastic)'),
  ...robust,
  roundTimeoutMs: z.number().int().positive().default(30_000).describe('daemon mode: how long to wait for neighbours each round')
}).strict()

export const averagingParamsSchema = z.discriminatedUnion('rule', [
  pairwiseParamsSchema, pushSumParamsSchema, epidemicParamsSchema, dpsgdParamsSchema
])

export type PairwiseParams = z.output<typeof pairwiseParamsSchema>
export type PushSumParams = z.output<typeof pushSumParamsSchema>
export type EpidemicParams = z.output<typeof epidemicParamsSchema>
export type DpsgdParams = z.output<typeof dpsgdParamsSchema>
export type AveragingParams = z.output<typeof averagingParamsSchema>
export type AveragingParamsInput = z.input<typeof averagingParamsSchema>
export type RobustMergeParams = Pick<EpidemicParams, 'merge' | 'trimBeta' | 'clipRadius' | 'clipFraction'>

/**
 * Validates and fills defaults. `source` names where the object came from (a file) for the error message.
 * Throws InvalidAveragingParamsError naming each bad field, e.g. `network.json: averaging.fanout: Too small`.
 */
export function parseAveragingParams (input: unknown, source = 'averaging'): AveragingParams {
  const result = averagingParamsSchema.safeParse(input)
  if (result.success) return result.data
  const lines = result.error.issues.map((issue) => {
    const path = issue.path.length > 0 ? `.${issue.path.join('.')}` : ''
    return `${source}${path}: ${issue.message}`
  })
  throw new InvalidAveragingParamsError(`invalid averaging parameters (rules: ${AVERAGING_RULES.join(', ')}):\n  ${lines.join('\n  ')}`)
}
