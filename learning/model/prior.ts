/**
 * Honest starts: the output bias a model should start from is the data's own mean on the link scale, so that the
 * untrained model already predicts the observed level (a GLM fitted with an intercept balances predicted and
 * observed totals exactly; starting there removes the first epochs' drift and, for a small shard, a start that
 * over-predicts everyone else's rows).
 *
 * - exp (Poisson, with exposure): log(sum y / sum exposure), the log claim frequency.
 * - sigmoid (binary): log(p / (1 - p)), the log-odds of the positive rate.
 * - softmax: log class priors, centred (their mean is 0; softmax is unchanged by a shift).
 * - identity (regression): the mean of y.
 *
 * Sample weights count. Small or one-sided shards are kept finite by half a pseudo-count: a shard with no claim
 * starts at log(0.5 / exposure), one with no positive at the log-odds of 0.5 / (n + 0.5), an absent class at a
 * count of 0.5; otherwise the start is the exact mean.
 *
 * The sufficient statistics (`PriorStats`) add up, so a pooled prior is the prior of summed stats.
 */
import type { Output, TensorData } from './layout.js'

/** Sums that determine the prior: weighted label sums per output unit, and the weighted row (or exposure) total. */
export interface PriorStats {
  output: Output
  /** exp: [sum w y]; sigmoid: [sum w y]; softmax: [sum w 1{y = c}] per class; identity: [sum w y]. */
  sums: Float64Array
  /** exp: sum w exposure; otherwise sum w. */
  total: number
}

/** The prior statistics of `rows` of `data` for a model output of width `outputDim`. */
export function priorStats (output: Output, outputDim: number, data: TensorData, rows: ArrayLike<number>): PriorStats {
  const sums = new Float64Array(output === 'softmax' ? outputDim : 1)
  let total = 0
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]
    const w = data.weight != null ? data.weight[r] : 1
    const y = data.y[r]
    if (output === 'softmax') {
      const c = Math.round(y)
      if (c >= 0 && c < sums.length) sums[c] += w
    } else {
      sums[0] += w * y
    }
    total += w * (output === 'exp' && data.exposure != null ? data.exposure[r] : 1)
  }
  return { output, sums, total }
}

/** Adds prior statistics (a pooled prior from several shards' stats). */
export function addPriorStats (parts: readonly PriorStats[]): PriorStats {
  if (parts.length === 0) throw new RangeError('addPriorStats: no statistics')
  const sums = new Float64Array(parts[0].sums.length)
  let total = 0
  for (const p of parts) {
    for (let j = 0; j < sums.length; j++) sums[j] += p.sums[j]
    total += p.total
  }
  return { output: parts[0].output, sums, total }
}

/** Output biases (one per output unit) from prior statistics; zeros when there are no rows. */
export function priorBias (stats: PriorStats): Float32Array {
  const { output, sums, total } = stats
  const out = new Float32Array(sums.length)
  if (!(total > 0)) return out
  switch (output) {
    case 'exp':
      out[0] = Math.log(Math.max(sums[0], 0.5) / total)
      break
    case 'sigmoid': {
      const s = sums[0]
      const p = s <= 0 ? 0.5 / (total + 0.5) : s >= total ? total / (total + 0.5) : s / total
      out[0] = Math.log(p / (1 - p))
      break
    }
    case 'softmax': {
      const k = sums.length
      let mean = 0
      for (let c = 0; c < k; c++) { out[c] = Math.log(Math.max(sums[c], 0.5) / total); mean += out[c] / k }
      for (let c = 0; c < k; c++) out[c] -= mean
      break
    }
    case 'identity':
      out[0] = sums[0] / total
      break
  }
  return out
}

/** The prior output bias of `rows` of `data` (priorBias of priorStats). */
export function outputPrior (output: Output, outputDim: number, data: TensorData, rows: ArrayLike<number>): Float32Array {
  return priorBias(priorStats(output, outputDim, data, rows))
}
