/**
 * Per-region figures for scenarios partitioned by a key column (`partition: { kind: by-key }`, e.g. freMTPL2freq
 * by Region, Adult by native country): does the network help the peers of each region, and above all the SMALL
 * regions, whose peers have too little data to learn alone?
 *
 * What is compared, per region:
 * - rows: the region's rows of the shared held-out test split (the policies that region's insurer would price;
 *   never trained on). Both models of a peer are scored on the same rows, so the comparison is paired.
 * - decentralized: each of the region's honest peers' final model in the network, scored on those rows, averaged
 *   over the region's peers.
 * - local-only: each of the region's honest peers trained alone on its own shard (the run's local-only baseline:
 *   same steps, same seeds), scored on the same rows, averaged over the region's peers.
 * - improvement: relative improvement of decentralized over local-only, (local - dec) / local for lower-is-better
 *   metrics (Poisson deviance), (dec - local) / local for higher-is-better ones.
 * - shared*: the same two models of each peer on the whole shared test split (all regions' policies: the
 *   run's `decentralized` and `localOnly` figures), averaged over the region's peers. This asks "which model
 *   prices the market better"; the region rows ask "which model prices my own policies better".
 *
 * Small regions: the quarter of regions (rounded up) holding the least training exposure (policy-years; rows
 * where the dataset has no exposure column), ties broken by name. For freMTPL2freq's 22 regions: the 6 smallest.
 */
import { sig } from './stats.js'

/** One honest peer's figures on its own region's test rows (computed in the worlds). */
export interface RegionPeerFigures {
  index: number
  region: string
  /** Training rows of this peer's shard. */
  policies: number
  /** Training exposure of this peer's shard (policy-years; = policies without an exposure column). */
  exposure: number
  /** Rows of the region in the shared test split. */
  testPolicies: number
  decentralized: number | null
  localOnly: number | null
  /** The same models on the whole shared test split (filled in by the coordinator from the run's figures). */
  sharedDecentralized?: number | null
  sharedLocalOnly?: number | null
}

export interface RegionRow {
  region: string
  /** Honest peers of the region. */
  peers: number
  policies: number
  exposure: number
  testPolicies: number
  small: boolean
  decentralized: number | null
  localOnly: number | null
  /** Relative improvement of decentralized over local-only (0.2 = 20% better). */
  improvement: number | null
  sharedDecentralized: number | null
  sharedLocalOnly: number | null
  sharedImprovement: number | null
}

export interface RegionGroupFigures {
  regions: string[]
  /** Test-row-weighted means over the group's regions (the metric pooled over their test rows). */
  decentralized: number | null
  localOnly: number | null
  improvement: number | null
  /** The group's region where the network helped least, and by how much. */
  worstRegion: string | null
  worstImprovement: number | null
  /** On the shared test split: means over the group's peers. */
  sharedDecentralized: number | null
  sharedLocalOnly: number | null
  sharedImprovement: number | null
  sharedWorstRegion: string | null
  sharedWorstImprovement: number | null
}

export interface RegionReport {
  /** The partition-key column (e.g. `Region`). */
  column: string | null
  metric: string
  higherIsBetter: boolean
  evaluatedOn: 'region-test-rows'
  smallRule: string
  /** Sorted by training exposure, smallest first (ties by name). */
  regions: RegionRow[]
  small: RegionGroupFigures
  all: RegionGroupFigures
}

export const SMALL_REGION_FRACTION = 0.25

export function improvement (decentralized: number | null, localOnly: number | null, higherIsBetter: boolean): number | null {
  if (decentralized == null || localOnly == null || !Number.isFinite(decentralized) || !Number.isFinite(localOnly) || localOnly === 0) return null
  return higherIsBetter ? (decentralized - localOnly) / Math.abs(localOnly) : (localOnly - decentralized) / Math.abs(localOnly)
}

function meanOf (values: Array<number | null>): number | null {
  const v = values.filter((x): x is number => x != null && Number.isFinite(x))
  return v.length === 0 ? null : v.reduce((s, x) => s + x, 0) / v.length
}

