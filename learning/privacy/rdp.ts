/**
 * Rényi-DP of the Poisson-subsampled Gaussian mechanism (Mironov, Talwar, Zhang 2019, "Rényi Differential
 * Privacy of the Sampled Gaussian Mechanism", Section 3.3): log A_alpha by the binomial expansion for integer
 * orders and by the two-sided erfc series for fractional orders. The same computation as Opacus'
 * `opacus/accountants/analysis/rdp.py` and TF Privacy's `compute_rdp`; all in log space.
 */
import { InvalidPrivacyError } from './errors.js'

/** log(e^x + e^y). */
function logAdd (x: number, y: number): number {
  const a = Math.min(x, y); const b = Math.max(x, y)
  if (a === -Infinity) return b
  return Math.log1p(Math.exp(a - b)) + b
}

/** log(e^x - e^y), x >= y. */
function logSub (x: number, y: number): number {
  if (x < y) throw new RangeError('logSub: the result would be negative')
  if (y === -Infinity) return x
  if (x === y) return -Infinity
  const d = x - y
  // expm1 overflows past ~709: then e^x - e^y ~ e^x
  return d > 700 ? x : Math.log(Math.expm1(d)) + y
}

/** erf(x) by its Taylor series (|x| <= 2.5: at most ~1e-14 absolute error). */
function erfSeries (x: number): number {
  const x2 = x * x
  let term = x; let sum = x
  for (let n = 1; n < 200; n++) {
    term *= -x2 / n
    const t = term / (2 * n + 1)
    sum += t
    if (Math.abs(t) < 1e-17 * Math.abs(sum)) break
  }
  return sum * 2 / Math.sqrt(Math.PI)
}

/** log(erfc(x) * e^{x^2}) for x >= 2.5, by the continued fraction (modified Lentz). */
function logScaledErfcCf (x: number): number {
  // erfc(x) = e^{-x^2}/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
  const tiny = 1e-300
  let f = x; let C = x; let D = 0
  for (let n = 1; n < 500; n++) {
    const a = n / 2
    D = x + a * D; if (D === 0) D = tiny
    C = x + a / C; if (C === 0) C = tiny
    D = 1 / D
    const delta = C * D
    f *= delta
    if (Math.abs(delta - 1) < 1e-16) break
  }
  return -Math.log(f) - 0.5 * Math.log(Math.PI)
}

/** log(erfc(x)), accurate far into the tail (what `log_ndtr` gives Opacus and TF Privacy). */
export function logErfc (x: number): number {
  if (x === Infinity) return -Infinity
  if (x === -Infinity) return Math.LN2
  if (x >= 2.5) return -x * x + logScaledErfcCf(x)
  if (x > -2.5) return Math.log(1 - erfSeries(x))
  // erfc(x) = 2 - erfc(-x)
  return Math.log(2 - Math.exp(-x * x + logScaledErfcCf(-x)))
}

function logAInt (q: number, sigma: number, alpha: number): number {
  let logA = -Infinity
  let logBinom = 0 // log C(alpha, 0)
  const lq = Math.log(q); const l1q = Math.log1p(-q)
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) logBinom += Math.log((alpha - i + 1) / i)
    const s = logBinom + i * lq + (alpha - i) * l1q + (i * i - i) / (2 * sigma * sigma)
    logA = logAdd(logA, s)
  }
  return logA
}

function logAFrac (q: number, sigma: number, alpha: number): number {
  let a0 = -Infinity; let a1 = -Infinity
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5
  const lq = Math.log(q); const l1q = Math.log1p(-q)
  const s2 = Math.SQRT2 * sigma
  let coef = 1 // C(alpha, i), signed
  for (let i = 0; ; i++) {
    if (i > 0) coef *= (alpha - i + 1) / i
    const logCoef = Math.log(Math.abs(coef))
    const j = alpha - i
    const t0 = logCoef + i * lq + j * l1q
    const t1 = logCoef + j * lq + i * l1q
    const e0 = Math.log(0.5) + logErfc((i - z0) / s2)
    const e1 = Math.log(0.5) + logErfc((z0 - j) / s2)
    const s0 = t0 + (i * i - i) / (2 * sigma * sigma) + e0
    const s1 = t1 + (j * j - j) / (2 * sigma * sigma) + e1
    if (coef > 0) { a0 = logAdd(a0, s0); a1 = logAdd(a1, s1) } else { a0 = logSub(a0, s0); a1 = logSub(a1, s1) }
    if (Math.max(s0, s1) < -30 || i > 100000) break
  }
  return logAdd(a0, a1)
}

/**
 * RDP at `order` of ONE step of the Gaussian mechanism with noise multiplier `sigma` (noise std / L2
 * sensitivity) on a Poisson sample of rate `q`.
 */
export function rdpStep (q: number, sigma: number, order: number): number {
  if (!(q >= 0 && q <= 1)) throw new InvalidPrivacyError(`sampling rate q must be in [0, 1], got ${q}`, 'q')
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new InvalidPrivacyError(`noise multiplier must be finite and >= 0, got ${sigma}`, 'noiseMultiplier')
  if (!(order > 1)) throw new InvalidPrivacyError(`RDP order must be > 1, got ${order}`, 'order')
  if (q === 0) return 0
  if (sigma === 0) return Infinity
  if (q === 1) return order / (2 * sigma * sigma)
  if (order === Infinity) return Infinity
  const logA = Number.isInteger(order) ? logAInt(q, sigma, order) : logAFrac(q, sigma, order)
  return logA / (order - 1)
}

/** RDP of `steps` compositions of the subsampled Gaussian at each order (RDP adds up under composition). */
export function computeRdp (q: number, sigma: number, steps: number, orders: readonly number[]): Float64Array {
  if (!(Number.isInteger(steps) && steps >= 0)) throw new InvalidPrivacyError(`steps must be an integer >= 0, got ${steps}`, 'steps')
  return Float64Array.from(orders, (a) => steps === 0 ? 0 : rdpStep(q, sigma, a) * steps)
}
