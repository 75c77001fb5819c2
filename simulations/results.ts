/**
 * The results of a simulation: `results.json` (everything, stable keys) and the summary (`--json`), whose keys
 * are fixed for tooling: scenario, peers, rounds, seed, rule, metric, decentralized, centralized, localOnly,
 * fedavg, curve, bytesPerPeerPerRound, refused, wallSeconds, peerStepsPerSecond, maxRssMiB, signalKept,
 * signalKeptInterval. Each of decentralized (the mean over honest peers), centralized, localOnly and fedavg also
 * carries `metrics` (every metric of the task) and `intervals` (their 95% bootstrap intervals over the test rows,
 * simulations/intervals.ts); `signalKept` is the share of the centralized model's explained deviance the network
 * keeps (Poisson tasks; null otherwise).
 *
 * Everything except the timing fields (wallSeconds, peerStepsPerSecond, maxRssMiB and the `timing` section) is
 * identical for the same scenario and seed.
 */
import { exactGlmLine, exactGlmSummary, type ExactGlmFigures } from './exact-glm.js'
import type { MetricValues } from '../protocol/interfaces.js'
import type { Scenario } from './scenario.js'
import type { CatchUpSummary } from './harness/catch-up.js'
import type { DecentralizedResult, RoundRecord } from './harness/coordinator.js'
import type { Convergence } from './harness/plateau.js'
import { peerSummary, sig } from './stats.js'
import type { RegionReport } from './regions.js'
import { renderPersonal, type PersonalReport } from './personal.js'
import { privacySummary, renderPrivacy, type PrivacyResults, type PrivacySummary } from './privacy.js'
import type { Figure, Interval } from './intervals.js'

export interface CurvePoint { round: number, mean: number | null, min: number | null, p10: number | null }

/** Every metric of a figure and its interval (absent for variants and light test environments). */
type Metrics = Partial<Figure>

export interface Summary {
  /** Rule glm-newton: the key figures of results.exactGlm (no trace, no table). */
  exactGlm?: Omit<ExactGlmFigures, 'trace' | 'table' | 'pooledTestMetrics'>
  scenario: string
  peers: number
  rounds: number
  seed: number | string
  rule: string
  metric: { name: string, higherIsBetter: boolean }
  decentralized: { mean: number | null, min: number | null, p10: number | null, consensusDistance: number | null } & Metrics
  centralized: { value: number | null } & Metrics
  localOnly: { mean: number | null } & Metrics
  fedavg: { value: number | null } & Metrics
  curve: CurvePoint[]
  bytesPerPeerPerRound: number
  refused: Record<string, number>
  wallSeconds: number
  peerStepsPerSecond: number
  maxRssMiB: number
  /** Poisson tasks: network deviance explained / centralized deviance explained (null otherwise). */
  signalKept: number | null
  signalKeptInterval: Interval | null
  /** Scenarios with privacy or membership inference only (simulations/privacy.ts). */
  privacy?: PrivacySummary
  /**
   * Rounds run (also `rounds`), the cap and why the run stopped ('plateau' with untilConverged, else 'cap'); the
   * wall times are `wallSeconds` and results.json's `timing` (decentralizedSeconds, variantSeconds).
   */
  convergence: RunLength
}

export type RunLength = Omit<Convergence, 'untilConverged'>

/** The convergence figures of a decentralized run (deterministic: no timing). */
export function runLength (run: DecentralizedResult): RunLength {
  const { untilConverged: _settings, ...c } = run.convergence
  return c
}

export interface DataSummary {
  name: string
  rows: number
  trainRows: number
  testRows: number
  badRows: { count: number, examples: string[], lines: number[] }
}

/** How the intervals were made, and the paired intervals of the network's gap to the centralized model. */
export interface BootstrapDetails {
  resamples: number
  level: number
  /** Honest peers whose models give the intervals of means over peers. */
  intervalPeers: number[]
  /** Relative gap behind centralized in the goal metric (0.01 = 1% worse), and the ratio as goals state it. */
  gapToCentralized: Interval | null
  ratioToCentralized: Interval | null
}

export interface BaselineResults {
  centralized: { value: number | null, metrics: MetricValues | null, epochs: number | null, skipped?: string }
  localOnly: { mean: number | null, perPeer: Array<[number, number]>, steps: number | null, skipped?: string }
  fedavg: { value: number | null, curve: Array<{ round: number, value: number }>, clientsPerRound: number | null, skipped?: string }
}

export interface VariantResult {
  name: string
  description?: string
  rule: string
  attack: string | null
  decentralized: Summary['decentralized']
  curve: CurvePoint[]
  consensus: Array<number | null>
  refused: Record<string, number>
  /** The variant's own centralized baseline, when it changes the model or data (else the base's applies). */
  centralized?: { value: number | null, epochs: number }
  /** Poisson tasks, with its own centralized baseline: the share of that model's explained deviance it keeps. */
  signalKept?: number
  convergence: RunLength
}

