/**
 * Paired comparison of two models' ROC AUC on the same rows: DeLong, DeLong and Clarke-Pearson (1988),
 * "Comparing the areas under two or more correlated receiver operating characteristic curves: a nonparametric
 * approach" (Biometrics 44, 837-845), the test R's pROC runs as `roc.test(method = "delong")`.
 *
 * AUC is not a mean over rows, so the row-contribution intervals of personal.ts do not apply. DeLong writes it
 * as one: every positive row's placement V10 (the share of negatives it outscores, ties half) and every
 * negative's V01 (the share of positives that outscore it) both average to the AUC, and the variance of the
 * AUC difference is S10 / m + S01 / n, the sample variances of the paired placement differences over the m
 * positives and the n negatives.
 *
 * With a single row of a class its sample variance does not exist; the comparison then uses the variance's
 * upper bound instead (placement differences lie in [-1, 1], so their variance is at most 1) and says so
 * (`bounded`): an honest, wide interval rather than a made-up narrow one.
 *
 * Pure functions over plain arrays, unweighted rows.
 */

type Num = ArrayLike<number>

/** Midranks (1-based, ties averaged) of score over `rows` (indices into score), in the order of `rows`. */
function midranks (score: Num, rows: readonly number[]): Float64Array {
  const order = rows.map((_, k) => k).sort((a, b) => score[rows[a]] - score[rows[b]])
  const out = new Float64Array(rows.length)
  let i = 0
  while (i < order.length) {
    let j = i
    while (j + 1 < order.length && score[rows[order[j + 1]]] === score[rows[order[i]]]) j++
    const r = (i + j) / 2 + 1
    for (let k = i; k <= j; k++) out[order[k]] = r
    i = j + 1
  }
  return out
}

export interface Placements {
  auc: number
  /** Per positive row (in row order): the share of negatives it outscores, ties counted half. */
  v10: Float64Array
  /** Per negative row (in row order): the share of positives that outscore it, ties counted half. */
  v01: Float64Array
}

/** DeLong's placement values of one model's scores (`y` >= 0.5 positive); null with one class only. */
export function aucPlacements (y: Num, score: Num): Placements | null {
  const all: number[] = []; const pos: number[] = []; const neg: number[] = []
  for (let i = 0; i < y.length; i++) { all.push(i); (y[i] >= 0.5 ? pos : neg).push(i) }
  const m = pos.length; const n = neg.length
  if (m === 0 || n === 0) return null
  const rAll = midranks(score, all)
  const rPos = midranks(score, pos)
  const rNeg = midranks(score, neg)
  const v10 = Float64Array.from(pos, (r, k) => (rAll[r] - rPos[k]) / n)
  const v01 = Float64Array.from(neg, (r, k) => 1 - (rAll[r] - rNeg[k]) / m)
  let s = 0
  for (const v of v10) s += v
  return { auc: s / m, v10, v01 }
}

/** Sample variance of a - b (denominator length - 1); null below two values. */
function pairedVariance (a: Float64Array, b: Float64Array): number | null {
  const k = a.length
  if (k < 2) return null
  let s = 0
  for (let i = 0; i < k; i++) s += a[i] - b[i]
  const mean = s / k
  let ss = 0
  for (let i = 0; i < k; i++) { const d = a[i] - b[i] - mean; ss += d * d }
  return ss / (k - 1)
}

export interface PairedAuc {
  /** AUC of a minus AUC of b (positive: a ranks better). */
  mean: number
  /** 1.96 standard errors of the difference (DeLong): its 95% half-width. */
  halfWidth: number
  /** True when a class has a single row and its variance term is the bound 1 (module comment). */
  bounded: boolean
}

/**
 * DeLong's paired AUC difference of scores `a` and `b` on the same rows with labels `y`: the mean difference
 * (a - b) and its 95% half-width. Null when the rows hold one class only (no AUC).
 */
export function pairedAucDifference (y: Num, a: Num, b: Num): PairedAuc | null {
  if (a.length !== y.length || b.length !== y.length) throw new RangeError(`pairedAucDifference: ${y.length} labels, ${a.length} and ${b.length} scores`)
  const pa = aucPlacements(y, a)
  const pb = aucPlacements(y, b)
  if (pa == null || pb == null) return null
  const m = pa.v10.length; const n = pa.v01.length
  const s10 = pairedVariance(pa.v10, pb.v10)
  const s01 = pairedVariance(pa.v01, pb.v01)
  const variance = (s10 ?? 1) / m + (s01 ?? 1) / n
  return { mean: pa.auc - pb.auc, halfWidth: 1.96 * Math.sqrt(variance), bounded: s10 == null || s01 == null }
}