function group (rows: RegionRow[], higherIsBetter: boolean): RegionGroupFigures {
  const weighted = (pick: (r: RegionRow) => number | null): number | null => {
    let s = 0; let w = 0
    for (const r of rows) {
      const v = pick(r)
      if (v == null || r.testPolicies === 0) continue
      s += v * r.testPolicies; w += r.testPolicies
    }
    return w === 0 ? null : s / w
  }
  const byPeers = (pick: (r: RegionRow) => number | null): number | null => {
    let s = 0; let w = 0
    for (const r of rows) {
      const v = pick(r)
      if (v == null) continue
      s += v * r.peers; w += r.peers
    }
    return w === 0 ? null : s / w
  }
  const decentralized = weighted((r) => r.decentralized)
  const localOnly = weighted((r) => r.localOnly)
  const worstBy = (pick: (r: RegionRow) => number | null): RegionRow | null => {
    let worst: RegionRow | null = null
    for (const r of rows) { const v = pick(r); if (v != null && (worst == null || v < (pick(worst) as number))) worst = r }
    return worst
  }
  const worst = worstBy((r) => r.improvement)
  const sharedWorst = worstBy((r) => r.sharedImprovement)
  const sd = byPeers((r) => r.sharedDecentralized)
  const sl = byPeers((r) => r.sharedLocalOnly)
  const si = improvement(sd, sl, higherIsBetter)
  return {
    regions: rows.map((r) => r.region),
    decentralized: decentralized == null ? null : sig(decentralized),
    localOnly: localOnly == null ? null : sig(localOnly),
    improvement: (() => { const i = improvement(decentralized, localOnly, higherIsBetter); return i == null ? null : sig(i, 4) })(),
    worstRegion: worst?.region ?? null,
    worstImprovement: worst?.improvement ?? null,
    sharedDecentralized: sd == null ? null : sig(sd),
    sharedLocalOnly: sl == null ? null : sig(sl),
    sharedImprovement: si == null ? null : sig(si, 4),
    sharedWorstRegion: sharedWorst?.region ?? null,
    sharedWorstImprovement: sharedWorst?.sharedImprovement ?? null
  }
}

/** Groups peers' figures by region, marks the small regions, and summarizes. Order-independent. */
export function buildRegionReport (
  peers: readonly RegionPeerFigures[],
  options: { metric: string, higherIsBetter: boolean, column: string | null, smallFraction?: number }
): RegionReport {
  const byRegion = new Map<string, RegionPeerFigures[]>()
  for (const p of [...peers].sort((a, b) => a.index - b.index)) {
    let g = byRegion.get(p.region)
    if (g == null) { g = []; byRegion.set(p.region, g) }
    g.push(p)
  }
  const rows: RegionRow[] = [...byRegion.entries()].map(([region, ps]) => {
    const decentralized = meanOf(ps.map((p) => p.decentralized))
    const localOnly = meanOf(ps.map((p) => p.localOnly))
    const imp = improvement(decentralized, localOnly, options.higherIsBetter)
    const sd = meanOf(ps.map((p) => p.sharedDecentralized ?? null))
    const sl = meanOf(ps.map((p) => p.sharedLocalOnly ?? null))
    const si = improvement(sd, sl, options.higherIsBetter)
    return {
      region,
      peers: ps.length,
      policies: ps.reduce((s, p) => s + p.policies, 0),
      exposure: sig(ps.reduce((s, p) => s + p.exposure, 0)),
      testPolicies: ps[0].testPolicies,
      small: false,
      decentralized: decentralized == null ? null : sig(decentralized),
      localOnly: localOnly == null ? null : sig(localOnly),
      improvement: imp == null ? null : sig(imp, 4),
      sharedDecentralized: sd == null ? null : sig(sd),
      sharedLocalOnly: sl == null ? null : sig(sl),
      sharedImprovement: si == null ? null : sig(si, 4)
    }
  }).sort((a, b) => a.exposure - b.exposure || (a.region < b.region ? -1 : a.region > b.region ? 1 : 0))
  const fraction = options.smallFraction ?? SMALL_REGION_FRACTION
  const smallCount = rows.length === 0 ? 0 : Math.max(1, Math.ceil(rows.length * fraction))
  rows.forEach((r, i) => { r.small = i < smallCount })
  return {
    column: options.column,
    metric: options.metric,
    higherIsBetter: options.higherIsBetter,
    evaluatedOn: 'region-test-rows',
    smallRule: `the ${smallCount} of ${rows.length} regions (${Math.round(fraction * 100)}%, rounded up) with the least training exposure`,
    regions: rows,
    small: group(rows.filter((r) => r.small), options.higherIsBetter),
    all: group(rows, options.higherIsBetter)
  }
}
