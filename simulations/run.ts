/**
 * Runs a whole scenario: the decentralized run, the baselines from the same data (centralized on pooled data,
 * local-only, server-based FedAvg), the scenario's variants, and its goals; returns `Results`.
 *
 * @example
 * ```ts
 * const scenario = await loadScenario('default', { peers: 20, rounds: 5 })
 * const results = await runScenario(scenario, { workers: 2, onRound: (p) => console.log(p.round, p.mean) })
 * await writeOutputs(results, './murmur-run')      // results.json + report.html
 * ```
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { MetricValues } from '../protocol/interfaces.js'
import { createRng } from '../protocol/rng.js'
import { parseAveragingParams } from '../protocol/engine/rules/index.js'
import { variantScenario, type Scenario } from './scenario.js'
import { Simulation, DEFAULT_FACTORY_MODULE, type DecentralizedResult, type ProgressEvent } from './harness/coordinator.js'
import { attackLabel, decentralizedFigures, finalMetricMeans, roundRecords, ruleLabel, runLength, sortKeys, variantResult, type BaselineResults, type DataSummary, type GoalResult, type Results, type VariantResult } from './results.js'
import { buildRegionReport, type RegionPeerFigures, type RegionReport } from './regions.js'
import { renderReport } from './report.js'
import { evaluateGoals } from './goals.js'
import { sig } from './stats.js'
import { runPersonal, type PersonalReport } from './personal.js'
import { privacyResults } from './privacy.js'
import { gatherPrivacy, comparisonWithoutPrivacy } from './privacy-run.js'
import { addSums, evenlySpaced, type ResampledSums } from './harness/resampled.js'
import { figureOf, gapIntervals, signalKept } from './intervals.js'
import type { Task } from '../learning/metrics.js'
import { exactGlmFigures, type ExactGlmFigures, type ExactGlmPeer, type ExactGlmPooled } from './exact-glm.js'

export interface RunOptions {
  workers?: number
  factoryModule?: string
  /** Progress of the main run (and variants, with `variant` set). */
  onRound?: (event: ProgressEvent & { phase: string }) => void
  onPhase?: (phase: string) => void
  signal?: AbortSignal
  /** Skip the baselines (tests, quick looks). */
  baselines?: boolean
  /** Skip the variants. */
  variants?: boolean
}

/** What the peer-environment module's describeMetric returns. */
interface MetricModule { describeMetric?: (scenario: Scenario) => Promise<{ name: string, higherIsBetter: boolean, task?: Task }> }

/** The scenario's goal metric (the peer environment's describeMetric, e.g. harness/peer-metric.ts) and its task. */
export async function describeMetric (scenario: Scenario, factoryModule: string): Promise<{ name: string, higherIsBetter: boolean, task?: Task }> {
  const mod = await import(factoryModule) as MetricModule
  return mod.describeMetric != null ? await mod.describeMetric(scenario) : { name: 'accuracy', higherIsBetter: true }
}

/** Mean of every metric over models (in the order given), or null for none. */
function meanMetrics (list: readonly MetricValues[]): MetricValues | null {
  if (list.length === 0) return null
  const out: MetricValues = {}
  for (const m of list) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v / list.length
  return out
}

/** The baselines' models under the bootstrap resamples, and the mean of every metric over local-only peers. */
interface BaselineSums { centralized: ResampledSums | null, localOnly: ResampledSums | null, fedavg: ResampledSums | null, localOnlyMean: MetricValues | null, fedavgMetrics: MetricValues | null }

/** Runs a world task the light test environments may lack (null then). */
async function optionalTask<T> (sim: Simulation, name: string, args: (world: number) => unknown): Promise<T[] | null> {
  try { return await sim.task<T>(name, args) } catch (err) {
    if ((err as Error).name === 'UnknownTaskError') return null
    throw err
  }
}

