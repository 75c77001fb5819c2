/**
 * `results.exactGlm` for runs with rule glm-newton: how close every honest peer came to the pooled
 * maximum-likelihood fit (the coefficients R's glm gives on the same design), with the deviance and the
 * predicted / observed totals of the network's own estimate (the average statistics times the peer count).
 */
import { sig } from './stats.js'
import type { GlmSummary } from '../learning/glm/index.js'

export interface ExactGlmPooled {
  names: string[]
  /** null where aliased (R's NA). */
  coefficients: Array<number | null>
  iterations: number
  deviance: number
  predictedOverObserved: number
  rows: number
  testMetrics: Record<string, number>
}

export interface ExactGlmPeer {
  index: number
  coefficients: number[]
  /** Coefficients of each round's evaluation (round 0 first). */
  history: number[][]
  /** Differential privacy: the largest eigenvalue lift its releases' Fisher information needed (0: none or no privacy). */
  privateRidge?: number
  /** Differential privacy: the share of its records its last release clipped (down-weighted). */
  privateClippedShare?: number
  /** The peer's estimate of the average statistics (null before any). */
  estimate: { n: number, deviance: number, sumWY: number, sumWMu: number } | null
}

export interface ExactGlmFigures {
  peers: number
  columns: number
  aliased: number
  /** Largest |b_peer - b_pooled| over honest peers and identifiable coefficients, at the end. */
  maxAbsCoefDiff: number
  /** The coefficient where maxAbsCoefDiff is reached. */
  worstColumn: string | null
  /** Fewest rounds after which every honest peer's coefficients were within 1e-3 of the pooled ones (null: never). */
  roundsTo1e3: number | null
  /** The peer where maxAbsCoefDiff is reached. */
  worstPeer: number | null
  /** Largest over peers of |N x estimated deviance - pooled| / pooled (the push-sum estimate, last evaluation). */
  devianceRelDiff: number
  /** The worst peer's coefficients on every training row: deviance, its relative difference, predicted / observed. */
  worstPeerDeviance: number | null
  worstPeerDevianceRelDiff: number | null
  worstPeerPredictedOverObserved: number | null
  /** worstPeerDevianceRelDiff below 5e-6: the fit's deviance to 5 significant digits. */
  deviance5Digits: boolean
  pooledDeviance: number
  /** Worst peer's estimated predicted / observed total. */
  predictedOverObservedWorst: number
  /** Per round t: the largest |b - b_pooled| over peers of the coefficients after t rounds. */
  trace: number[]
  /** R's summary(glm) table from the first honest peer's estimate (average statistics x peers); null before any. */
  table?: { summary: GlmSummary, text: string } | null
  pooledIterations: number
  pooledTestMetrics: Record<string, number>
  /**
   * Under differential privacy (learning/glm/private-stats.ts): each release's noisy Fisher information had its
   * eigenvalues floored (with the matching score term, so the fixed point is unchanged); the largest lift over
   * peers. null without privacy.
   */
  privateRidge: number | null
  /**
   * Under differential privacy: the largest share of a peer's records its last release clipped. A clipped record
   * is down-weighted, which biases the fit (with a Poisson frequency, toward fewer claims: predicted / observed
   * below 1); a larger clip removes the bias at the price of more noise. null without privacy.
   */
  privateClippedShare: number | null
}

