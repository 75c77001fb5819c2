/**
 * The `personal` section of results.json: every honest peer's personal model (learning/personal.ts, chosen on
 * its own validation rows) beside its network and local-only models, on its own rows and on the shared test
 * split, per peer and per region, and the `personalBeatsLocal` goal.
 *
 * perPeer[].personal / .network / .localOnly are the own-rows figures (the report's chart reads the first two);
 * `own` and `shared` hold each model's figure with the paired 95% interval of personal minus the other.
 */
import { sig } from './stats.js'
import type { GoalResult } from './results.js'
import type { PersonalPeerFigures } from './harness/personal-task.js'
import type { Paired, PersonalFigures } from '../learning/personal-model.js'
import { BLEND_GRID } from '../learning/personal.js'
import { normalUpper } from '../learning/glm/special.js'
import type { Simulation } from './harness/coordinator.js'
import type { Scenario } from './scenario.js'

type Three = { network: number | null, localOnly: number | null, personal: number | null }

export interface PersonalPeerRow extends Three {
  index: number
  region: string | null
  z: number
  own: PersonalFigures
  shared: PersonalFigures
  validation: PersonalPeerFigures['validation']
}

export interface PersonalRegionRow { region: string, peers: number, meanZ: number, ownRows: number, own: Three, shared: Three }

export interface PersonalReport {
  metric: string
  higherIsBetter: boolean
  /** Where "own rows" are: the peer's region's rows of the test split, or the shared split itself. */
  ownRows: 'region test rows' | 'shared split'
  selection: { loss: string, grid: number[], validationFraction: number, blend: string, rule: string }
  perPeer: PersonalPeerRow[]
  /** Means over each region's peers (key partitions), smallest region first; else null. */
  perRegion: PersonalRegionRow[] | null
  /**
   * Means over all peers, and how many kept the network model (z = 0) or their local one (z = 1); `cannotTell`:
   * how many kept the network model because their validation rows could not tell (one row, or one class).
   */
  all: { own: Three, shared: Three, meanZ: number, atNetwork: number, atLocal: number, cannotTell: number }
}

const mean = (v: Array<number | null>): number | null => {
  const x = v.filter((a): a is number => a != null && Number.isFinite(a))
  return x.length === 0 ? null : sig(x.reduce((s, a) => s + a, 0) / x.length)
}
const threeOf = (rows: PersonalFigures[]): Three => ({ network: mean(rows.map((r) => r.network)), localOnly: mean(rows.map((r) => r.localOnly)), personal: mean(rows.map((r) => r.personal)) })
const round = (f: PersonalFigures): PersonalFigures => {
  const p = (x: Paired | null): Paired | null => x == null ? null : { mean: sig(x.mean), halfWidth: sig(x.halfWidth), ...(x.bounded === true ? { bounded: true } : {}) }
  const v = (x: number | null): number | null => x == null ? null : sig(x)
  return { rows: f.rows, network: v(f.network), localOnly: v(f.localOnly), personal: v(f.personal), vsNetwork: p(f.vsNetwork), vsLocalOnly: p(f.vsLocalOnly) }
}

export function buildPersonalReport (parts: Array<{ ownRows: PersonalReport['ownRows'], peers: PersonalPeerFigures[] }>, options: { metric: string, higherIsBetter: boolean, validationFraction: number, rule?: string }): PersonalReport | null {
  const peers = parts.flatMap((p) => p.peers).sort((a, b) => a.index - b.index)
  if (peers.length === 0) return null
  const perPeer: PersonalPeerRow[] = peers.map((p) => {
    const own = round(p.own)
    return {
      index: p.index, region: p.region, z: p.z, network: own.network, localOnly: own.localOnly, personal: own.personal, own, shared: round(p.shared),
      validation: { rows: p.validation.rows, network: sig(p.validation.network), localOnly: sig(p.validation.localOnly), personal: sig(p.validation.personal), canTell: p.validation.canTell }
    }
  })
  const regions = new Map<string, PersonalPeerRow[]>()
  for (const p of perPeer) if (p.region != null) { const g = regions.get(p.region) ?? []; g.push(p); regions.set(p.region, g) }
  const perRegion = regions.size === 0
    ? null
    : [...regions.entries()].map(([region, ps]) => ({
        region, peers: ps.length, meanZ: sig(ps.reduce((s, p) => s + p.z, 0) / ps.length, 3), ownRows: ps[0].own.rows, own: threeOf(ps.map((p) => p.own)), shared: threeOf(ps.map((p) => p.shared))
      })).sort((a, b) => a.ownRows - b.ownRows || (a.region < b.region ? -1 : 1))
  return {
    metric: options.metric,
    higherIsBetter: options.higherIsBetter,
    ownRows: parts[0].ownRows,
    selection: { loss: peers[0].loss, grid: [...BLEND_GRID], validationFraction: options.validationFraction, blend: peers[0].mode === 'parameters' ? 'parameter interpolation' : 'prediction blend', rule: options.rule ?? 'one-se' },
    perPeer,
    perRegion,
    all: {
      own: threeOf(perPeer.map((p) => p.own)),
      shared: threeOf(perPeer.map((p) => p.shared)),
      meanZ: sig(perPeer.reduce((s, p) => s + p.z, 0) / perPeer.length, 3),
      atNetwork: perPeer.filter((p) => p.z === 0).length,
      atLocal: perPeer.filter((p) => p.z === 1).length,
      cannotTell: perPeer.filter((p) => p.validation.canTell === false).length
    }
  }
}

