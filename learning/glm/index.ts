/**
 * The exact GLM: Newton / IRLS on summed per-peer sufficient statistics (score and Fisher information), which
 * reaches the pooled maximum-likelihood fit without pooling rows; families poisson (log, with an exposure
 * offset), binomial (logit), gamma (log) and tweedie (log, 1 < p < 2); an identifiable design from the
 * dataset encoding with R's column names; and the coefficient table of R's `summary(glm)`.
 *
 * @example
 * ```ts
 * import { glmDesign, glmFamily, glmRows, glmRowsByPartition, fitPooled, simulateDecentralized, summarizeGlm, formatGlmSummary } from './learning/glm/index.js'
 *
 * const data = await loadDataset('fremtpl2freq')
 * const design = glmDesign(data)                                  // (Intercept), VehPower, ..., VehBrandB10, ...
 * const family = glmFamily('poisson')
 * const pooled = fitPooled(design, family, glmRows(data, data.train))
 * const peers = glmRowsByPartition(data, data.train).map((g) => g.rows)   // one peer per Region
 * const run = simulateDecentralized(design, family, peers)        // the same fit from summed statistics
 * process.stdout.write(formatGlmSummary(summarizeGlm(run.fit, design.references)))
 * ```
 */
export { glmFamily, FAMILY_NAMES, FAMILY_CODES, type GlmFamily, type FamilyName, type LinkName, type FamilyOptions } from './family.js'
export { glmDesign, cutLabels, INTERCEPT_NAME, type GlmDesign, type EncodedSchema, type DesignOptions, type ReferenceLevel } from './design.js'
export { GlmStats, computeStats, decodeStats, statsLength, packedIndex, STATS_HEADER, type GlmRows } from './stats.js'
export { cholesky, choleskySolve, choleskyInverse, unpackSymmetric, type Cholesky } from './cholesky.js'
export { GlmSolver, fitGlm, fitPooled, type GlmFit, type SolverOptions } from './solver.js'
export { summarizeGlm, formatGlmSummary, type GlmSummary, type CoefficientRow } from './summary.js'
export { simulateDecentralized, sumReceived, type DecentralizedRun, type RoundTrace } from './decentralized.js'
export { glmRows, glmRowsByPartition, type EncodedRows } from './rows.js'
export { workingStats, toWorking, solveWorking, decodeWorking, emptyWorking, familyOfStats, type WorkingSolution } from './working.js'
export { GlmNetworkLearner, type GlmNetworkLearnerInit } from './network-learner.js'
export { lgamma, twoSidedNormal, twoSidedT } from './special.js'
export { GlmDesignError, GlmStatsError, GlmFitError } from './errors.js'
export * as glmDefaults from './constants.js'
export { fitFromEstimate, fitFromNetworkVector } from './export.js'
export { phaseOf, phasesWithin, DEFAULT_PHASES, type PhasePosition } from './phases.js'
export { exactGlmFor, familyOfModel, type ExactGlm } from './from-dataset.js'
export { screenShare, DEFAULT_SHARE_BOUNDS, type ShareBounds, type ShareReference } from './share-bound.js'
export { privateWorkingStats, eigenFloor, sensitivity, type GlmNoise, type PrivateRelease } from './private-stats.js'
export { symmetricEigen, type SymmetricEigen } from './eigen.js'