/** A goal's verdict; `note` says when the margin lies inside the interval of what it measures. */
export interface GoalResult { goal: string, target: string, measured: string, pass: boolean | null, note?: string }

export interface Results extends Summary {
  description: string | null
  /** The loaded dataset: rows, the split, and the rows skipped as bad (null with a custom peer environment). */
  data: DataSummary | null
  /**
   * Per-region figures for key partitions (e.g. freMTPL2freq by Region): each region's peers in the network
   * vs alone, on the region's own test rows and on the shared test split, small regions marked (regions.ts).
   * Null for other partitions, without baselines, and in libp2p mode.
   */
  regions: RegionReport | null
  /** Personal models per peer and region (scenarios with `personal:`; simulations/personal.ts). */
  personal?: PersonalReport
  /** Differential privacy spent per peer and the membership-inference attack (simulations/privacy.ts). */
  privacy?: PrivacyResults
  /** Rule glm-newton: the peers' coefficients, deviance and totals against the pooled fit (exact-glm.ts). */
  exactGlm?: ExactGlmFigures
  details: {
    scenario: Scenario
    ruleParams: Record<string, unknown>
    attack: string | null
    adversaries: number[]
    stragglers: number[]
    perRound: Array<Omit<RoundRecord, 'wallMs'>>
    finalMetrics: MetricValues
    /** The label's task (binary, multiclass, count, regression); null from light test environments. */
    task: string | null
    bootstrap: BootstrapDetails
    /** name: the peer's shard (`Rhone-Alpes#3` for key partitions, else `peer-7`). */
    perPeer: Array<{ index: number, name: string, key: string, metric: number | null, localOnly: number | null, bytesSent: number, bytesReceived: number }>
    baselines: BaselineResults
    variants: VariantResult[]
    goals: GoalResult[]
    trainingSteps: number
    /** Peers that came back and caught up by state sync (harness/catch-up.ts); absent when none was offline. */
    catchUp?: CatchUpSummary
  }
  timing: {
    wallSeconds: number
    decentralizedSeconds: number
    baselineSeconds: number
    workers: number
    engineBusyMs: { begin: number, deliver: number, end: number }
    roundWallMs: number[]
    /** Each variant's decentralized run, in seconds. */
    variantSeconds?: Record<string, number>
    /** Each variant's peak memory (RSS, MiB) during its decentralized run; the `maxRssMiB` goal covers them too. */
    variantMaxRssMiB?: Record<string, number>
  }
}

export function sortKeys (record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)))
}

export function ruleLabel (rule: Record<string, unknown>): string {
  const name = String(rule.rule)
  const merge = rule.merge
  return merge != null && merge !== 'mean' ? `${name}/${String(merge)}` : name
}

export function attackLabel (scenario: Scenario): string | null {
  if (scenario.adversaries.fraction === 0) return null
  const a = scenario.adversaries.attack
  const params = Object.entries(a).filter(([k]) => k !== 'kind').map(([k, v]) => `${k}=${String(v)}`).join(',')
  return `${Math.round(scenario.adversaries.fraction * 100)}% ${a.kind}${params !== '' ? ` (${params})` : ''}`
}

/**
 * Round records as reported: at the last round the mean, worst and 10th percentile are those on the curve rows
 * (the harness's `onCurveRows`: the same final models on the curve's sample of the test split) when present, so
 * the curve compares across rounds; the final figures (`decentralized`) use the whole split.
 */
export function roundRecords (run: DecentralizedResult): RoundRecord[] {
  return run.rounds.map(({ onCurveRows, ...r }) => onCurveRows != null && r.evaluated ? { ...r, mean: onCurveRows.mean, min: onCurveRows.min, p10: onCurveRows.p10 } : r)
}

/** Each metric's mean over the run's final per-peer evaluations (significant digits as the tables show them). */
export function finalMetricMeans (run: DecentralizedResult): MetricValues {
  const out: MetricValues = {}
  for (const [, m] of run.final) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v / run.final.length
  for (const k of Object.keys(out)) out[k] = sig(out[k])
  return out
}

