/**
 * An identifiable GLM design from the project's dataset encoding (learning/specs.ts roles), with column names
 * as R's `summary(glm)` prints them so that the coefficient table lines up with R's.
 *
 * - intercept: `(Intercept)`.
 * - numeric and log-numeric: one column each, the encoded (standardized) value, named `VehPower` or
 *   `log(Density)` as the encoding names it; with `missing: { indicator }` also its 0/1 `missing(VehAge)`.
 * - categorical with categories: treatment contrasts, `VehBrandB10`. The reference level dropped is the FIRST
 *   level of the encoding's category list (the spec's order; learned lists are sorted by code unit). R uses the
 *   first factor level, which for `factor(x)` is the sorted order, so the two agree when the list is sorted (as in
 *   the built-in specs) or given in R's level order. The encoding's `other` bucket stays as `VehBrand(other)`;
 *   when no row falls in it the solver finds the column aliased and reports it NA, as R does for an empty level.
 * - categorical with bins: a factor named `VehPowerClass` whose levels are R's `cut(x, c(-Inf, bins, Inf))`
 *   labels, `VehPowerClass(4,5]`; the first class is the reference.
 * - text columns have no GLM reading and are refused.
 */
import type { ColumnSpec } from '../specs.js'
import { GlmDesignError } from './errors.js'
import { GLM_MAX_COLUMNS } from './constants.js'

export const INTERCEPT_NAME = '(Intercept)'

/** What the design reads from an encoded dataset (a `Dataset` satisfies it). */
export interface EncodedSchema {
  spec: { columns: readonly ColumnSpec[] }
  featureNames: readonly string[]
  encoding?: { columns: Record<string, { categories?: string[] } | undefined> }
}

export interface DesignOptions {
  /** Include an intercept (default true). Without one, the first factor keeps all its levels, as in R. */
  intercept?: boolean
}

/** A dropped reference level. */
export interface ReferenceLevel { term: string, level: string, feature: string }

export interface GlmDesign {
  /** Column names, R's spelling; the intercept first when there is one. */
  readonly names: readonly string[]
  /** Number of design columns. */
  readonly p: number
  readonly intercept: boolean
  /** Encoded feature index of each design column; -1 for the intercept. */
  readonly source: Int32Array
  /** Width of the encoded rows the design reads. */
  readonly numFeatures: number
  /** The term (R variable) each design column belongs to. */
  readonly terms: readonly string[]
  /** The reference level dropped from each factor. */
  readonly references: readonly ReferenceLevel[]
}

