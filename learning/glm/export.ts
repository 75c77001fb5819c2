/**
 * The actuary's table from the network: a peer's estimate of the average working statistics (what rule
 * glm-newton leaves in its vector) times the number of peers is the network's summed statistics; from it come
 * the coefficients (the Newton / IRLS solution), standard errors from the inverse of the summed Fisher
 * information, the deviance, the null deviance and the predicted / observed totals: R's summary(glm) table
 * (summary.ts) without pooling a row.
 *
 * @example
 * ```ts
 * const fit = fitFromNetworkVector(design, glmFamily('poisson'), checkpoint.weights, manifest.members.length)
 * process.stdout.write(formatGlmSummary(summarizeGlm(fit, design.references)))
 * ```
 */
import type { GlmFamily } from './family.js'
import type { GlmDesign } from './design.js'
import { GlmStats, statsLength } from './stats.js'
import type { GlmFit } from './solver.js'
import { cholesky, choleskyInverse, unpackSymmetric } from './cholesky.js'
import { solveWorking } from './working.js'
import { GlmStatsError } from './errors.js'
import { FAMILY_CODES } from './family.js'
import { GLM_ALIAS_TOLERANCE, GLM_WORKING_VERSION } from './constants.js'

/**
 * The fit implied by an estimate of the AVERAGE working statistics over `peers` peers (uniform push-sum): the
 * coefficients are its Newton / IRLS solution, or `coefficients` when given (a peer's current ones).
 */
export function fitFromEstimate (design: GlmDesign, family: GlmFamily, estimate: GlmStats, peers: number, options: { rounds?: number, converged?: boolean, coefficients?: Float64Array } = {}): GlmFit {
  if (!(Number.isInteger(peers) && peers >= 1)) throw new GlmStatsError(`the number of peers must be a positive integer, got ${peers}`, 'peers')
  const total = estimate.clone().scale(peers)
  total.data[4] = Math.round(total.data[4]) // a row count (the estimate carries push-sum rounding)
  const sol = solveWorking(total, { intercept: design.intercept })
  const chol = cholesky(unpackSymmetric(total.info, design.p), design.p, GLM_ALIAS_TOLERANCE)
  return {
    family,
    names: design.names,
    coefficients: (options.coefficients ?? sol.beta).map((b, j) => sol.aliased[j] === 1 ? NaN : b),
    aliased: sol.aliased,
    rank: sol.rank,
    covUnscaled: choleskyInverse(chol),
    ridge: 0,
    converged: options.converged ?? true,
    iterations: 0,
    rounds: options.rounds ?? 0,
    stats: total
  }
}

/**
 * The fit from a GLM network learner's vector ([statistics | linear model], network-learner.ts), checking that
 * its header is the design's (working statistics of this family and width). With the STEP mark the estimate is
 * the one the peer just stepped from and the coefficients its solution; with HOLD (statistics still mixing after
 * a phase began) the coefficients are the peer's current ones, from the model part, and the estimate, already
 * at those coefficients, gives the deviance and standard errors.
 */
export function fitFromNetworkVector (design: GlmDesign, family: GlmFamily, vector: ArrayLike<number>, peers: number, options: { rounds?: number } = {}): GlmFit {
  const length = statsLength(design.p)
  if (vector.length < length) throw new GlmStatsError(`the model has ${vector.length} values, fewer than the ${length} statistics of a ${design.p}-column GLM: not an exact GLM (rule glm-newton) model`, 'length')
  const data = Float64Array.from({ length }, (_, i) => vector[i])
  // slot 0 is the rule's mark: +version after a Newton step, -version while the statistics mix (rules/glm-newton.ts)
  if (Math.abs(data[0]) !== GLM_WORKING_VERSION || data[1] !== FAMILY_CODES[family.name] || data[3] !== design.p) {
    throw new GlmStatsError(`the model does not start with ${family.name} working statistics for ${design.p} columns (header ${data[0]}, ${data[1]}, ${data[3]}): not an exact GLM (rule glm-newton) model`, 'version')
  }
  if (!(data[4] > 0)) throw new GlmStatsError('the estimate holds no rows yet: run more rounds', 'n')
  const hold = data[0] !== GLM_WORKING_VERSION
  data[0] = GLM_WORKING_VERSION
  const d = design.numFeatures
  if (vector.length !== length + d + 1) throw new GlmStatsError(`the model has ${vector.length} values, an exact GLM of this design ${length + d + 1}`, 'length')
  const current = Float64Array.from(design.source, (s) => vector[length + (s < 0 ? d : s)])
  return fitFromEstimate(design, family, new GlmStats(data), peers, { ...options, ...(hold ? { coefficients: current } : {}) })
}