async function runBaselines (sim: Simulation, scenario: Scenario, metric: { name: string, higherIsBetter: boolean }, intervalPeers: number[], sums: BaselineSums, signal?: AbortSignal): Promise<BaselineResults> {
  const b = scenario.baselines
  const honest = new Set(Array.from({ length: scenario.peers }, (_, i) => i).filter((i) => !sim.adversaries.includes(i)))
  const result: BaselineResults = {
    centralized: { value: null, metrics: null, epochs: null, skipped: b.centralized ? undefined : 'disabled in the scenario' },
    localOnly: { mean: null, perPeer: [], steps: null, skipped: b.localOnly ? undefined : 'disabled in the scenario' },
    fedavg: { value: null, curve: [], clientsPerRound: null, skipped: b.fedavg ? undefined : 'disabled in the scenario' }
  }
  const pick = (m: MetricValues | null | undefined): number | null => {
    const v = m?.[metric.name]
    return typeof v === 'number' && Number.isFinite(v) ? sig(v) : null
  }
  if (b.centralized) {
    signal?.throwIfAborted()
    const [c] = await Promise.all([
      sim.handles[0].task('centralized', { epochs: b.centralizedEpochs ?? null }) as Promise<{ metrics: MetricValues, epochs: number, resampled?: ResampledSums[] }>
    ])
    sums.centralized = addSums(c.resampled ?? [])
    // the bootstrap point (one model) adds what the baseline's evaluation leaves out: a count task's Gini
    const metrics: MetricValues = { ...c.metrics }
    for (const [k, v] of Object.entries(sums.centralized?.point ?? {})) if (!(k in metrics)) metrics[k] = v
    result.centralized = { value: pick(metrics), metrics, epochs: c.epochs }
  }
  if (b.localOnly) {
    signal?.throwIfAborted()
    const steps = scenario.rounds * scenario.localSteps
    const parts = await sim.task<{ perPeer: Array<[number, MetricValues]>, resampled: ResampledSums[] | null }>('localOnly', () => ({ steps, intervalPeers }))
    const all = parts.flatMap((p) => p.perPeer).filter(([i]) => honest.has(i)).sort((a, b) => a[0] - b[0])
    sums.localOnly = addSums(parts.flatMap((p) => p.resampled ?? []))
    sums.localOnlyMean = meanMetrics(all.map(([, m]) => m))
    const perPeer = all.map(([i, m]): [number, number] => [i, m[metric.name]]).filter(([, v]) => Number.isFinite(v))
    const mean = perPeer.length > 0 ? perPeer.reduce((s, [, v]) => s + v, 0) / perPeer.length : null
    result.localOnly = { mean: mean == null ? null : sig(mean), perPeer: perPeer.map(([i, v]) => [i, sig(v)]), steps }
  }
  if (b.fedavg) {
    // McMahan et al.: each round a fraction C of clients (honest ones: a server would vet its clients) trains
    // localSteps from the global model; the server averages weighted by example counts.
    const rng = createRng(scenario.seed).fork('fedavg')
    const clientsPerRound = Math.min(honest.size, Math.max(b.fedavgMinClients, Math.round(b.fedavgFraction * honest.size)))
    const honestList = [...honest]
    let global = await sim.handles[0].task('initialWeights', {}) as Float32Array
    const curve: Array<{ round: number, value: number }> = []
    const worldOf = new Map<number, number>()
    sim.shares.forEach((share, w) => { for (const i of share) worldOf.set(i, w) })
    for (let r = 0; r < scenario.rounds; r++) {
      signal?.throwIfAborted()
      const clients = rng.sample(honestList, clientsPerRound).sort((x, y) => x - y)
      const updates = (await sim.task<Array<[number, Float32Array, number]>>('fedavgClients', (w) => ({
        weights: global,
        clients: clients.filter((c) => worldOf.get(c) === w),
        steps: scenario.localSteps,
        round: r
      }))).flat().sort((x, y) => x[0] - y[0])
      const total = updates.reduce((s, [, , n]) => s + n, 0)
      const acc = new Float64Array(global.length)
      for (const [, w, n] of updates) for (let j = 0; j < acc.length; j++) acc[j] += (n / total) * w[j]
      global = Float32Array.from(acc)
      const last = r === scenario.rounds - 1
      if (last || (r + 1) % scenario.evaluation.every === 0) {
        // The curve is always measured on the curve's sample of the test split (the last point too, so it
        // compares with the earlier ones); the final value on the whole split.
        const v = pick(await sim.handles[0].task('evaluateWeights', { weights: global, which: 'curve' }) as MetricValues)
        if (v != null) curve.push({ round: r, value: v })
        if (last) {
          const finMetrics = await sim.handles[0].task('evaluateWeights', { weights: global, which: 'final' }) as MetricValues
          result.fedavg = { value: pick(finMetrics), curve, clientsPerRound }
          sums.fedavgMetrics = finMetrics
          sums.fedavg = addSums((await optionalTask<ResampledSums[]>(sim, 'resampled', (w) => w === 0 ? { weights: global } : {}))?.flat() ?? [])
        }
      }
    }
  }
  return result
}

