/**
 * The coefficient table an actuary reads from R's `summary(glm)`: estimates, standard errors from the Fisher
 * information (times the dispersion, estimated for gamma and tweedie as Pearson chi2 / residual df, as R does),
 * z or t values and p-values, relativities exp(b); null and residual deviance with their df, AIC, and the
 * predicted and observed totals (equal at the maximum-likelihood fit of a log or logit GLM with an intercept).
 */
import type { GlmFit } from './solver.js'
import type { ReferenceLevel } from './design.js'
import { twoSidedNormal, twoSidedT } from './special.js'

export interface CoefficientRow {
  name: string
  /** NaN where aliased (R's NA). */
  estimate: number
  stdError: number
  /** z value (fixed dispersion) or t value (estimated dispersion). */
  statistic: number
  pValue: number
  /** exp(estimate): the multiplicative effect on the mean for a log link, the odds ratio for logit. */
  relativity: number
  aliased: boolean
}

export interface GlmSummary {
  family: string
  link: string
  /** Tweedie variance power, else null. */
  power: number | null
  statisticName: 'z' | 't'
  coefficients: CoefficientRow[]
  dispersion: number
  dispersionEstimated: boolean
  nullDeviance: number
  dfNull: number
  deviance: number
  dfResidual: number
  /** NaN where R gives NA (tweedie). */
  aic: number
  rank: number
  /** Coefficients not defined because of singularities. */
  aliasedCount: number
  ridge: number
  converged: boolean
  iterations: number
  rounds: number
  observed: number
  predicted: number
  /** predicted / observed. */
  ratio: number
  references: ReferenceLevel[]
}

/** Builds the summary of a fit (references: the design's dropped levels, listed under the table). */
export function summarizeGlm (fit: GlmFit, references: readonly ReferenceLevel[] = []): GlmSummary {
  const s = fit.stats
  const p = fit.names.length
  const intercept = fit.names[0] === '(Intercept)'
  const dfResidual = s.n - fit.rank
  const dfNull = s.n - (intercept ? 1 : 0)
  const estimated = !fit.family.fixedDispersion
  const dispersion = estimated ? (dfResidual > 0 ? s.pearson / dfResidual : NaN) : 1
  const coefficients: CoefficientRow[] = []
  for (let j = 0; j < p; j++) {
    const aliased = fit.aliased[j] === 1
    const estimate = fit.coefficients[j]
    const stdError = aliased ? NaN : Math.sqrt(dispersion * fit.covUnscaled[j * p + j])
    const statistic = estimate / stdError
    const pValue = aliased ? NaN : estimated ? twoSidedT(statistic, dfResidual) : twoSidedNormal(statistic)
    coefficients.push({ name: fit.names[j], estimate, stdError, statistic, pValue, relativity: Math.exp(estimate), aliased })
  }
  return {
    family: fit.family.name,
    link: fit.family.link,
    power: Number.isNaN(fit.family.power) ? null : fit.family.power,
    statisticName: estimated ? 't' : 'z',
    coefficients,
    dispersion,
    dispersionEstimated: estimated,
    nullDeviance: s.nullDeviance,
    dfNull,
    deviance: s.deviance,
    dfResidual,
    aic: fit.family.aic(s.logLik0, s.logLik1, s.sumW, s.deviance, fit.rank),
    rank: fit.rank,
    aliasedCount: p - fit.rank,
    ridge: fit.ridge,
    converged: fit.converged,
    iterations: fit.iterations,
    rounds: fit.rounds,
    observed: s.sumWY,
    predicted: s.sumWMu,
    ratio: s.sumWMu / s.sumWY,
    references: [...references]
  }
}

const num = (x: number, digits = 6): string => Number.isNaN(x) ? 'NA' : Number(x.toPrecision(digits)).toString()
const pval = (x: number): string => Number.isNaN(x) ? 'NA' : x < 2e-16 ? '<2e-16' : Number(x.toPrecision(3)).toString()

/** The summary as text laid out like R's print of summary(glm), with a relativity column. */
export function formatGlmSummary (s: GlmSummary): string {
  const familyText = s.power != null ? `tweedie (p = ${s.power})` : s.family
  const stat = s.statisticName
  const header = ['', 'Estimate', 'Std. Error', `${stat} value`, `Pr(>|${stat}|)`, 'exp(Estimate)']
  const rows = s.coefficients.map((c) => [c.name, num(c.estimate), num(c.stdError), num(c.statistic, 4), pval(c.pValue), num(c.relativity)])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (r: string[]): string => r.map((v, i) => i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i])).join('  ')
  const out = [
    `Family: ${familyText}, link: ${s.link}`,
    '',
    s.aliasedCount > 0 ? `Coefficients: (${s.aliasedCount} not defined because of singularities)` : 'Coefficients:',
    line(header),
    ...rows.map(line),
    ''
  ]
  if (s.references.length > 0) out.push(`Reference levels: ${s.references.map((r) => `${r.term} = ${r.level}`).join(', ')}`)
  out.push(`(Dispersion parameter for ${s.family} family taken to be ${num(s.dispersion)}${s.dispersionEstimated ? ', estimated' : ''})`)
  if (s.ridge > 0) out.push(`Ridge penalty ${s.ridge} on the non-intercept coefficients (not the maximum-likelihood fit)`)
  out.push(
    '',
    `    Null deviance: ${num(s.nullDeviance, 8)}  on ${s.dfNull}  degrees of freedom`,
    `Residual deviance: ${num(s.deviance, 8)}  on ${s.dfResidual}  degrees of freedom`,
    `AIC: ${num(s.aic, 8)}`,
    `Predicted / observed total: ${num(s.predicted, 8)} / ${num(s.observed, 8)} = ${num(s.ratio, 8)}`,
    '',
    `Number of Fisher Scoring iterations: ${s.iterations} (${s.rounds} rounds of statistics)${s.converged ? '' : ', NOT converged'}`
  )
  return out.join('\n') + '\n'
}
