/**
 * Special functions in float64 for the coefficient table and the AIC: log-gamma, the normal and Student t
 * tails, through the regularized incomplete gamma and beta functions (series and Lentz continued fractions).
 * Relative accuracy is about 1e-14, well inside what a printed p-value or AIC needs.
 */

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI)
const TINY = 1e-300
const EPS = 1e-16
const MAX_TERMS = 10000

/** log |Gamma(x)| for x > 0 (Stirling's series after shifting x up to 15; reflection below 0.5). */
export function lgamma (x: number): number {
  if (!Number.isFinite(x)) return x === Infinity ? Infinity : NaN
  if (x <= 0 && Number.isInteger(x)) return Infinity
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x)
  let shift = 0
  let prod = 1
  while (x < 15) { prod *= x; x += 1; shift++ }
  const inv = 1 / x
  const inv2 = inv * inv
  const series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680 - inv2 * (1 / 1188 - inv2 * 691 / 360360)))))
  const stirling = (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + series
  return shift > 0 ? stirling - Math.log(prod) : stirling
}

/** log of the binomial coefficient C(n, k). */
export function lchoose (n: number, k: number): number {
  return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)
}

/** Regularized lower incomplete gamma P(a, x) by its series (x < a + 1). */
function gammaSeries (a: number, x: number): number {
  let term = 1 / a
  let sum = term
  for (let n = 1; n < MAX_TERMS; n++) {
    term *= x / (a + n)
    sum += term
    if (Math.abs(term) < Math.abs(sum) * EPS) break
  }
  return sum * Math.exp(-x + a * Math.log(x) - lgamma(a))
}

/** Regularized upper incomplete gamma Q(a, x) by its continued fraction (x >= a + 1), modified Lentz. */
function gammaFraction (a: number, x: number): number {
  let b = x + 1 - a
  let c = 1 / TINY
  let d = 1 / b
  let h = d
  for (let i = 1; i < MAX_TERMS; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b; if (Math.abs(d) < TINY) d = TINY
    c = b + an / c; if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < EPS) break
  }
  return Math.exp(-x + a * Math.log(x) - lgamma(a)) * h
}

/** Regularized upper incomplete gamma Q(a, x) = 1 - P(a, x). */
export function gammaQ (a: number, x: number): number {
  if (x <= 0) return 1
  return x < a + 1 ? 1 - gammaSeries(a, x) : gammaFraction(a, x)
}

/** Upper tail of the standard normal, P(Z > z). */
export function normalUpper (z: number): number {
  if (Number.isNaN(z)) return NaN
  if (z < 0) return 1 - normalUpper(-z)
  return 0.5 * gammaQ(0.5, z * z / 2)
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction (a: number, b: number, x: number): number {
  const qab = a + b
  const qap = a + 1
  const qam = a - 1
  let c = 1
  let d = 1 - qab * x / qap
  if (Math.abs(d) < TINY) d = TINY
  d = 1 / d
  let h = d
  for (let m = 1; m < MAX_TERMS; m++) {
    const m2 = 2 * m
    let aa = m * (b - m) * x / ((qam + m2) * (a + m2))
    d = 1 + aa * d; if (Math.abs(d) < TINY) d = TINY
    c = 1 + aa / c; if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    h *= d * c
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
    d = 1 + aa * d; if (Math.abs(d) < TINY) d = TINY
    c = 1 + aa / c; if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < EPS) break
  }
  return h
}

/** Regularized incomplete beta I_x(a, b). */
export function betaI (x: number, a: number, b: number): number {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const front = Math.exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * Math.log(x) + b * Math.log(1 - x))
  if (x < (a + 1) / (a + b + 2)) return front * betaFraction(a, b, x) / a
  return 1 - front * betaFraction(b, a, 1 - x) / b
}

/** Two-sided p-value of a z statistic: 2 P(Z > |z|). */
export function twoSidedNormal (z: number): number {
  return 2 * normalUpper(Math.abs(z))
}

/** Two-sided p-value of a t statistic with df degrees of freedom: 2 P(T > |t|). */
export function twoSidedT (t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN
  if (!Number.isFinite(df)) return twoSidedNormal(t)
  return betaI(df / (df + t * t), df / 2, 0.5)
}