export async function runScenario (scenario: Scenario, options: RunOptions = {}): Promise<Results> {
  const factoryModule = options.factoryModule ?? DEFAULT_FACTORY_MODULE
  const started = performance.now()
  const { task, ...metric } = await describeMetric(scenario, factoryModule)
  options.onPhase?.('starting peers')
  const sim = await Simulation.create(scenario, { workers: options.workers, factoryModule })
  let data: DataSummary | null = null
  const honestIndices = Array.from({ length: scenario.peers }, (_, i) => i).filter((i) => !sim.adversaries.includes(i))
  const intervalPeers = scenario.evaluation.resamples > 0 ? evenlySpaced(honestIndices, scenario.evaluation.intervalPeers) : []
  const sums: BaselineSums = { centralized: null, localOnly: null, fedavg: null, localOnlyMean: null, fedavgMetrics: null }
  let decentralizedSums: ResampledSums | null = null
  let peerNames = new Map<number, string>()
  let run: DecentralizedResult
  let ran: Scenario = scenario
  let baselines: BaselineResults
  let regions: RegionReport | null = null
  let personal: PersonalReport | null = null
  const wantsPrivacy = scenario.privacy != null || scenario.membershipInference != null
  let privacyOwn: Awaited<ReturnType<typeof gatherPrivacy>> | null = null
  let exactGlm: ExactGlmFigures | null = null
  const baselineStarted = { t: 0 }
  let baselineSeconds = 0
  try {
    // the data as loaded (rows, split, skipped bad rows); a custom peer environment may have no such task
    data = (await optionalTask<DataSummary>(sim, 'dataInfo', (w) => w === 0 ? {} : null))?.[0] ?? null
    options.onPhase?.('decentralized run')
    if (scenario.transport === 'libp2p') {
      const { runOverLibp2p } = await import('./libp2p-mode.js')
      run = await runOverLibp2p(scenario, { metric, onRound: (e) => options.onRound?.({ ...e, phase: 'decentralized (libp2p)' }) })
    } else {
      run = await sim.run({ metric, signal: options.signal, onRound: (e) => options.onRound?.({ ...e, phase: 'decentralized' }) })
      if (wantsPrivacy) privacyOwn = await gatherPrivacy(sim)
      decentralizedSums = addSums((await optionalTask<ResampledSums[]>(sim, 'resampled', (w) => ({ peers: intervalPeers.filter((i) => sim.shares[w].includes(i)) })))?.flat() ?? [])
    }
    peerNames = new Map((await optionalTask<Array<[number, string]>>(sim, 'peerNames', () => ({})))?.flat() ?? [])
    if ((scenario.rule as { rule: string }).rule === 'glm-newton' && scenario.transport !== 'libp2p') {
      options.onPhase?.('exact GLM: the pooled fit')
      exactGlm = await runExactGlm(sim, scenario.peers)
    }
    // the baselines train as long as the network did: local-only and FedAvg steps follow the rounds run
    ran = { ...scenario, rounds: run.convergence.roundsRun }
    if (options.baselines === false) {
      baselines = {
        centralized: { value: null, metrics: null, epochs: null, skipped: 'not requested' },
        localOnly: { mean: null, perPeer: [], steps: null, skipped: 'not requested' },
        fedavg: { value: null, curve: [], clientsPerRound: null, skipped: 'not requested' }
      }
    } else {
      options.onPhase?.('baselines')
      baselineStarted.t = performance.now()
      baselines = await runBaselines(sim, ran, metric, intervalPeers, sums, options.signal)
      if (scenario.baselines.localOnly && scenario.transport !== 'libp2p') {
        options.onPhase?.('regions')
        regions = await runRegions(sim, ran, metric, run, baselines)
      }
      if (scenario.personal != null && scenario.transport !== 'libp2p') {
        options.onPhase?.('personal models')
        personal = await runPersonal(sim, ran, metric)
      }
      baselineSeconds = (performance.now() - baselineStarted.t) / 1000
    }
  } finally {
    await sim.close()
  }
  let privacyWithout: Awaited<ReturnType<typeof comparisonWithoutPrivacy>> | null = null
  if (privacyOwn != null && scenario.privacy != null && scenario.membershipInference?.withoutPrivacy === true) {
    options.onPhase?.('without privacy')
    privacyWithout = await comparisonWithoutPrivacy(scenario, { metric, workers: options.workers, factoryModule, signal: options.signal, onRound: (e) => options.onRound?.({ ...e, phase: 'without privacy' }) })
  }
  const variants: VariantResult[] = []
  const variantSeconds: Record<string, number> = {}
  const variantMaxRssMiB: Record<string, number> = {}
  if (options.variants !== false) {
    for (const v of scenario.variants) {
      options.onPhase?.(`variant ${v.name}`)
      const vs = variantScenario(scenario, v)
      const vsim = await Simulation.create(vs, { workers: options.workers, factoryModule })
      try {
        const vr = await vsim.run({ metric, signal: options.signal, onRound: (e) => options.onRound?.({ ...e, phase: `variant ${v.name}` }) })
        const result = variantResult(v.name, v.description, vr)
        variantSeconds[v.name] = sig(vr.wallSeconds, 4)
        variantMaxRssMiB[v.name] = sig(vr.maxRssMiB, 4)
        // A variant that changes the model, data or split is not comparable with the base's centralized
        // model: it gets its own (same settings as its peers: model spec, rate schedule, batch size).
        if (options.baselines !== false && vs.baselines.centralized && ownsCentralized(scenario, vs)) {
          options.onPhase?.(`variant ${v.name}: centralized baseline`)
          const c = await vsim.handles[0].task('centralized', { epochs: vs.baselines.centralizedEpochs ?? null }) as { metrics: MetricValues, epochs: number }
          const value = c.metrics[metric.name]
          result.centralized = { value: typeof value === 'number' && Number.isFinite(value) ? sig(value) : null, epochs: c.epochs }
          // Poisson: the share of its own centralized model's explained deviance the variant's network keeps
          const de = meanMetrics(vr.final.map(([, m]) => m))?.devianceExplained
          const ce = c.metrics.devianceExplained
          if (task === 'count' && de != null && ce != null && ce > 0) result.signalKept = sig(de / ce)
        }
        variants.push(result)
      } finally {
        await vsim.close()
      }
    }
  }
  const wallSeconds = (performance.now() - started) / 1000
  const { decentralized, curve } = decentralizedFigures(run)
  const bytesTotal = run.rounds.reduce((s, r) => s + r.bytesSent, 0)
  const finalByPeer = new Map(run.final.map(([i, m]) => [i, m[metric.name]]))
  const localByPeer = new Map(baselines.localOnly.perPeer)
  const countersByPeer = new Map(run.counters)
  const finalMetrics = finalMetricMeans(run)
  const level = 0.95
  const dec = figureOf(decentralizedSums, run.final.length > 0 ? finalMetrics : null, level)
  const cen = figureOf(sums.centralized, baselines.centralized.metrics, level)
  const loc = figureOf(sums.localOnly, sums.localOnlyMean, level)
  const fed = figureOf(sums.fedavg, sums.fedavgMetrics, level)
  const kept = task === 'count' ? signalKept(dec, cen, level) : null
  const gaps = gapIntervals(dec, cen, metric, level)
  const results: Results = {
    scenario: scenario.name,
    peers: scenario.peers,
    rounds: run.convergence.roundsRun,
    seed: scenario.seed,
    rule: ruleLabel(scenario.rule),
    metric,
    decentralized: { ...decentralized, ...dec.figure },
    centralized: { value: baselines.centralized.value, ...cen.figure },
    localOnly: { mean: baselines.localOnly.mean, ...loc.figure },
    fedavg: { value: baselines.fedavg.value, ...fed.figure },
    curve,
    bytesPerPeerPerRound: sig(bytesTotal / (scenario.peers * run.convergence.roundsRun)),
    refused: sortKeys(run.refused),
    wallSeconds: sig(wallSeconds, 4),
    peerStepsPerSecond: sig(run.trainingSteps / Math.max(1e-9, run.wallSeconds), 4),
    maxRssMiB: sig(run.maxRssMiB, 4),
    data,
    signalKept: kept?.value ?? null,
    signalKeptInterval: kept?.interval ?? null,
    convergence: runLength(run),
    description: scenario.description ?? null,
    regions,
    ...(personal != null ? { personal } : {}),
    ...(privacyOwn != null ? { privacy: privacyResults(scenario, privacyOwn, privacyWithout) } : {}),
    ...(exactGlm != null ? { exactGlm } : {}),
    details: {
      scenario,
      ruleParams: parseAveragingParams(scenario.rule) as unknown as Record<string, unknown>,
      attack: attackLabel(scenario),
      adversaries: run.adversaries,
      stragglers: run.stragglers,
      perRound: roundRecords(run).map(({ wallMs, ...rest }) => ({
        ...rest,
        refused: sortKeys(rest.refused),
        mean: rest.mean == null ? null : sig(rest.mean),
        min: rest.min == null ? null : sig(rest.min),
        p10: rest.p10 == null ? null : sig(rest.p10),
        spread: rest.spread == null ? null : sig(rest.spread),
        consensusDistance: rest.consensusDistance == null ? null : sig(rest.consensusDistance),
        relativeConsensusDistance: rest.relativeConsensusDistance == null ? null : sig(rest.relativeConsensusDistance)
      })),
      finalMetrics,
      task: task ?? null,
      bootstrap: { resamples: scenario.evaluation.resamples, level, intervalPeers, gapToCentralized: gaps.gap, ratioToCentralized: gaps.ratio },
      perPeer: run.keys.map((key, index) => ({
        index,
        name: peerNames.get(index) ?? `peer-${index}`,
        key: key.slice(0, 16),
        metric: finalByPeer.has(index) ? sig(finalByPeer.get(index) as number) : null,
        localOnly: localByPeer.get(index) ?? null,
        bytesSent: countersByPeer.get(index)?.bytesSent ?? 0,
        bytesReceived: countersByPeer.get(index)?.bytesReceived ?? 0
      })),
      baselines,
      variants,
      goals: [] as GoalResult[],
      trainingSteps: run.trainingSteps,
      ...(run.catchUp != null ? { catchUp: run.catchUp } : {})
    },
    timing: {
      wallSeconds,
      decentralizedSeconds: run.wallSeconds,
      baselineSeconds,
      workers: run.workers,
      engineBusyMs: run.busyMs,
      roundWallMs: run.rounds.map((r) => r.wallMs),
      ...(variants.length > 0 ? { variantSeconds, variantMaxRssMiB } : {})
    }
  }
  results.details.goals = evaluateGoals(scenario, results)
  return results
}