/** C's %.{digits}g, which R's cut() uses for its labels. */
function formatG (x: number, digits: number): string {
  if (x === 0) return '0'
  const fixedExp = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(digits)))))
  if (fixedExp < -4 || fixedExp >= digits) {
    const [m, e] = x.toExponential(digits - 1).split('e')
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m
    const exp = Number(e)
    return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`
  }
  const s = x.toFixed(Math.max(0, digits - 1 - fixedExp))
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s
}

/** R's `levels(cut(x, c(-Inf, bins, Inf)))`: right-closed intervals, 3 significant digits or more until distinct. */
export function cutLabels (bins: readonly number[]): string[] {
  const breaks = [-Infinity, ...bins, Infinity]
  let formatted: string[] = []
  for (let digits = 3; digits <= 12; digits++) {
    formatted = breaks.map((b) => b === Infinity ? ' Inf' : b === -Infinity ? '-Inf' : formatG(b, digits))
    if (new Set(formatted).size === formatted.length) break
  }
  return formatted.slice(1).map((hi, i) => `(${formatted[i]},${hi}]`)
}

const FEATURE_ROLES = new Set(['numeric', 'log-numeric', 'categorical', 'text'])

/**
 * Builds the design from a dataset's spec and feature names, checking every encoded feature it maps.
 *
 * @example
 * ```ts
 * const design = glmDesign(dataset)              // a loaded Dataset
 * design.names                                   // ['(Intercept)', 'VehPower', ..., 'VehBrandB10', ...]
 * ```
 */
export function glmDesign (schema: EncodedSchema, options: DesignOptions = {}): GlmDesign {
  const intercept = options.intercept ?? true
  const features = schema.featureNames
  const names: string[] = []
  const terms: string[] = []
  const source: number[] = []
  const references: ReferenceLevel[] = []
  if (intercept) { names.push(INTERCEPT_NAME); terms.push(INTERCEPT_NAME); source.push(-1) }
  let pos = 0
  let keepFirstFactorLevel = !intercept
  const take = (i: number, expected: string | null): string => {
    const got = features[pos]
    if (got === undefined) throw new GlmDesignError(`dataset.columns.${i}: the encoding ends at feature ${pos}; the spec needs more features`)
    if (expected != null && got !== expected) throw new GlmDesignError(`dataset.columns.${i}: expected feature '${expected}' at position ${pos}, the encoding has '${got}'`)
    return got
  }
  schema.spec.columns.forEach((c, i) => {
    if (!FEATURE_ROLES.has(c.role)) return
    if (c.role === 'text') throw new GlmDesignError(`dataset.columns.${i}: a text column ('${c.name ?? i}') has no GLM design; mark it 'ignore'`)
    if (c.role === 'numeric' || c.role === 'log-numeric') {
      const width = c.range != null ? c.range[1] - c.range[0] + 1 : 1
      // `missing: { indicator }` adds a 0/1 column `missing(name)` after each value
      const indicator = typeof c.missing === 'object' && c.missing.indicator
      for (let k = 0; k < width; k++) {
        const expected = c.range == null && c.name != null ? (c.role === 'log-numeric' ? `log(${c.name})` : c.name) : null
        const name = take(i, expected)
        names.push(name); terms.push(name); source.push(pos++)
        if (indicator) {
          const flag = take(i, c.range == null && c.name != null ? `missing(${c.name})` : null)
          names.push(flag); terms.push(flag); source.push(pos++)
        }
      }
      return
    }
    if (c.role !== 'categorical') return
    if (c.range != null) throw new GlmDesignError(`dataset.columns.${i}: a categorical column over a range has no GLM design`)
    const first = features[pos] ?? ''
    const col = c.name ?? first.slice(0, Math.max(0, first.search(/=|<=/)))
    let levels: string[]
    let expected: string[]
    let term: string
    if (c.bins != null) {
      term = `${col}Class`
      levels = cutLabels(c.bins)
      expected = [...c.bins, Infinity].map((b) => `${col}<=${b}`)
    } else {
      const categories = c.categories ?? schema.encoding?.columns[col]?.categories
      if (categories == null) throw new GlmDesignError(`dataset.columns.${i}: no category list for '${col}' in the spec or the encoding`)
      term = col
      levels = [...categories, '(other)']
      expected = [...categories.map((v) => `${col}=${v}`), `${col}=other`]
    }
    const keepAll = keepFirstFactorLevel
    keepFirstFactorLevel = false
    for (let k = 0; k < levels.length; k++) {
      const feature = take(i, expected[k])
      if (k === 0 && !keepAll) references.push({ term, level: levels[0], feature })
      else { names.push(`${term}${levels[k]}`); terms.push(term); source.push(pos) }
      pos++
    }
  })
  if (pos !== features.length) throw new GlmDesignError(`the spec's feature columns cover ${pos} features, the encoding has ${features.length} (first unmapped: '${features[pos]}')`)
  if (names.length === 0) throw new GlmDesignError('the design has no columns')
  if (names.length > GLM_MAX_COLUMNS) throw new GlmDesignError(`the design has ${names.length} columns, more than the limit of ${GLM_MAX_COLUMNS}`)
  return { names, p: names.length, intercept, source: Int32Array.from(source), numFeatures: features.length, terms, references }
}
