/** Small, order-stable statistics used by the reports. */

/** Arithmetic mean (NaN for no values). Sums in the given order: callers pass values sorted by peer index. */
export function mean (values: readonly number[]): number {
  if (values.length === 0) return NaN
  let s = 0
  for (const v of values) s += v
  return s / values.length
}

/** q-quantile (0..1) by linear interpolation between order statistics. */
export function quantile (values: readonly number[], q: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo)
}

/**
 * Summary of peers' values of a metric from the peers' point of view: `min` is the WORST peer and `p10` the
 * 10th percentile counted from the worst end (for metrics where lower is better these are the maximum and the
 * 90th percentile of the raw values).
 */
export function peerSummary (values: readonly number[], higherIsBetter: boolean): { mean: number, min: number, p10: number } {
  if (values.length === 0) return { mean: NaN, min: NaN, p10: NaN }
  return higherIsBetter
    ? { mean: mean(values), min: Math.min(...values), p10: quantile(values, 0.1) }
    : { mean: mean(values), min: Math.max(...values), p10: quantile(values, 0.9) }
}

/**
 * Consensus distance of a set of models: root mean square of ||x_i - mean||, and the same relative to
 * ||mean||. Sums run in float64 in the order given (sorted by peer index), so the result does not depend on
 * which thread computed which model.
 */
export function consensusDistance (models: readonly Float32Array[]): { rms: number, relative: number } {
  const n = models.length
  if (n === 0) return { rms: NaN, relative: NaN }
  const d = models[0].length
  const avg = new Float64Array(d)
  for (const m of models) for (let j = 0; j < d; j++) avg[j] += m[j]
  for (let j = 0; j < d; j++) avg[j] /= n
  let sq = 0
  for (const m of models) {
    let s = 0
    for (let j = 0; j < d; j++) { const t = m[j] - avg[j]; s += t * t }
    sq += s
  }
  let norm = 0
  for (let j = 0; j < d; j++) norm += avg[j] * avg[j]
  const rms = Math.sqrt(sq / n)
  return { rms, relative: norm > 0 ? rms / Math.sqrt(norm) : NaN }
}

/** Rounds to `digits` significant digits (keeps JSON readable and stable). */
export function sig (x: number, digits = 6): number {
  if (!Number.isFinite(x) || x === 0) return x
  return Number(x.toPrecision(digits))
}