/** Whether a variant needs its own centralized baseline (it trains a different model or on different data). */
function ownsCentralized (base: Scenario, variant: Scenario): boolean {
  const same = (k: 'model' | 'dataset' | 'batchSize' | 'rounds' | 'localSteps' | 'baselines'): boolean => JSON.stringify(base[k]) === JSON.stringify(variant[k])
  return !(same('model') && same('dataset') && same('batchSize') && same('rounds') && same('localSteps') && same('baselines'))
}

/** rule glm-newton: every honest peer's coefficients against the pooled fit (computed on world 0). */
async function runExactGlm (sim: Simulation, peers: number): Promise<ExactGlmFigures | null> {
  const parts = await sim.task<{ pooled: ExactGlmPooled | null, peers: ExactGlmPeer[] } | null>('exactGlm', (w) => ({ pooled: w === 0 }))
  const pooled = parts.find((p) => p?.pooled != null)?.pooled
  if (pooled == null) return null
  const all = parts.flatMap((p) => p?.peers ?? [])
  const figures = exactGlmFigures(pooled, all, peers)
  // the fit's own deviance and totals: the worst peer's coefficients on every training row
  const worst = all.find((p) => p.index === figures.worstPeer) ?? all[0]
  if (worst != null) {
    const f = await sim.handles[0].task('exactGlmTrainFit', { coefficients: worst.coefficients }) as { deviance: number, predictedOverObserved: number }
    figures.worstPeerDeviance = f.deviance
    figures.worstPeerDevianceRelDiff = sig(Math.abs(f.deviance - pooled.deviance) / pooled.deviance)
    figures.deviance5Digits = Math.abs(f.deviance - pooled.deviance) / pooled.deviance < 5e-6
    figures.worstPeerPredictedOverObserved = f.predictedOverObserved
  }
  // the table an actuary reads (R's summary(glm)), from the first honest peer's estimate; written to glm-summary.txt
  const first = all.reduce((m, p) => Math.min(m, p.index), Infinity)
  const world = sim.shares.findIndex((share) => share.includes(first))
  if (world >= 0) figures.table = await sim.handles[world].task('exactGlmTable', { index: first }) as ExactGlmFigures['table']
  return figures
}