/**
 * Whether one peer's personal model is at least as good as `other` on its own rows: the shortfall is within
 * `tolerance` (relative to the other's figure), or the interval of personal minus other, `critical` standard
 * errors wide on each side (1.96: the paired 95% interval), reaches 0.
 */
export function notWorse (f: PersonalFigures, other: 'network' | 'localOnly', tolerance: number, higherIsBetter: boolean, critical = 1.96): boolean | null {
  const base = f[other]
  if (f.personal == null || base == null) return null
  const gap = higherIsBetter ? base - f.personal : f.personal - base
  if (gap <= tolerance * Math.abs(base)) return true
  const d = other === 'network' ? f.vsNetwork : f.vsLocalOnly
  return d != null && Number.isFinite(d.halfWidth) && d.mean + d.halfWidth * (critical / 1.96) >= 0
}

/** The two-sided critical value of the standard normal at `alpha` (bisection on its tail). */
export function normalCritical (alpha: number): number {
  let lo = 0; let hi = 40
  for (let i = 0; i < 100; i++) { const mid = (lo + hi) / 2; if (2 * normalUpper(mid) > alpha) lo = mid; else hi = mid }
  return (lo + hi) / 2
}

/**
 * The `personalBeatsLocal` goal: `true`, or `{ tolerance: 0.005, familyWise: true }`. Per peer and per model
 * compared, the paired 95% interval must reach 0 (or the shortfall be within the relative tolerance; default
 * 0). `familyWise` widens the intervals for the number of comparisons (Bonferroni over 2 x peers: with 220
 * peers a 95% interval per comparison excludes 0 about once in 40 when the models are equally good, so
 * "every peer" needs the family's 95%). The measured text always says how many fall outside their own 95%.
 */
export function personalGoal (report: PersonalReport | null, spec: unknown): GoalResult {
  const o = typeof spec === 'object' && spec != null ? spec as { tolerance?: number, familyWise?: boolean } : {}
  const tolerance = Number(o.tolerance ?? 0)
  const familyWise = o.familyWise === true
  const goal = `every peer's personal model at least as good as its network and local-only models on its own rows (${report?.ownRows ?? 'n/a'})`
  const target = `all peers, within the ${familyWise ? 'family-wise (Bonferroni) ' : 'paired '}95% interval${tolerance > 0 ? ` or ${(tolerance * 100).toFixed(2)}%` : ''}`
  if (report == null) return { goal, target, measured: 'n/a (no personal section: the scenario needs `personal:`)', pass: null }
  const hib = report.higherIsBetter
  // peers without a figure on their own rows (a region with no test rows; AUC on rows of one class) cannot be
  // judged: counted apart
  const peers = report.perPeer.filter((p) => p.own.rows > 0 && p.own.personal != null)
  const unmeasured = report.perPeer.length - peers.length
  // comparisons whose interval is the variance bound (a class with a single own row: learning/auc-compare.ts)
  const bounded = peers.reduce((k, p) => k + (p.own.vsNetwork?.bounded === true ? 1 : 0) + (p.own.vsLocalOnly?.bounded === true ? 1 : 0), 0)
  const critical = familyWise ? normalCritical(0.05 / Math.max(1, 2 * peers.length)) : 1.96
  const side = (other: 'network' | 'localOnly'): { ok: number, outside95: number, better: number, worst: string } => {
    let ok = 0; let outside95 = 0; let better = 0; let worst: { gap: number, p: PersonalPeerRow } | null = null
    for (const p of peers) {
      if (notWorse(p.own, other, tolerance, hib, critical) === true) ok++
      if (notWorse(p.own, other, 0, hib) === false) outside95++
      const base = p.own[other]
      if (p.own.personal == null || base == null) continue
      const gap = (hib ? p.own.personal - base : base - p.own.personal) / Math.abs(base)
      if (gap > 0) better++
      if (worst == null || gap < worst.gap) worst = { gap, p }
    }
    const w = worst == null ? '-' : `${(worst.gap * 100).toFixed(2)}% (peer ${worst.p.index}${worst.p.region != null ? ` ${worst.p.region}` : ''}, z ${worst.p.z})`
    return { ok, outside95, better, worst: w }
  }
  const n = side('network')
  const l = side('localOnly')
  const text = (name: string, s: typeof n): string => `vs ${name} ${s.ok} of ${peers.length} (strictly better ${s.better}, least ${s.worst}, outside their own 95% ${s.outside95})`
  return {
    goal,
    target,
    measured: `${text('network', n)}; ${text('local-only', l)}${familyWise ? `; critical value ${critical.toFixed(2)}` : ''}` +
      (bounded > 0 ? `; ${bounded} comparison(s) on own rows with a single row of a class (interval from the variance bound)` : '') +
      (unmeasured > 0 ? `; ${unmeasured} peer(s) without their ${report.metric} on own rows (no test rows, or one class) not judged` : ''),
    pass: peers.length === 0 ? null : n.ok === peers.length && l.ok === peers.length
  }
}

