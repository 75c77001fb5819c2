/**
 * GLM families with their links, as R's `poisson()`, `binomial()`, `Gamma(link = 'log')` and statmod's
 * `tweedie(var.power = p, link.power = 0)`: variance, unit deviance, inverse link and its derivative (clamped
 * as R clamps them), IRLS working weights, the start of the intercept and the AIC.
 */
import { lchoose, lgamma } from './special.js'
import { GlmFitError } from './errors.js'

export const FAMILY_NAMES = ['poisson', 'binomial', 'gamma', 'tweedie'] as const
export type FamilyName = typeof FAMILY_NAMES[number]
export type LinkName = 'log' | 'logit'

/** Family codes in the statistics header (a receiver checks them against the manifest). */
export const FAMILY_CODES: Record<FamilyName, number> = { poisson: 1, binomial: 2, gamma: 3, tweedie: 4 }

const DBL_EPSILON = 2.220446049250313e-16

export interface GlmFamily {
  readonly name: FamilyName
  readonly link: LinkName
  /** Tweedie variance power p (1 < p < 2); NaN for the other families. */
  readonly power: number
  /** Dispersion fixed at 1 (poisson, binomial); otherwise estimated as Pearson chi2 / residual df, as R. */
  readonly fixedDispersion: boolean
  linkfun: (mu: number) => number
  linkinv: (eta: number) => number
  /** d mu / d eta at eta. */
  muEta: (eta: number) => number
  variance: (mu: number) => number
  /** Unit deviance d(y, mu) (a row's deviance is its prior weight times this). */
  unitDeviance: (y: number, mu: number) => number
  /** Why a response (with its prior weight) is outside the family's support, or null if it is fine. */
  checkResponse: (y: number, weight: number) => string | null
  /** The two additive log-likelihood terms a row contributes (family-specific; see aic). */
  logLikTerms: (y: number, mu: number, weight: number, out: Float64Array) => void
  /** AIC from the summed log-likelihood terms, the summed prior weights, the deviance and the rank (NaN where R gives NA). */
  aic: (term0: number, term1: number, sumWeights: number, deviance: number, rank: number) => number
  /**
   * The intercept's start from the statistics at beta = 0: the link of the data's own mean, log(sum w y /
   * sum w exp(offset)) for the log link, logit(sum w y / sum w) for the logit link.
   */
  startIntercept: (sumWY: number, sumW: number, sumWMuAtZero: number) => number
}

export interface FamilyOptions {
  /** Tweedie variance power, 1 < p < 2 (compound Poisson-gamma). */
  power?: number
}

function logLink (): Pick<GlmFamily, 'link' | 'linkfun' | 'linkinv' | 'muEta'> {
  return {
    link: 'log',
    linkfun: (mu) => Math.log(mu),
    linkinv: (eta) => Math.max(Math.exp(eta), DBL_EPSILON),
    muEta: (eta) => Math.max(Math.exp(eta), DBL_EPSILON)
  }
}

function logStart (family: string) {
  return (sumWY: number, _sumW: number, sumWMuAtZero: number): number => {
    if (!(sumWY > 0)) throw new GlmFitError(`${family} GLM: the weighted response total is ${sumWY}; a log-link fit needs some positive responses`)
    if (!(sumWMuAtZero > 0) || !Number.isFinite(sumWMuAtZero)) throw new GlmFitError(`${family} GLM: the exposure total is ${sumWMuAtZero}`)
    return Math.log(sumWY / sumWMuAtZero)
  }
}

const yLogY = (y: number, mu: number): number => y > 0 ? y * Math.log(y / mu) : 0

function poisson (): GlmFamily {
  return {
    name: 'poisson',
    ...logLink(),
    power: NaN,
    fixedDispersion: true,
    variance: (mu) => mu,
    unitDeviance: (y, mu) => y > 0 ? 2 * (y * Math.log(y / mu) - (y - mu)) : 2 * mu,
    checkResponse: (y) => y >= 0 && Number.isFinite(y) ? null : `a Poisson response must be a non-negative number, got ${y}`,
    logLikTerms: (y, mu, w, out) => {
      out[0] = w * ((y > 0 ? y * Math.log(mu) : 0) - mu - lgamma(y + 1))
      out[1] = 0
    },
    aic: (t0, _t1, _sw, _dev, rank) => -2 * t0 + 2 * rank,
    startIntercept: logStart('poisson')
  }
}