/** The figures of a run (`peerCount`: the network's size, which turns the average statistics into sums). */
export function exactGlmFigures (pooled: ExactGlmPooled, peers: readonly ExactGlmPeer[], peerCount: number): ExactGlmFigures {
  const ref = pooled.coefficients
  const diffOf = (b: readonly number[]): number => {
    let worst = 0
    for (let j = 0; j < ref.length; j++) { const r = ref[j]; if (r != null) worst = Math.max(worst, Math.abs(b[j] - r)) }
    return worst
  }
  let maxAbs = 0
  let worstColumn: string | null = null
  let worstPeer: number | null = null
  for (const p of peers) {
    for (let j = 0; j < ref.length; j++) {
      const r = ref[j]
      if (r != null && Math.abs(p.coefficients[j] - r) > maxAbs) { maxAbs = Math.abs(p.coefficients[j] - r); worstColumn = pooled.names[j]; worstPeer = p.index }
    }
  }
  let dev = 0
  let ratio = 1
  for (const p of peers) {
    maxAbs = Math.max(maxAbs, diffOf(p.coefficients))
    if (p.estimate != null) {
      dev = Math.max(dev, Math.abs(p.estimate.deviance * peerCount - pooled.deviance) / pooled.deviance)
      const r = p.estimate.sumWMu / p.estimate.sumWY
      if (Math.abs(r - 1) > Math.abs(ratio - 1)) ratio = r
    } else dev = Infinity
  }
  // history[t]: the coefficients after t rounds (where round t evaluated); the final ones come after them all
  const rounds = Math.max(0, ...peers.map((p) => p.history.length))
  const after = (p: ExactGlmPeer, t: number): readonly number[] | undefined => t < p.history.length ? p.history[t] : t === p.history.length ? p.coefficients : undefined
  let roundsTo: number | null = null
  for (let t = rounds; t >= 0; t--) {
    if (!peers.every((p) => { const b = after(p, t); return b != null && diffOf(b) <= 1e-3 })) break
    roundsTo = t
  }
  return {
    peers: peers.length,
    columns: ref.length,
    aliased: ref.filter((b) => b == null).length,
    maxAbsCoefDiff: sig(maxAbs),
    worstColumn,
    roundsTo1e3: roundsTo,
    worstPeer,
    devianceRelDiff: sig(dev),
    worstPeerDeviance: null,
    worstPeerDevianceRelDiff: null,
    worstPeerPredictedOverObserved: null,
    deviance5Digits: false,
    pooledDeviance: pooled.deviance,
    predictedOverObservedWorst: ratio,
    trace: Array.from({ length: rounds }, (_, t) => sig(Math.max(0, ...peers.map((p) => p.history[t] != null ? diffOf(p.history[t]) : Infinity)), 3)),
    pooledIterations: pooled.iterations,
    pooledTestMetrics: pooled.testMetrics,
    privateRidge: peers.some((p) => (p.privateRidge ?? 0) > 0) ? sig(Math.max(...peers.map((p) => p.privateRidge ?? 0))) : null,
    privateClippedShare: peers.some((p) => p.privateClippedShare != null) ? sig(Math.max(...peers.map((p) => p.privateClippedShare ?? 0))) : null
  }
}

/** One line for the summary table. */
export function exactGlmLine (e: ExactGlmFigures): string {
  const f = (x: number | null, d = 3): string => x == null ? '-' : x.toPrecision(d)
  return `exact GLM vs the pooled fit (${e.peers} peers, ${e.columns} columns, ${e.aliased} aliased): max |b - b_pooled| ${f(e.maxAbsCoefDiff)} (${e.worstColumn ?? '-'}), ` +
    `within 1e-3 after ${e.roundsTo1e3 ?? '-'} rounds; worst peer's deviance ${f(e.worstPeerDeviance, 8)} vs ${f(e.pooledDeviance, 8)} ` +
    `(${e.deviance5Digits ? '5 significant digits' : `rel. diff ${f(e.worstPeerDevianceRelDiff)}`}), predicted/observed ${f(e.worstPeerPredictedOverObserved, 7)}; ` +
    `push-sum estimate: deviance rel. diff ${f(e.devianceRelDiff)}, predicted/observed ${f(e.predictedOverObservedWorst, 7)}` +
    (e.privateRidge != null ? `; private releases: Fisher eigenvalues floored (largest lift ${f(e.privateRidge)}), up to ${((e.privateClippedShare ?? 0) * 100).toFixed(1)}% of a peer's records clipped, figures of clipped, noisy statistics` : '')
}

/** The figures without the trace, the table and the pooled fit's test metrics (the summary JSON's `exactGlm`). */
export function exactGlmSummary (e: ExactGlmFigures): Omit<ExactGlmFigures, 'trace' | 'table' | 'pooledTestMetrics'> {
  const { trace: _trace, table: _table, pooledTestMetrics: _metrics, ...rest } = e
  return rest
}
