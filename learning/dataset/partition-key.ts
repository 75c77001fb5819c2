/**
 * Partition keys derived from a column (the `partition` role's `bins`, `quantiles` or `map`): a numeric column
 * cut into intervals at given points or at its quantiles, or raw values mapped to groups. Interval keys are named
 * like R's `cut()` levels, prefixed with the column (`DrivAge(25,40]`), and ordered by interval, not by name.
 */
import type { ColumnSpec } from '../specs.js'

type PartitionSpec = ColumnSpec & { role: 'partition' }

/** Whether the partition column is numeric and cut into intervals (bins or quantiles). */
export function cutsInterval (spec: ColumnSpec): boolean {
  return spec.role === 'partition' && (spec.bins != null || spec.quantiles != null)
}

/** The raw value -> group rule of a `map` partition column, or null without a map. */
export function valueMap (spec: PartitionSpec): ((value: string) => string) | null {
  const map = spec.map
  if (map == null) return null
  const other = spec.other
  return (value) => Object.hasOwn(map, value) ? map[value] : other ?? value
}

/** Interval names for cut points c1 < ... < ck: `col(-Inf,c1]`, `col(c1,c2]`, ..., `col(ck,Inf)`. */
export function intervalLabels (column: string, cuts: readonly number[]): string[] {
  const edges = ['-Inf', ...cuts.map(String)]
  return edges.map((lo, i) => i < cuts.length ? `${column}(${lo},${cuts[i]}]` : `${column}(${lo},Inf)`)
}

/**
 * Cut points splitting `rows` of `values` into `groups` groups of about equal count, deterministically: the
 * j-th cut is the smallest value with at least j/groups of the rows at or below it (R's quantile type 1). Tied
 * values stay in one group, so heavy ties give fewer groups; a cut at the maximum (an empty last group) is dropped.
 */
export function quantileCuts (values: ArrayLike<number>, rows: ArrayLike<number>, groups: number): number[] {
  const n = rows.length
  if (n === 0) return []
  const sorted = Float64Array.from({ length: n }, (_, i) => values[rows[i]]).sort()
  const max = sorted[n - 1]
  const cuts: number[] = []
  for (let j = 1; j < groups; j++) {
    const v = sorted[Math.ceil((j * n) / groups) - 1]
    if (v < max && (cuts.length === 0 || v > cuts[cuts.length - 1])) cuts.push(v)
  }
  return cuts
}

/** The interval index of `v` for cuts c1 < ... < ck: 0 for v <= c1, ..., k for v > ck. */
export function intervalOf (v: number, cuts: readonly number[]): number {
  let lo = 0
  let hi = cuts.length
  while (lo < hi) { const mid = (lo + hi) >> 1; if (v > cuts[mid]) lo = mid + 1; else hi = mid }
  return lo
}

/** The cut points of an interval partition column: the spec's bins, else `given` (an encoding), else quantiles of the training rows. */
export function partitionCuts (spec: PartitionSpec, values: ArrayLike<number>, trainRows: ArrayLike<number>, given?: readonly number[]): number[] {
  if (spec.bins != null) return [...spec.bins]
  if (given != null) return [...given]
  return quantileCuts(values, trainRows, spec.quantiles ?? 2)
}
