/**
 * Coordinator side of the bootstrap intervals: from the worlds' resampled sums (harness/resampled.ts) to each
 * figure's metrics and 95% intervals, the share of the centralized model's explained deviance the network keeps
 * (`signalKept`, Poisson tasks), and paired intervals of the gap a goal bounds.
 *
 * A mean over peers is measured on every honest peer; its interval comes from up to `intervalPeers` of them
 * (evenly spaced): the resampled means of those, shifted by the difference between the all-peer mean and theirs.
 * The spread that matters here is the test rows' (which rows happened to be held out), shared by every peer.
 */
import { percentileInterval } from '../learning/bootstrap.js'
import type { ResampledSums } from './harness/resampled.js'
import { sig } from './stats.js'

export type Interval = [number, number]

/** Every metric of the task for one figure, and the 95% interval of each over test-row resamples. */
export interface Figure {
  metrics: Record<string, number>
  intervals: Record<string, Interval>
}

/** A figure and its per-resample values (for paired comparisons). */
export interface FigureSamples { figure: Figure, samples: Record<string, number[]> | null }

const finiteOrNull = (v: number | undefined): number | null => v != null && Number.isFinite(v) ? v : null

/**
 * A figure from resampled sums; `allMean` (the mean over all the models the figure stands for) replaces the
 * sampled models' point when given. Metrics without a finite value are left out.
 */
export function figureOf (sums: ResampledSums | null, allMean: Record<string, number> | null, level = 0.95): FigureSamples {
  const metrics: Record<string, number> = {}
  const point = (k: string): number | null => sums == null ? null : finiteOrNull(sums.point[k] / sums.count)
  const names = new Set([...Object.keys(allMean ?? {}), ...Object.keys(sums?.point ?? {})])
  for (const k of names) {
    if (k === 'examples') continue
    const v = finiteOrNull(allMean?.[k]) ?? point(k)
    if (v != null) metrics[k] = v
  }
  const intervals: Record<string, Interval> = {}
  let samples: Record<string, number[]> | null = null
  if (sums != null) {
    samples = {}
    for (const [k, values] of Object.entries(sums.resampled)) {
      const p = point(k)
      if (p == null || metrics[k] == null) continue
      const shift = metrics[k] - p
      samples[k] = values.map((v) => v / sums.count + shift)
      const iv = percentileInterval(samples[k], level)
      if (iv != null) intervals[k] = [sig(iv[0]), sig(iv[1])]
    }
  }
  for (const k of Object.keys(metrics)) metrics[k] = sig(metrics[k])
  return { figure: { metrics, intervals }, samples }
}

/** An interval of f(a_b, b_b) over paired resamples; null without both. */
function pairedInterval (a: number[] | undefined, b: number[] | undefined, f: (x: number, y: number) => number, level: number): Interval | null {
  if (a == null || b == null || a.length !== b.length) return null
  const iv = percentileInterval(a.map((x, i) => f(x, b[i])), level)
  return iv == null ? null : [sig(iv[0]), sig(iv[1])]
}

/** Signal kept: the network's deviance explained over the centralized model's (Poisson tasks), with its interval. */
export function signalKept (network: FigureSamples, centralized: FigureSamples, level = 0.95): { value: number | null, interval: Interval | null } {
  const d = network.figure.metrics.devianceExplained
  const c = centralized.figure.metrics.devianceExplained
  const value = d != null && c != null && c > 0 ? sig(d / c) : null
  return { value, interval: value == null ? null : pairedInterval(network.samples?.devianceExplained, centralized.samples?.devianceExplained, (x, y) => x / y, level) }
}

/**
 * The relative gap of the network behind the centralized model in `metric` (positive = worse, 0.01 = 1% worse)
 * and the ratio network / centralized (centralized / network for lower-is-better metrics), as paired intervals.
 */
export function gapIntervals (network: FigureSamples, centralized: FigureSamples, metric: { name: string, higherIsBetter: boolean }, level = 0.95): { gap: Interval | null, ratio: Interval | null } {
  const a = network.samples?.[metric.name]
  const b = centralized.samples?.[metric.name]
  const hib = metric.higherIsBetter
  return {
    gap: pairedInterval(a, b, (d, c) => (hib ? c - d : d - c) / Math.abs(c), level),
    ratio: pairedInterval(a, b, (d, c) => hib ? d / c : c / d, level)
  }
}

/**
 * The note a goal gets when its margin lies inside the interval of what it measures: this test set cannot tell
 * whether the goal is met. Null when the interval clears the margin (or there is none).
 */
export function marginNote (target: number, interval: Interval | null, format: (v: number) => string): string | null {
  if (interval == null) return null
  if (interval[0] <= target && target <= interval[1]) {
    return `the margin ${format(target)} lies inside the 95% interval [${format(interval[0])}, ${format(interval[1])}]: this test set cannot tell`
  }
  return null
}