/** Curve (evaluated rounds only, all on the curve's sample) and final decentralized figures from a run. */
export function decentralizedFigures (run: DecentralizedResult): { decentralized: Summary['decentralized'], curve: CurvePoint[] } {
  const curve = roundRecords(run).filter((r) => r.evaluated).map((r) => ({ round: r.round, mean: r.mean == null ? null : sig(r.mean), min: r.min == null ? null : sig(r.min), p10: r.p10 == null ? null : sig(r.p10) }))
  const values = run.final.map(([, m]) => m[run.metric.name]).filter((v): v is number => typeof v === 'number')
  const s = peerSummary(values, run.metric.higherIsBetter)
  const last = run.rounds.at(-1)
  return {
    decentralized: {
      mean: Number.isFinite(s.mean) ? sig(s.mean) : null,
      min: Number.isFinite(s.min) ? sig(s.min) : null,
      p10: Number.isFinite(s.p10) ? sig(s.p10) : null,
      consensusDistance: last?.consensusDistance == null ? null : sig(last.consensusDistance)
    },
    curve
  }
}

export function variantResult (name: string, description: string | undefined, run: DecentralizedResult): VariantResult {
  const { decentralized, curve } = decentralizedFigures(run)
  return {
    name,
    description,
    rule: ruleLabel(run.scenario.rule),
    attack: attackLabel(run.scenario),
    decentralized,
    curve,
    consensus: run.rounds.map((r) => r.consensusDistance == null ? null : sig(r.consensusDistance)),
    refused: sortKeys(run.refused),
    convergence: runLength(run)
  }
}

export function summaryOf (results: Results): Summary {
  return {
    scenario: results.scenario,
    peers: results.peers,
    rounds: results.rounds,
    seed: results.seed,
    rule: results.rule,
    metric: results.metric,
    decentralized: results.decentralized,
    centralized: results.centralized,
    localOnly: results.localOnly,
    fedavg: results.fedavg,
    curve: results.curve,
    bytesPerPeerPerRound: results.bytesPerPeerPerRound,
    refused: results.refused,
    wallSeconds: results.wallSeconds,
    peerStepsPerSecond: results.peerStepsPerSecond,
    maxRssMiB: results.maxRssMiB,
    signalKept: results.signalKept,
    signalKeptInterval: results.signalKeptInterval,
    convergence: results.convergence,
    ...(results.privacy != null ? { privacy: privacySummary(results.privacy) } : {}),
    ...(results.exactGlm != null ? { exactGlm: exactGlmSummary(results.exactGlm) } : {})
  }
}

const fmt = (v: number | null | undefined, digits = 4): string => v == null || !Number.isFinite(v) ? '-' : Number(v.toPrecision(digits)).toString()

/** Metrics shown beside the goal metric, per task (the goal metric itself is left out). */
export function extraMetrics (task: string | null, goal: string): string[] {
  const cols = task === 'binary' ? ['auc', 'logLoss', 'accuracy']
    : task === 'count' ? ['devianceExplained', 'predictedOverObserved', 'poissonDeviance']
      : task === 'multiclass' ? ['accuracy', 'logLoss'] : []
  return cols.filter((c) => c !== goal)
}

const ivText = (iv: Interval | undefined, digits = 4): string => iv == null ? '' : `[${fmt(iv[0], digits)}, ${fmt(iv[1], digits)}]`

/** '30 rounds', or with a plateau stop '41 of at most 120 rounds (plateau at round 40)', and the run's time. */
export function roundsText (c: RunLength | undefined, rounds: number, seconds?: number): string {
  const stop = c?.stoppedBy === 'plateau' ? `${c.roundsRun} of at most ${c.cap} rounds (plateau at round ${(c.plateauAt ?? 0) + 1})` : `${c?.roundsRun ?? rounds} rounds`
  return seconds == null ? stop : `${stop} in ${seconds.toFixed(1)} s`
}

/** The peer that did worst in the goal metric, by name. */
export function worstPeer (results: Results): { name: string, value: number } | null {
  const hib = results.metric.higherIsBetter
  let worst: { name: string, value: number } | null = null
  for (const p of results.details.perPeer) {
    if (p.metric == null) continue
    if (worst == null || (hib ? p.metric < worst.value : p.metric > worst.value)) worst = { name: p.name, value: p.metric }
  }
  return worst
}

