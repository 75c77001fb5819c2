/**
 * The registry of averaging rules: name -> definition (parameter schema, traits, factory). A new rule is one
 * file in this folder (see types.ts for the interface) plus one entry in `RULES`; manifests, scenario files,
 * the simulator and the daemon all read the rules from here.
 *
 * @example
 * ```ts
 * import { parseAveragingParams, averagingRule } from './protocol/engine/rules/index.js'
 * const params = parseAveragingParams({ rule: 'epidemic', fanout: 3, merge: 'trimmed-mean', trimBeta: 0.2 })
 * // => { rule: 'epidemic', fanout: 3, merge: 'trimmed-mean', trimBeta: 0.2, weighting: 'examples', ... }
 * averagingRule('pairwise').traits.sendsOnReceive   // true: answering a request sends the reply
 * ```
 */
import { z } from 'zod'
import { InvalidAveragingParamsError } from '../../averaging/params.js'
import type { AveragingRuleDefinition } from './types.js'
import { pairwise } from './pairwise.js'
import { pushSum } from './push-sum.js'
import { epidemic } from './epidemic.js'
import { dpsgd } from './dpsgd.js'
import { gossipLearning } from './gossip-learning.js'
import { glmNewton } from './glm-newton.js'

const RULES = [pairwise, pushSum, epidemic, dpsgd, gossipLearning, glmNewton] as const

type RuleSchema = typeof RULES[number]['schema']
export type AveragingParams = z.output<RuleSchema>
export type AveragingParamsInput = z.input<RuleSchema>
export type AveragingRuleName = AveragingParams['rule']

/** The rules' names, in registry order. */
export const AVERAGING_RULES: readonly AveragingRuleName[] = RULES.map((r) => r.name)

export const averagingParamsSchema = z.discriminatedUnion('rule', RULES.map((r) => r.schema) as unknown as [RuleSchema, ...RuleSchema[]])

/** Thrown when a rule name is not in the registry. */
export class UnknownAveragingRuleError extends Error {
  static override name = 'UnknownAveragingRuleError'
  override name = 'UnknownAveragingRuleError'
}

/** The definition of a registered rule; throws UnknownAveragingRuleError naming the known ones. */
export function averagingRule (name: string): AveragingRuleDefinition {
  const rule = RULES.find((r) => r.name === name)
  if (rule == null) throw new UnknownAveragingRuleError(`unknown averaging rule '${name}' (rules: ${AVERAGING_RULES.join(', ')})`)
  return rule as unknown as AveragingRuleDefinition
}

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

export { InvalidAveragingParamsError } from '../../averaging/params.js'
export type { EpidemicParams } from './epidemic.js'
export type { PushSumParams } from './push-sum.js'
export type { PairwiseParams } from './pairwise.js'
export type { DpsgdParams } from './dpsgd.js'
export type { GlmNewtonParams } from './glm-newton.js'
export * from './types.js'