function binomial (): GlmFamily {
  return {
    name: 'binomial',
    link: 'logit',
    power: NaN,
    fixedDispersion: true,
    linkfun: (mu) => Math.log(mu / (1 - mu)),
    linkinv: (eta) => eta < -30 ? DBL_EPSILON : eta > 30 ? 1 - DBL_EPSILON : 1 / (1 + Math.exp(-eta)),
    muEta: (eta) => {
      if (eta > 30 || eta < -30) return DBL_EPSILON
      const e = Math.exp(-Math.abs(eta))
      return e / ((1 + e) * (1 + e))
    },
    variance: (mu) => mu * (1 - mu),
    unitDeviance: (y, mu) => 2 * (yLogY(y, mu) + yLogY(1 - y, 1 - mu)),
    checkResponse: (y) => y >= 0 && y <= 1 ? null : `a binomial response is a proportion in [0, 1] (the prior weight counts the trials), got ${y}`,
    logLikTerms: (y, mu, w, out) => {
      // R's binomial()$aic: the prior weight is the number of trials, y the proportion of successes
      out[1] = 0
      if (!(w > 0)) { out[0] = 0; return }
      const n = Math.round(w)
      const k = Math.round(w * y)
      out[0] = lchoose(n, k) + (k > 0 ? k * Math.log(mu) : 0) + (n - k > 0 ? (n - k) * Math.log(1 - mu) : 0)
    },
    aic: (t0, _t1, _sw, _dev, rank) => -2 * t0 + 2 * rank,
    startIntercept: (sumWY, sumW) => {
      const p = sumWY / sumW
      if (!(p > 0 && p < 1)) throw new GlmFitError(`binomial GLM: the mean response is ${p}; a logit fit needs both outcomes`)
      return Math.log(p / (1 - p))
    }
  }
}

function gamma (): GlmFamily {
  return {
    name: 'gamma',
    ...logLink(),
    power: NaN,
    fixedDispersion: false,
    variance: (mu) => mu * mu,
    unitDeviance: (y, mu) => -2 * (Math.log(y === 0 ? 1 : y / mu) - (y - mu) / mu),
    checkResponse: (y) => y > 0 && Number.isFinite(y) ? null : `a gamma response must be positive, got ${y}`,
    logLikTerms: (y, mu, w, out) => {
      const ly = Math.log(y)
      out[0] = w * (ly - y / mu - Math.log(mu))
      out[1] = w * ly
    },
    aic: (t0, t1, sw, dev, rank) => {
      // R's Gamma()$aic with dispersion dev / sum(w), plus 2 for it, plus 2 * rank from glm.fit
      const phi = dev / sw
      const ll = t0 / phi - t1 - sw * (lgamma(1 / phi) + Math.log(phi) / phi)
      return -2 * ll + 2 + 2 * rank
    },
    startIntercept: logStart('gamma')
  }
}

function tweedie (p: number): GlmFamily {
  if (!(p > 1 && p < 2)) throw new GlmFitError(`tweedie GLM: the variance power must lie in (1, 2), got ${p} (use poisson for 1, gamma for 2)`)
  return {
    name: 'tweedie',
    ...logLink(),
    power: p,
    fixedDispersion: false,
    variance: (mu) => Math.pow(mu, p),
    unitDeviance: (y, mu) => {
      // statmod's tweedie()$dev.resids for 1 < p < 2; y theta vanishes at y = 0
      const theta = y > 0 ? y * (Math.pow(y, 1 - p) - Math.pow(mu, 1 - p)) / (1 - p) : 0
      const kappa = (Math.pow(y, 2 - p) - Math.pow(mu, 2 - p)) / (2 - p)
      return 2 * (theta - kappa)
    },
    checkResponse: (y) => y >= 0 && Number.isFinite(y) ? null : `a tweedie response must be non-negative, got ${y}`,
    logLikTerms: (_y, _mu, _w, out) => { out[0] = 0; out[1] = 0 },
    aic: () => NaN,
    startIntercept: logStart('tweedie')
  }
}

/**
 * A family by name.
 *
 * @example
 * ```ts
 * const f = glmFamily('tweedie', { power: 1.5 })
 * f.variance(2)   // 2 ** 1.5
 * ```
 */
export function glmFamily (name: FamilyName, options: FamilyOptions = {}): GlmFamily {
  switch (name) {
    case 'poisson': return poisson()
    case 'binomial': return binomial()
    case 'gamma': return gamma()
    case 'tweedie': return tweedie(options.power ?? 1.5)
    default: throw new GlmFitError(`unknown GLM family '${String(name)}' (one of ${FAMILY_NAMES.join(', ')})`)
  }
}
