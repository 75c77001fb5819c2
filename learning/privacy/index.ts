/**
 * Differential privacy for local training: a Rényi-DP accountant for the Poisson-subsampled Gaussian
 * mechanism (per peer), DP-SGD's per-example clipping and Gaussian noise, and the manifest's `privacy` block.
 *
 * @example
 * ```ts
 * import { RdpAccountant, noiseForTarget } from './learning/privacy/index.js'
 *
 * const sigma = noiseForTarget(8, 1e-5, 0.01, 5000)     // noise multiplier for epsilon 8 after 5000 steps at q 0.01
 * const acc = new RdpAccountant()
 * acc.step(0.01, sigma, 100)                             // 100 DP-SGD steps
 * acc.spent(1e-5)                                        // { epsilon, delta, order }
 * ```
 */
export { RdpAccountant, epsilonFromRdp, epsilonOf, noiseForTarget, type AccountantEntry, type AccountantState, type Conversion, type PrivacySpent } from './accountant.js'
export { computeRdp, rdpStep, logErfc } from './rdp.js'
export { DEFAULT_ORDERS, OPACUS_ORDERS, TF_PRIVACY_ORDERS, DEFAULT_DELTA } from './constants.js'
export { AccountantStateError, InvalidPrivacyError, PrivacyBudgetExhaustedError } from './errors.js'
export { PeerPrivacy, type PeerPrivacyInit, type PrivacyStatus } from './peer.js'
export { addGaussianNoise, checkDpSgdOptions, clipFactor, clipRows, cryptoNormal, gaussianNoise, type DpSgdOptions } from './dp-sgd.js'
export { PrivacySpecSchema, parsePrivacySpec, type PrivacySpec, type PrivacySpecInput } from '../specs.js'
