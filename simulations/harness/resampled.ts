/**
 * World side of the bootstrap intervals (learning/bootstrap.ts): the metrics of some models on the test split,
 * summed over the models, each row-resample's sums too. Every world draws the same resamples from the scenario
 * seed, so sums from different worlds and different figures (decentralized, centralized, local-only, FedAvg) add
 * up and pair resample by resample. The coordinator turns them into intervals (simulations/intervals.ts).
 */
import type { Dataset } from '../../learning/dataset.js'
import type { Model } from '../../learning/model.js'
import { drawResamples, metricsAt, resampledMetrics, rowTerms, type Resamples } from '../../learning/bootstrap.js'

/** Metrics of `count` models: their sums at the point (each test row once) and under each resample. */
export interface ResampledSums {
  /** The peer of a single model (or -1), so that sums are made in peer order whatever the worlds. */
  index?: number
  count: number
  point: Record<string, number>
  resampled: Record<string, number[]>
}

/**
 * Adds sums from several worlds or calls, in peer-index order (so the result does not depend on how peers are
 * spread over worlds); null parts are skipped; null when nothing is left.
 */
export function addSums (parts: ReadonlyArray<ResampledSums | null | undefined>): ResampledSums | null {
  const list = parts.filter((p): p is ResampledSums => p != null && p.count > 0).sort((a, b) => (a.index ?? -1) - (b.index ?? -1))
  if (list.length === 0) return null
  const out: ResampledSums = { count: 0, point: {}, resampled: {} }
  for (const p of list) {
    out.count += p.count
    for (const [k, v] of Object.entries(p.point)) out.point[k] = (out.point[k] ?? 0) + v
    for (const [k, v] of Object.entries(p.resampled)) {
      const acc = (out.resampled[k] ??= new Array<number>(v.length).fill(0))
      for (let b = 0; b < v.length; b++) acc[b] += v[b]
    }
  }
  return out
}

/**
 * One world's resampler over the test split: for each [peer index (or -1), weights] the model's metrics at the
 * point and under each resample (one entry per model; addSums adds them). Resamples are drawn on first use.
 */
export function testResampler (model: Model, dataset: Dataset, resamples: number, seed: string): (models: ReadonlyArray<readonly [number, Float32Array]>) => ResampledSums[] {
  let drawn: Resamples | null = null
  const rows = dataset.test
  const y = Float32Array.from(rows, (r) => dataset.y[r])
  const exposure = dataset.exposure != null ? Float32Array.from(rows, (r) => dataset.exposure![r]) : null
  const weight = dataset.weight != null ? Float32Array.from(rows, (r) => dataset.weight![r]) : null
  return (models) => {
    if (resamples <= 0 || rows.length === 0) return []
    drawn ??= drawResamples(rows.length, resamples, seed)
    return models.map(([index, w]) => {
      const pred = model.predict(w, dataset, rows)
      let p: Float32Array = pred
      if (dataset.task === 'binary' && model.outputDim === 2) p = Float32Array.from({ length: rows.length }, (_, i) => pred[i * 2 + 1])
      const terms = rowTerms(dataset.task, y, p, { numClasses: dataset.numClasses, exposure, weight })
      const resampled: Record<string, number[]> = {}
      for (const [k, v] of Object.entries(resampledMetrics(terms, drawn!))) resampled[k] = Array.from(v)
      return { index, count: 1, point: metricsAt(terms, null), resampled }
    })
  }
}

/** Up to `max` of `indices`, evenly spaced (all of them when there are few enough). */
export function evenlySpaced (indices: readonly number[], max: number): number[] {
  if (indices.length <= max) return [...indices]
  return Array.from({ length: max }, (_, k) => indices[Math.floor((k * indices.length) / max)])
}
