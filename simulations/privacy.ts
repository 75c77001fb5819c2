/**
 * The privacy section of a run's results (scenarios with `privacy` or `membershipInference`): every honest
 * peer's spent and remaining budget, the largest epsilon spent after each round, the curious members'
 * membership-inference AUC on what they received, and, from the same scenario (same seed) run without the
 * privacy block, its attack AUC and metric. Also the `privacy` goals. (Running the worlds' side: privacy-run.ts.)
 */
import type { Scenario } from './scenario.js'
import type { MembershipPair, PeerPrivacyReport } from './harness/privacy-peers.js'
import type { GoalResult } from './results.js'
import { sig } from './stats.js'
import { HIGHER_IS_BETTER } from '../learning/metrics.js'

export interface PrivacyResults {
  /** The per-peer budget (epsilon) and delta, null without a privacy block. */
  budget: number | null
  delta: number | null
  noiseMultiplier: number | null
  clip: number | null
  /** Largest epsilon any honest peer spent (at `delta`). */
  epsilon: number | null
  /** Largest epsilon spent after each round, over the peers. */
  perRound: Array<{ round: number, epsilon: number }>
  /** Each honest peer: spent and remaining epsilon, steps, whether its budget ran out (it then stopped sending). */
  perPeer: Array<{ index: number, spent: number, remaining: number, steps: number, sampleRate: number, exhausted: boolean }>
  exhaustedPeers: number
  /** Mean ROC AUC of the loss-threshold attack over every (curious member, neighbour heard from) pair (null without `membershipInference`). */
  attackAuc: number | null
  attackPairs: number
  /**
   * Mean ROC AUC of the offline likelihood-ratio attack (references: the models each member received from its
   * other neighbours) over the pairs where the member heard from another neighbour; null where none.
   */
  liraAuc: number | null
  /** The same figures from the run without privacy (null when it was not run). */
  attackAucWithoutPrivacy: number | null
  liraAucWithoutPrivacy: number | null
  metricWithoutPrivacy: number | null
  /** Every metric of the run without privacy (mean over its peers; {} when it was not run). */
  metricsWithoutPrivacy: Record<string, number>
  attacks: MembershipPair[]
  attacksWithoutPrivacy: MembershipPair[]
}

/** What the summary (`--json`) adds: the fixed keys. */
export interface PrivacySummary { epsilon: number | null, delta: number | null, attackAuc: number | null, attackAucWithoutPrivacy: number | null, metricWithoutPrivacy: number | null }

/** What the worlds report of privacy: per-peer accountants and the curious members' attacks (privacy-run.ts). */
export interface WorldPrivacy { peers: PeerPrivacyReport[], membership: MembershipPair[] }

const meanAuc = (pairs: MembershipPair[]): number | null => pairs.length === 0 ? null : sig(pairs.reduce((s, p) => s + p.auc, 0) / pairs.length)
const meanLira = (pairs: MembershipPair[]): number | null => {
  const xs = pairs.flatMap((p) => p.liraAuc ?? [])
  return xs.length === 0 ? null : sig(xs.reduce((s, v) => s + v, 0) / xs.length)
}
const rounded = (p: MembershipPair): MembershipPair => ({ ...p, auc: sig(p.auc), liraAuc: p.liraAuc == null ? null : sig(p.liraAuc), meanLossMembers: sig(p.meanLossMembers), meanLossNonMembers: sig(p.meanLossNonMembers) })

export function privacyResults (scenario: Scenario, own: WorldPrivacy, without: { metric: number | null, metrics?: Record<string, number>, privacy: WorldPrivacy } | null): PrivacyResults {
  const spec = scenario.privacy
  const byRound = new Map<number, number>()
  for (const p of own.peers) for (const [round, eps] of p.perRound) byRound.set(round, Math.max(byRound.get(round) ?? 0, eps))
  const largest = own.peers.length === 0 ? null : sig(Math.max(...own.peers.map((p) => p.epsilon)))
  return {
    budget: spec?.epsilon ?? null,
    delta: spec?.delta ?? null,
    noiseMultiplier: own.peers[0] != null ? sig(own.peers[0].noiseMultiplier) : null,
    clip: spec?.clip ?? null,
    epsilon: largest,
    perRound: [...byRound].sort((a, b) => a[0] - b[0]).map(([round, epsilon]) => ({ round, epsilon: sig(epsilon) })),
    perPeer: own.peers.map((p) => ({ index: p.index, spent: sig(p.epsilon), remaining: sig(p.remainingEpsilon), steps: p.steps, sampleRate: sig(p.sampleRate), exhausted: p.exhausted })),
    exhaustedPeers: own.peers.filter((p) => p.exhausted).length,
    attackAuc: meanAuc(own.membership),
    attackPairs: own.membership.length,
    liraAuc: meanLira(own.membership),
    attackAucWithoutPrivacy: without == null ? null : meanAuc(without.privacy.membership),
    liraAucWithoutPrivacy: without == null ? null : meanLira(without.privacy.membership),
    metricWithoutPrivacy: without?.metric ?? null,
    metricsWithoutPrivacy: without?.metrics ?? {},
    attacks: own.membership.map(rounded),
    attacksWithoutPrivacy: (without?.privacy.membership ?? []).map(rounded)
  }
}

