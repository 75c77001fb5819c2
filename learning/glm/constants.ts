/** Defaults of the exact GLM solver. R's `glm.control()` values where R has one. */

/** Convergence: |dev - devOld| / (|dev| + 0.1) < epsilon, as R's glm.fit. */
export const GLM_EPSILON = 1e-8
/** Most Newton steps, as R's glm.control(maxit = 25). */
export const GLM_MAX_ITERATIONS = 25
/** Step halvings when a step lands where the deviance is not finite (as R's glm.fit). */
export const GLM_MAX_HALVINGS = 30
/**
 * A design column is aliased (its coefficient NA, as R prints it) when the part of its Fisher-information
 * diagonal not explained by the earlier columns falls below this fraction of the diagonal (a squared-norm
 * ratio: 1e-10 is a residual norm ratio of 1e-5).
 */
export const GLM_ALIAS_TOLERANCE = 1e-10
/** Largest design width accepted (bounds the p x p information matrix a peer sends: p(p+1)/2 doubles). */
export const GLM_MAX_COLUMNS = 2048
/** Layout version of the statistics vector (first header slot). */
export const GLM_STATS_VERSION = 1
/** Layout version of working statistics (score slot U + I beta, working.ts): what the glm-newton rule gossips. */
export const GLM_WORKING_VERSION = 2
/** Network GLM: the most one Newton step may change a coefficient (design scale; a trust region). */
export const GLM_MAX_STEP = 3