/** Per-region figures for key partitions (regions.ts), or null (other partitions, or light test peers). */
async function runRegions (sim: Simulation, scenario: Scenario, metric: { name: string, higherIsBetter: boolean }, run: DecentralizedResult, baselines: BaselineResults): Promise<RegionReport | null> {
  if ((scenario.partition as { kind: string }).kind !== 'by-key') return null
  let parts: Array<{ column: string | null, peers: RegionPeerFigures[] } | null>
  try {
    parts = await sim.task('regions', () => ({ steps: scenario.rounds * scenario.localSteps, metric: metric.name }))
  } catch (err) {
    if (/has no task 'regions'/.test((err as Error).message)) return null
    throw err
  }
  // On the shared test split: the run's own final figures and local-only baseline, peer by peer.
  const finalByPeer = new Map(run.final.map(([i, m]) => [i, m[metric.name]]))
  const localByPeer = new Map(baselines.localOnly.perPeer)
  const peers = parts.flatMap((p) => p?.peers ?? []).map((p) => ({
    ...p,
    sharedDecentralized: typeof finalByPeer.get(p.index) === 'number' ? finalByPeer.get(p.index) as number : null,
    sharedLocalOnly: localByPeer.get(p.index) ?? null
  }))
  if (peers.length === 0) return null
  return buildRegionReport(peers, { metric: metric.name, higherIsBetter: metric.higherIsBetter, column: parts.find((p) => p != null)?.column ?? null })
}

/** Writes results.json and report.html into `dir` (created if missing); returns their paths. */
export async function writeOutputs (results: Results, dir: string): Promise<{ json: string, html: string }> {
  await mkdir(dir, { recursive: true })
  const json = join(dir, 'results.json')
  const html = join(dir, 'report.html')
  await writeFile(json, JSON.stringify(results, null, 2) + '\n')
  if (results.exactGlm?.table != null) await writeFile(join(dir, 'glm-summary.txt'), results.exactGlm.table.text)
  await writeFile(html, await renderReport(results))
  return { json, html }
}
