/**
 * The results of a simulation: `results.json` (everything, stable keys) and the summary (`--json`), whose keys
 * are fixed for tooling: scenario, peers, rounds, seed, rule, metric, decentralized, centralized, localOnly,
 * fedavg, curve, bytesPerPeerPerRound, refused, wallSeconds, peerStepsPerSecond, maxRssMiB.
 *
 * Everything except the timing fields (wallSeconds, peerStepsPerSecond, maxRssMiB and the `timing` section) is
 * identical for the same scenario and seed.
 */
import { exactGlmLine, exactGlmSummary, type ExactGlmFigures } from './exact-glm.js'
import type { MetricValues } from '../protocol/interfaces.js'
import type { Scenario } from './scenario.js'
import type { DecentralizedResult, RoundRecord } from './harness/coordinator.js'
import { peerSummary, sig } from './stats.js'
import type { RegionReport } from './regions.js'

export interface CurvePoint { round: number, mean: number | null, min: number | null, p10: number | null }

export interface Summary {
  /** Rule glm-newton: the key figures of results.exactGlm (no trace, no table). */
  exactGlm?: Omit<ExactGlmFigures, 'trace' | 'table' | 'pooledTestMetrics'>
  scenario: string
  peers: number
  rounds: number
  seed: number | string
  rule: string
  metric: { name: string, higherIsBetter: boolean }
  decentralized: { mean: number | null, min: number | null, p10: number | null, consensusDistance: number | null }
  centralized: { value: number | null }
  localOnly: { mean: number | null }
  fedavg: { value: number | null }
  curve: CurvePoint[]
  bytesPerPeerPerRound: number
  refused: Record<string, number>
  wallSeconds: number
  peerStepsPerSecond: number
  maxRssMiB: number
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
}

export interface GoalResult { goal: string, target: string, measured: string, pass: boolean | null }

export interface Results extends Summary {
  description: string | null
  /**
   * Per-region figures for key partitions (e.g. freMTPL2freq by Region): each region's peers in the network
   * vs alone, on the region's own test rows and on the shared test split, small regions marked (regions.ts).
   * Null for other partitions, without baselines, and in libp2p mode.
   */
  regions: RegionReport | null
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
    perPeer: Array<{ index: number, key: string, metric: number | null, localOnly: number | null, bytesSent: number, bytesReceived: number }>
    baselines: BaselineResults
    variants: VariantResult[]
    goals: GoalResult[]
    trainingSteps: number
  }
  timing: {
    wallSeconds: number
    decentralizedSeconds: number
    baselineSeconds: number
    workers: number
    engineBusyMs: { begin: number, deliver: number, end: number }
    roundWallMs: number[]
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
    refused: sortKeys(run.refused)
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
    ...(results.exactGlm != null ? { exactGlm: exactGlmSummary(results.exactGlm) } : {})
  }
}

const fmt = (v: number | null | undefined, digits = 4): string => v == null || !Number.isFinite(v) ? '-' : Number(v.toPrecision(digits)).toString()

/** The table printed after a run. */
export function renderTable (results: Results): string {
  const m = results.metric
  const rows: Array<[string, string, string, string, string]> = [
    ['', `mean ${m.name}`, 'worst peer', '10th pct', 'consensus dist.'],
    ['decentralized', fmt(results.decentralized.mean), fmt(results.decentralized.min), fmt(results.decentralized.p10), fmt(results.decentralized.consensusDistance, 3)],
    ['centralized (pooled)', fmt(results.centralized.value), '', '', ''],
    ['local-only', fmt(results.localOnly.mean), '', '', ''],
    ['FedAvg (server)', fmt(results.fedavg.value), '', '', '']
  ]
  for (const v of results.details.variants) {
    rows.push([`variant ${v.name}`, fmt(v.decentralized.mean), fmt(v.decentralized.min), fmt(v.decentralized.p10), fmt(v.decentralized.consensusDistance, 3)])
    if (v.centralized != null) rows.push([`  its centralized`, fmt(v.centralized.value), '', '', ''])
  }
  const widths = [0, 1, 2, 3, 4].map((c) => Math.max(...rows.map((r) => r[c].length)))
  const line = (r: string[]): string => r.map((cell, c) => c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])).join('  ')
  const out = [
    `${results.scenario}: ${results.peers} peers, ${results.rounds} rounds, rule ${results.rule}, seed ${String(results.seed)}` +
      (results.details.attack != null ? `, attack ${results.details.attack}` : ''),
    `metric: ${m.name} (${m.higherIsBetter ? 'higher' : 'lower'} is better)`,
    '',
    line(rows[0]),
    ...rows.slice(1).map(line),
    '',
    `bytes per peer per round: ${fmt(results.bytesPerPeerPerRound, 4)}   refused: ${Object.entries(results.refused).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
    `wall: ${results.wallSeconds.toFixed(1)} s   peer steps/s: ${results.peerStepsPerSecond.toFixed(0)}   max RSS: ${results.maxRssMiB.toFixed(0)} MiB`
  ]
  if (results.exactGlm != null) out.push('', exactGlmLine(results.exactGlm))
  if (results.regions != null) out.push('', ...renderRegions(results.regions))
  if (results.details.goals.length > 0) {
    out.push('', 'goals:')
    for (const g of results.details.goals) out.push(`  ${g.pass == null ? '?' : g.pass ? 'PASS' : 'FAIL'}  ${g.goal}: target ${g.target}, measured ${g.measured}`)
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
