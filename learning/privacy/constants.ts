/** Defaults of differential privacy. */

/**
 * Opacus' RDPAccountant.DEFAULT_ALPHAS: 1.1, 1.2, ..., 10.9, then 12..63.
 * (opacus/accountants/rdp.py: `[1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))`.)
 */
export const OPACUS_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10),
  ...Array.from({ length: 52 }, (_, i) => 12 + i)
])

/**
 * TF Privacy's compute_dp_sgd_privacy orders: 1.25 .. 4.5, 5..63, 128, 256, 512
 * (tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_lib.py).
 */
export const TF_PRIVACY_ORDERS: readonly number[] = Object.freeze([
  1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5, ...Array.from({ length: 59 }, (_, i) => 5 + i), 128, 256, 512
])

/** The orders the accountant tracks by default: the union of both (more orders only tighten the bound). */
export const DEFAULT_ORDERS: readonly number[] = Object.freeze([...new Set([...OPACUS_ORDERS, ...TF_PRIVACY_ORDERS])].sort((a, b) => a - b))

/** Default delta of a privacy budget. */
export const DEFAULT_DELTA = 1e-5

/** Opacus' get_noise_multiplier tolerance on epsilon, and its first upper bracket for sigma. */
export const NOISE_SEARCH_EPSILON_TOLERANCE = 0.01
export const NOISE_SEARCH_START = 10
/** The largest noise multiplier the search tries before giving up (a target that needs more is unreachable). */
export const NOISE_SEARCH_MAX = 1e6

/** Most distinct (q, sigma) entries an accountant state holds (bounds a loaded state). */
export const MAX_ACCOUNTANT_ENTRIES = 4096
