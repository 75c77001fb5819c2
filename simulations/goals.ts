/**
 * Goals a scenario declares (`goals:` in its file), checked against the measured results and shown in the
 * table, the report and the benchmark. Known goals:
 * - `minRatioToCentralized: 0.97`: decentralized mean >= 97% of centralized (for lower-is-better metrics:
 *   centralized / decentralized >= 0.97).
 * - `withinOfCentralized: 0.03`: |decentralized - centralized| / centralized <= 3%.
 * - `worstWithinOfCentralized: 0.06`: the worst honest peer's final metric at most 6% worse than centralized
 *   (relative, as `withinOfCentralized`; `decentralized.min` of the summary).
 * - `everyPeerBeatsLocal: true`: every honest peer's final metric beats its own local-only model.
 * - `variantWithin: { variant: 'no-attack', points: 2 }`: this run's mean within 2 points (percentage points of
 *   the metric x 100) of a variant's.
 * - `variantCollapses: { variant: 'plain-mean', below: 0.5 }`: that variant's mean ends below a value.
 * - `consensusRecovers: { healRound: 10, factor: 1.5, withinRounds: 5 }`: consensus distance back under
 *   factor x its value before the split within withinRounds rounds of the heal.
 * - `variantSignalKept: { variant: 'poisson-mlp', min: 0.98 }`: a Poisson variant with its own centralized
 *   baseline keeps at least that share of the deviance its centralized model explains.
 * - `minSignalKept: 0.98`: Poisson tasks: the network keeps >= 98% of the deviance the centralized model
 *   explains (signalKept: the decentralized mean's deviance explained / the centralized model's).
 * - `maxRssMiB: 4096`: the peak RSS of the decentralized run and of each variant's (`timing.variantMaxRssMiB`).
 * - `personalBeatsLocal: true` (or `{ tolerance: 0.005 }`): every honest peer's personal model (scenario
 *   `personal:`) at least as good as its network and its local-only model on its own rows, within the paired 95%
 *   interval of the difference (or the relative tolerance); simulations/personal.ts.
 *
 * Goals comparing with the centralized model carry a `note` when their margin lies inside the 95% bootstrap
 * interval of what they measure (simulations/intervals.ts): the test set is too small to tell.
 * - `smallRegionsBeatLocal: { minImprovement: 0.05, on: 'shared' }` (or a list of such): for key partitions
 *   (regions.ts), the small regions' peers (the quarter of regions with the least training exposure) do better
 *   in the network than alone: pooled over the small regions by at least 5% (relative), and in every small
 *   region by something (> 0). `on: 'shared'` (default) scores both models on the shared test split, as the
 *   run's local-only baseline is; `on: 'own'` on each region's own test rows. `minGainKept: 0.98` (shared split
 *   only) asks instead of a fixed improvement that the network keeps 98% of the improvement the centralized
 *   model itself makes over the small regions alone on the same rows: what any model of this design can gain
 *   there is a property of the data, not of the network (docs/simulation.md).
 * - `variantWithinOfCentralized: { variant: 'poisson-mlp', within: 0.02 }`: a variant that trains another model
 *   is at most 2% worse than its own centralized baseline.
 * - `privacy: { maxEpsilon: 8, maxAttackAuc: 0.53, minAttackAucWithoutPrivacy: 0.55, maxCostPoints: 3 }`: the
 *   privacy section's figures (simulations/privacy.ts); `costMetric: accuracy` states the cost in that metric.
 */
import type { Scenario } from './scenario.js'
import type { GoalResult, Results } from './results.js'
import { personalGoal } from './personal.js'
import { privacyGoals } from './privacy.js'
import { marginNote } from './intervals.js'

/** A goal result with its margin note when there is one. */
const noted = (g: GoalResult, note: string | null): GoalResult => note == null ? g : { ...g, note }

/** Relative gap of `value` behind `reference` (0.01 = 1% worse; negative: better), or null. */
export function gapBehind (value: number | null | undefined, reference: number | null | undefined, higherIsBetter: boolean): number | null {
  if (value == null || reference == null || !Number.isFinite(value) || !Number.isFinite(reference) || reference === 0) return null
  return higherIsBetter ? (reference - value) / Math.abs(reference) : (value - reference) / Math.abs(reference)
}