/** The table printed after a run. */
export function renderTable (results: Results): string {
  const m = results.metric
  const extra = extraMetrics(results.details.task ?? null, m.name)
  const cells = (f: Metrics): string[] => extra.map((k) => fmt(f.metrics?.[k]))
  const goalCell = (f: Metrics): string => ivText(f.intervals?.[m.name])
  const rows: string[][] = [
    ['', `mean ${m.name}`, '95% interval', 'worst peer', '10th pct', 'consensus dist.', ...extra],
    ['decentralized', fmt(results.decentralized.mean), goalCell(results.decentralized), fmt(results.decentralized.min), fmt(results.decentralized.p10), fmt(results.decentralized.consensusDistance, 3), ...cells(results.decentralized)],
    ['centralized (pooled)', fmt(results.centralized.value), goalCell(results.centralized), '', '', '', ...cells(results.centralized)],
    ['local-only', fmt(results.localOnly.mean), goalCell(results.localOnly), '', '', '', ...cells(results.localOnly)],
    ['FedAvg (server)', fmt(results.fedavg.value), goalCell(results.fedavg), '', '', '', ...cells(results.fedavg)]
  ]
  for (const v of results.details.variants) {
    rows.push([`variant ${v.name}`, fmt(v.decentralized.mean), '', fmt(v.decentralized.min), fmt(v.decentralized.p10), fmt(v.decentralized.consensusDistance, 3), ...extra.map(() => '')])
    if (v.centralized != null) rows.push([`  its centralized`, fmt(v.centralized.value), '', '', '', '', ...extra.map(() => '')])
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)))
  const line = (r: string[]): string => r.map((cell, c) => c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])).join('  ').trimEnd()
  const worst = worstPeer(results)
  const out = [
    `${results.scenario}: ${results.peers} peers, ${roundsText(results.convergence, results.rounds, results.timing?.decentralizedSeconds)}, rule ${results.rule}, seed ${String(results.seed)}` +
      (results.details.attack != null ? `, attack ${results.details.attack}` : ''),
    `metric: ${m.name} (${m.higherIsBetter ? 'higher' : 'lower'} is better); intervals: ${Math.round((results.details.bootstrap?.level ?? 0.95) * 100)}% bootstrap over the test rows`,
    '',
    line(rows[0]),
    ...rows.slice(1).map(line),
    ''
  ]
  if (results.signalKept != null) {
    const iv = results.signalKeptInterval
    out.push(`signal kept: ${pct(results.signalKept)}${iv != null ? ` [${pct(iv[0])}, ${pct(iv[1])}]` : ''} of the centralized model's explained deviance`)
  }
  if (worst != null) out.push(`worst peer: ${worst.name} (${m.name} ${fmt(worst.value)})`)
  out.push(
    `bytes per peer per round: ${fmt(results.bytesPerPeerPerRound, 4)}   refused: ${Object.entries(results.refused).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
    `wall: ${results.wallSeconds.toFixed(1)} s   peer steps/s: ${results.peerStepsPerSecond.toFixed(0)}   max RSS: ${results.maxRssMiB.toFixed(0)} MiB`
  )
  const bad = results.data?.badRows
  if (bad != null && bad.count > 0) out.push(`skipped ${bad.count} bad row(s) of ${results.data!.name} (onBadRow skip); first:`, ...bad.examples.slice(0, 3).map((e) => `  ${e}`))
  if (results.exactGlm != null) out.push('', exactGlmLine(results.exactGlm))
  if (results.regions != null) out.push('', ...renderRegions(results.regions))
  if (results.personal != null) out.push('', ...renderPersonal(results.personal))
  if (results.privacy != null) out.push('', ...renderPrivacy(results.privacy))
  if (results.details.goals.length > 0) {
    out.push('', 'goals:')
    for (const g of results.details.goals) {
      out.push(`  ${g.pass == null ? '?' : g.pass ? 'PASS' : 'FAIL'}  ${g.goal}: target ${g.target}, measured ${g.measured}`)
      if (g.note != null) out.push(`        (${g.note})`)
    }
  }
  return out.join('\n')
}

const pct = (v: number | null): string => v == null || !Number.isFinite(v) ? '-' : `${(v * 100).toFixed(1)}%`

/** The per-region table (small regions first, marked with *). */
export function renderRegions (r: RegionReport): string[] {
  const rows: string[][] = [['region', 'peers', 'exposure', 'test rows', 'own rows: network', 'alone', 'better', 'shared split: network', 'alone', 'better']]
  for (const x of r.regions) {
    rows.push([`${x.small ? '* ' : '  '}${x.region}`, String(x.peers), fmt(x.exposure, 5), String(x.testPolicies), fmt(x.decentralized), fmt(x.localOnly), pct(x.improvement),
      fmt(x.sharedDecentralized), fmt(x.sharedLocalOnly), pct(x.sharedImprovement)])
  }
  const groupRow = (name: string, g: RegionReport['small']): string[] => [name, '', '', '', fmt(g.decentralized), fmt(g.localOnly), pct(g.improvement), fmt(g.sharedDecentralized), fmt(g.sharedLocalOnly), pct(g.sharedImprovement)]
  rows.push(groupRow('  small regions (*)', r.small), groupRow('  all regions', r.all))
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)))
  const line = (row: string[]): string => row.map((cell, c) => c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])).join('  ').trimEnd()
  return [
    `by ${r.column ?? 'partition key'}: ${r.metric} of each region's peers in the network vs alone (local-only), on the region's own test rows and on the shared test split;`,
    `* small regions: ${r.smallRule}`,
    ...rows.map(line)
  ]
}