export function privacySummary (p: PrivacyResults): PrivacySummary {
  return { epsilon: p.epsilon, delta: p.delta, attackAuc: p.attackAuc, attackAucWithoutPrivacy: p.attackAucWithoutPrivacy, metricWithoutPrivacy: p.metricWithoutPrivacy }
}

const f = (v: number | null | undefined, d = 4): string => v == null || !Number.isFinite(v) ? 'n/a' : Number(v.toPrecision(d)).toString()

/**
 * The `privacy` goals: `{ maxEpsilon: 8, maxAttackAuc: 0.53, minAttackAucWithoutPrivacy: 0.55, maxCostPoints: 3 }`
 * (cost: the metric without privacy minus with it, x 100, for higher-is-better metrics; the reverse otherwise).
 * `costMetric: accuracy` states the cost in that metric instead of the scenario's goal metric.
 */
export function privacyGoals (goal: Record<string, unknown> | undefined, privacy: PrivacyResults | undefined, metric: { mean: number | null, higherIsBetter: boolean, metrics?: Record<string, number> }): GoalResult[] {
  if (goal == null) return []
  const out: GoalResult[] = []
  const num = (k: string): number | null => typeof goal[k] === 'number' ? goal[k] as number : null
  const maxEps = num('maxEpsilon')
  if (maxEps != null) out.push({ goal: 'largest epsilon any peer spent', target: `<= ${maxEps} (delta ${f(privacy?.delta)})`, measured: f(privacy?.epsilon), pass: privacy?.epsilon == null ? null : privacy.epsilon <= maxEps })
  const maxAuc = num('maxAttackAuc')
  if (maxAuc != null) out.push({ goal: 'membership-inference AUC with privacy', target: `<= ${maxAuc}`, measured: `${f(privacy?.attackAuc)} (${privacy?.attackPairs ?? 0} attacks)`, pass: privacy?.attackAuc == null ? null : privacy.attackAuc <= maxAuc })
  const minAuc = num('minAttackAucWithoutPrivacy')
  if (minAuc != null) out.push({ goal: 'membership-inference AUC without privacy', target: `>= ${minAuc}`, measured: f(privacy?.attackAucWithoutPrivacy), pass: privacy?.attackAucWithoutPrivacy == null ? null : privacy.attackAucWithoutPrivacy >= minAuc })
  const maxCost = num('maxCostPoints')
  if (maxCost != null) {
    const named = typeof goal.costMetric === 'string' ? goal.costMetric : null
    const w = named == null ? privacy?.metricWithoutPrivacy ?? null : privacy?.metricsWithoutPrivacy?.[named] ?? null
    const mean = named == null ? metric.mean : metric.metrics?.[named] ?? null
    const higher = named == null ? metric.higherIsBetter : HIGHER_IS_BETTER.has(named)
    const cost = w == null || mean == null ? null : (higher ? w - mean : mean - w) * 100
    // a costMetric the run has not measured (a typo, or another task's) says so instead of a bare n/a
    const missing = named != null && mean == null && metric.metrics != null ? ` (this run has no metric '${named}': ${Object.keys(metric.metrics).join(', ')})` : ''
    out.push({ goal: `cost of privacy in ${named ?? 'the metric'}`, target: `<= ${maxCost} points`, measured: cost == null ? `n/a${missing}` : `${cost.toFixed(2)} points (${f(mean)} vs ${f(w)} without)`, pass: cost == null ? null : cost <= maxCost })
  }
  return out
}

/** Lines for the table printed after a run. */
export function renderPrivacy (p: PrivacyResults): string[] {
  const lines = [`privacy: budget epsilon ${f(p.budget)} at delta ${f(p.delta)}, noise multiplier ${f(p.noiseMultiplier)}, clip ${f(p.clip)}; largest spent ${f(p.epsilon)}, ${p.exhaustedPeers} of ${p.perPeer.length} peers out of budget`]
  if (p.attackPairs > 0) lines.push(`membership inference (loss threshold, ${p.attackPairs} attacks: every member on every neighbour it heard from): AUC ${f(p.attackAuc)}` + (p.attackAucWithoutPrivacy != null ? `, without privacy ${f(p.attackAucWithoutPrivacy)} (metric ${f(p.metricWithoutPrivacy)})` : ''))
  if (p.liraAuc != null) lines.push(`membership inference (likelihood ratio, references: the other neighbours' models): AUC ${f(p.liraAuc)}` + (p.liraAucWithoutPrivacy != null ? `, without privacy ${f(p.liraAucWithoutPrivacy)}` : ''))
  return lines
}