const f = (v: number | null | undefined, d = 4): string => v == null || !Number.isFinite(v) ? 'n/a' : Number(v.toPrecision(d)).toString()

export function evaluateGoals (scenario: Scenario, results: Results): GoalResult[] {
  const goals = scenario.goals as Record<string, any>
  const out: GoalResult[] = []
  const hib = results.metric.higherIsBetter
  const dec = results.decentralized.mean
  const cen = results.centralized.value
  if (goals.minRatioToCentralized != null) {
    const target = Number(goals.minRatioToCentralized)
    const ratio = dec != null && cen != null ? (hib ? dec / cen : cen / dec) : null
    const p1 = (v: number): string => `${(v * 100).toFixed(1)}%`
    out.push(noted({ goal: 'decentralized mean vs centralized', target: `>= ${target * 100}%`, measured: ratio == null ? 'n/a' : p1(ratio), pass: ratio == null ? null : ratio >= target },
      marginNote(target, results.details.bootstrap?.ratioToCentralized ?? null, p1)))
  }
  if (goals.withinOfCentralized != null) {
    const target = Number(goals.withinOfCentralized)
    const gap = gapBehind(dec, cen, hib)
    const p2 = (v: number): string => `${(v * 100).toFixed(2)}%`
    out.push(noted({
      goal: `decentralized mean ${results.metric.name} within x of centralized`,
      target: `<= ${(target * 100).toFixed(1)}% worse`,
      measured: gap == null ? 'n/a' : `${p2(gap)} worse (${f(dec)} vs ${f(cen)})`,
      pass: gap == null ? null : gap <= target
    }, marginNote(target, results.details.bootstrap?.gapToCentralized ?? null, p2)))
  }
  if (goals.worstWithinOfCentralized != null) {
    const target = Number(goals.worstWithinOfCentralized)
    const worst = results.decentralized.min
    const gap = gapBehind(worst, cen, hib)
    out.push({
      goal: `worst honest peer's ${results.metric.name} within x of centralized`,
      target: `<= ${(target * 100).toFixed(1)}% worse`,
      measured: gap == null ? 'n/a' : `${(gap * 100).toFixed(2)}% worse (${f(worst)} vs ${f(cen)})`,
      pass: gap == null ? null : gap <= target
    })
  }
  if (goals.minSignalKept != null) {
    const target = Number(goals.minSignalKept)
    const kept = results.signalKept ?? null
    const p1 = (v: number): string => `${(v * 100).toFixed(1)}%`
    const de = (x: { metrics?: Record<string, number> }): string => f(x.metrics?.devianceExplained)
    out.push(noted({
      goal: "signal kept: the network's share of the deviance the centralized model explains",
      target: `>= ${p1(target)}`,
      measured: kept == null ? 'n/a' : `${p1(kept)} (deviance explained ${de(results.decentralized)} vs ${de(results.centralized)})`,
      pass: kept == null ? null : kept >= target
    }, marginNote(target, results.signalKeptInterval ?? null, p1)))
  }
  if (goals.everyPeerBeatsLocal === true) {
    const peers = results.details.perPeer.filter((p) => p.metric != null && p.localOnly != null)
    const beaten = peers.filter((p) => hib ? (p.metric as number) > (p.localOnly as number) : (p.metric as number) < (p.localOnly as number))
    out.push({ goal: 'every honest peer beats its local-only model', target: `${peers.length} of ${peers.length}`, measured: `${beaten.length} of ${peers.length}`, pass: peers.length === 0 ? null : beaten.length === peers.length })
  }
  if (goals.variantWithin != null) {
    const g = goals.variantWithin as { variant: string, points: number }
    const v = results.details.variants.find((x) => x.name === g.variant)
    const diff = v?.decentralized.mean != null && dec != null ? Math.abs(dec - v.decentralized.mean) * 100 : null
    out.push({ goal: `mean within ${g.points} points of variant '${g.variant}'`, target: `<= ${g.points}`, measured: diff == null ? 'n/a' : `${diff.toFixed(2)} points (${f(dec)} vs ${f(v?.decentralized.mean)})`, pass: diff == null ? null : diff <= g.points })
  }
  for (const g of ([] as Array<{ variant: string, points: number }>).concat(goals.variantsWithin ?? [])) {
    const v = results.details.variants.find((x) => x.name === g.variant)
    const ref = results.details.variants.find((x) => x.name === (goals.reference ?? 'no-attack'))?.decentralized.mean ?? null
    const diff = v?.decentralized.mean != null && ref != null ? Math.abs(ref - v.decentralized.mean) * 100 : null
    out.push({ goal: `variant '${g.variant}' within ${g.points} points of '${String(goals.reference ?? 'no-attack')}'`, target: `<= ${g.points}`, measured: diff == null ? 'n/a' : `${diff.toFixed(2)} points`, pass: diff == null ? null : diff <= g.points })
  }
  if (goals.variantCollapses != null) {
    const g = goals.variantCollapses as { variant: string, below: number }
    const v = results.details.variants.find((x) => x.name === g.variant)
    const m = v?.decentralized.mean ?? null
    out.push({ goal: `variant '${g.variant}' collapses`, target: `mean < ${g.below}`, measured: f(m), pass: m == null ? null : m < g.below })
  }
  if (goals.consensusRecovers != null) {
    const g = goals.consensusRecovers as { splitRound: number, healRound: number, factor: number, withinRounds: number }
    const cd = results.details.perRound.map((r) => r.consensusDistance)
    const before = cd[g.splitRound - 1] ?? null
    let recoveredAt: number | null = null
    for (let r = g.healRound; r < cd.length; r++) {
      const v = cd[r]
      if (before != null && v != null && v <= g.factor * before) { recoveredAt = r; break }
    }
    const rounds = recoveredAt == null ? null : recoveredAt - g.healRound + 1
    out.push({
      goal: `consensus distance back under ${g.factor}x its pre-split value after the heal`,
      target: `within ${g.withinRounds} rounds`,
      measured: rounds == null ? `not within the run (pre-split ${f(before, 3)}, last ${f(cd.at(-1), 3)})` : `${rounds} round(s) (pre-split ${f(before, 3)})`,
      pass: before == null ? null : rounds != null && rounds <= g.withinRounds
    })
  }
  for (const g of ([] as Array<{ minImprovement?: number, minGainKept?: number, on?: 'shared' | 'own' }>).concat(goals.smallRegionsBeatLocal ?? [])) {
    if (g.minGainKept != null) { out.push(smallRegionsGainKept(Number(g.minGainKept), results)); continue }
    const target = Number(g.minImprovement)
    const own = g.on === 'own'
    const reg = results.regions
    const small = reg?.regions.filter((r) => r.small) ?? []
    const each = small.map((r) => own ? r.improvement : r.sharedImprovement)
    const pooled = reg == null ? null : own ? reg.small.improvement : reg.small.sharedImprovement
    const worstRegion = reg == null ? null : own ? reg.small.worstRegion : reg.small.sharedWorstRegion
    const worst = reg == null ? null : own ? reg.small.worstImprovement : reg.small.sharedWorstImprovement
    const pass = reg == null || small.length === 0 || pooled == null || each.some((v) => v == null)
      ? null
      : pooled >= target && each.every((v) => (v as number) > 0)
    const p = (v: number | null): string => v == null ? 'n/a' : `${(v * 100).toFixed(1)}%`
    const where = own ? "on each region's own test rows" : 'on the shared test split'
    out.push({
      goal: `small regions (${small.length} of ${reg?.regions.length ?? 0}, least exposure) better in the network than alone, ${where}`,
      target: `pooled >= ${(target * 100).toFixed(0)}% better ${results.metric.name}, every small region better`,
      measured: reg == null
        ? 'n/a (no per-region figures)'
        : `pooled ${p(pooled)} (${f(own ? reg.small.decentralized : reg.small.sharedDecentralized)} vs ${f(own ? reg.small.localOnly : reg.small.sharedLocalOnly)}); least: ${worstRegion ?? '-'} ${p(worst)}`,
      pass
    })
  }
  if (goals.variantWithinOfCentralized != null) {
    const g = goals.variantWithinOfCentralized as { variant: string, within: number }
    const v = results.details.variants.find((x) => x.name === g.variant)
    const vd = v?.decentralized.mean ?? null
    const vc = v?.centralized?.value ?? null
    const gap = gapBehind(vd, vc, hib)
    out.push({
      goal: `variant '${g.variant}' within x of its own centralized baseline`,
      target: `<= ${(Number(g.within) * 100).toFixed(1)}% worse`,
      measured: gap == null ? 'n/a' : `${(gap * 100).toFixed(2)}% worse (${f(vd)} vs ${f(vc)})`,
      pass: gap == null ? null : gap <= Number(g.within)
    })
  }
  if (goals.personalBeatsLocal != null && goals.personalBeatsLocal !== false) out.push(personalGoal(results.personal ?? null, goals.personalBeatsLocal))
  out.push(...privacyGoals(goals.privacy, results.privacy, { mean: dec, higherIsBetter: hib, metrics: results.decentralized.metrics }))
  if (goals.variantSignalKept != null) {
    const g = goals.variantSignalKept as { variant: string, min: number }
    const kept = results.details.variants.find((x) => x.name === g.variant)?.signalKept ?? null
    out.push({
      goal: `variant '${g.variant}': signal kept against its own centralized baseline`,
      target: `>= ${(Number(g.min) * 100).toFixed(1)}%`,
      measured: kept == null ? 'n/a' : `${(kept * 100).toFixed(1)}%`,
      pass: kept == null ? null : kept >= Number(g.min)
    })
  }
  if (goals.maxRssMiB != null) {
    const runs: Array<[string, number]> = [['run', results.maxRssMiB], ...Object.entries(results.timing?.variantMaxRssMiB ?? {})]
    const peak = Math.max(...runs.map(([, v]) => v))
    const measured = runs.length === 1 ? `${peak.toFixed(0)} MiB` : `${peak.toFixed(0)} MiB (${runs.map(([n, v]) => `${n} ${v.toFixed(0)}`).join(', ')})`
    out.push({ goal: 'peak memory (RSS)', target: `<= ${goals.maxRssMiB} MiB`, measured, pass: peak <= Number(goals.maxRssMiB) })
  }
  return out
}