/** How the one-SE rule (learning/personal.ts chooseBlend) reads in the summary and the report. */
export const ONE_SE_TEXT = 'the network model unless it is worse than the best blend beyond their paired 95% interval, else the smallest z within one (paired) standard error of the best, by'

/** ` (N because their validation rows could not tell: one row or one class)`, or nothing (also for older results). */
export const cannotTell = (r: PersonalReport): string => (r.all.cannotTell ?? 0) > 0 ? ` (${r.all.cannotTell} because their validation rows could not tell: one row or one class)` : ''

const fmt = (v: number | null | undefined, d = 4): string => v == null || !Number.isFinite(v) ? '-' : Number(v.toPrecision(d)).toString()

/** The summary's lines: per region (key partitions) or per peer (at most `maxPeers`), then all peers. */
export function renderPersonal (r: PersonalReport, options: { maxPeers?: number } = {}): string[] {
  const head = ['', 'z', 'own rows: network', 'personal', 'local-only', 'shared split: network', 'personal', 'local-only']
  const cells = (name: string, z: string, own: Three, shared: Three): string[] => [name, z, fmt(own.network), fmt(own.personal), fmt(own.localOnly), fmt(shared.network), fmt(shared.personal), fmt(shared.localOnly)]
  const rows: string[][] = [head]
  const maxPeers = options.maxPeers ?? 40
  if (r.perRegion != null) for (const g of r.perRegion) rows.push(cells(`  ${g.region} (${g.peers})`, fmt(g.meanZ, 2), g.own, g.shared))
  else for (const p of r.perPeer.slice(0, maxPeers)) rows.push(cells(`  peer ${p.index}`, fmt(p.z, 2), p.own, p.shared))
  rows.push(cells('  all peers', fmt(r.all.meanZ, 2), r.all.own, r.all.shared))
  const widths = head.map((_, c) => Math.max(...rows.map((row) => row[c].length)))
  const line = (row: string[]): string => row.map((cell, c) => c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])).join('  ').trimEnd()
  const more = r.perRegion == null && r.perPeer.length > maxPeers ? [`  (${r.perPeer.length - maxPeers} more peers in results.json and report.html)`] : []
  return [
    `personal models: ${r.metric} of each peer's network, personal and local-only models, on its own rows (${r.ownRows}) and on the shared test split;`,
    `personal = ${r.selection.blend} of network and local-only, z (local credibility) in {0, 0.1, ..., 1}: ${r.selection.rule === 'min' ? 'the best' : ONE_SE_TEXT} ${r.selection.loss} on the peer's own validation rows (${Math.round(r.selection.validationFraction * 100)}% of its shard, held out of all training); ` +
      `${r.all.atNetwork} peers kept the network model (z 0)${cannotTell(r)}, ${r.all.atLocal} their local one (z 1)${r.perRegion != null ? '; by region: means over its peers (peers), mean z' : ''}`,
    ...rows.map(line),
    ...more
  ]
}

/** Runs the worlds' `personal` task after the run (null when the scenario has no `personal` section). */
export async function runPersonal (sim: Simulation, scenario: Scenario, metric: { name: string, higherIsBetter: boolean }): Promise<PersonalReport | null> {
  if (scenario.personal == null) return null
  const parts = await sim.task<{ ownRows: PersonalReport['ownRows'], peers: PersonalPeerFigures[] }>('personal', () => ({ metric, steps: scenario.rounds * scenario.localSteps, rule: scenario.personal?.rule }))
  return buildPersonalReport(parts, { metric: metric.name, higherIsBetter: metric.higherIsBetter, validationFraction: scenario.personal.validation, rule: scenario.personal.rule })
}