/**
 * `smallRegionsBeatLocal: { minGainKept }`: on the shared test split, pooled over the small regions, the network's
 * improvement over their local-only models against the centralized model's (the same rows: its figure is the
 * run's centralized value), and every small region better in the network than alone.
 */
function smallRegionsGainKept (target: number, results: Results): GoalResult {
  const reg = results.regions
  const small = reg?.regions.filter((r) => r.small) ?? []
  const alone = reg?.small.sharedLocalOnly ?? null
  const net = reg?.small.sharedDecentralized ?? null
  const cen = results.centralized.value
  const hib = results.metric.higherIsBetter
  // a gain over alone is a negative gap behind it
  const gain = (v: number | null): number | null => { const g = gapBehind(v, alone, hib); return g == null ? null : -g }
  const netGain = gain(net)
  const cenGain = gain(cen)
  const kept = netGain == null || cenGain == null || !(cenGain > 0) ? null : netGain / cenGain
  const each = small.map((r) => r.sharedImprovement)
  const p = (v: number | null): string => v == null ? 'n/a' : `${(v * 100).toFixed(1)}%`
  return {
    goal: `small regions (${small.length} of ${reg?.regions.length ?? 0}, least exposure) in the network vs alone, on the shared test split: the share of the centralized model's gain kept`,
    target: `>= ${p(target)} of the centralized model's improvement, every small region better`,
    measured: reg == null
      ? 'n/a (no per-region figures)'
      : `${p(kept)} (network ${p(netGain)} better than alone, centralized ${p(cenGain)}); least: ${reg.small.sharedWorstRegion ?? '-'} ${p(reg.small.sharedWorstImprovement)}`,
    pass: kept == null || each.some((v) => v == null) ? null : kept >= target && each.every((v) => (v as number) > 0)
  }
}
