/**
 * The coordinator: spreads the peers over worlds (worker threads, or this thread with `workers: 0`), advances
 * virtual time round by round with the barrier-synchronous window protocol of world.ts, routes messages between
 * worlds, applies churn, gathers evaluations and consensus distance, and runs the baseline jobs on the worlds.
 *
 * Results are identical for any number of workers: every peer's computation depends only on its own state and
 * on the messages it receives, delivered in a fixed (time, receiver, sender, sequence) order; aggregates are
 * computed here in peer-index order.
 */
import { Worker } from 'node:worker_threads'
import type { MetricValues, PeerKey } from '../../protocol/interfaces.js'
import { createRng } from '../../protocol/rng.js'
import type { Scenario } from '../scenario.js'
import { ChurnSchedule } from '../network.js'
import { chooseAdversaries, planNetwork, type PeerCounters, type RoundEndResult, type StepResult, type WireMessage } from '../world.js'
import { consensusDistance, peerSummary } from '../stats.js'
import { RpcClient } from './rpc.js'
import { WorldHost, type PeerEnvironmentModule, type WorldInit } from './world-host.js'
import { siblingModule } from './module-url.js'
import { separateTransfers } from './transfers.js'
import { CatchUp, type CatchUpSummary } from './catch-up.js'
import { RoundBudget, type Convergence } from './plateau.js'

export { separateTransfers } from './transfers.js'

/** The module that builds real peers (PeerEngine + TF.js learner + sealed envelopes). */
export const DEFAULT_FACTORY_MODULE = siblingModule('peers', import.meta.url)

export interface WorldHandle {
  init: (init: WorldInit) => Promise<void>
  startRound: (round: number, offline: number[]) => Promise<StepResult & { steps?: number }>
  runWindow: (until: number, inbound: WireMessage[]) => Promise<StepResult>
  endRound: (round: number, options: { evaluate: false | 'curve' | 'final', weights: boolean }) => Promise<RoundEndResult>
  counters: () => Promise<Array<[number, PeerCounters]>>
  task: (name: string, args: unknown) => Promise<unknown>
  close: () => Promise<void>
}

class LocalHandle implements WorldHandle {
  readonly #host = new WorldHost()
  async init (init: WorldInit): Promise<void> { await this.#host.init(init) }
  async startRound (round: number, offline: number[]): Promise<StepResult> { return await this.#host.world.startRound(round, offline) }
  async runWindow (until: number, inbound: WireMessage[]): Promise<StepResult> { return await this.#host.world.runWindow(until, inbound) }
  async endRound (round: number, options: { evaluate: false | 'curve' | 'final', weights: boolean }): Promise<RoundEndResult> { return await this.#host.world.endRound(round, options) }
  async counters (): Promise<Array<[number, PeerCounters]>> { return this.#host.world.counters() }
  async task (name: string, args: unknown): Promise<unknown> { return await this.#host.task(name, args) }
  async close (): Promise<void> { await this.#host.close() }
}

class WorkerHandle implements WorldHandle {
  readonly #worker: Worker
  readonly #rpc: RpcClient
  constructor () {
    this.#worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
      workerData: { entry: siblingModule('worker-entry', import.meta.url) },
      env: process.env,
      // Do not inherit the parent's --import flags: the bootstrap registers tsx itself. MURMUR_SIM_CPU_PROF=DIR
      // writes one V8 CPU profile per worker thread into DIR (docs/simulation.md, "Profiling").
      execArgv: (process.env.MURMUR_SIM_CPU_PROF ?? '') !== '' ? ['--cpu-prof', `--cpu-prof-dir=${process.env.MURMUR_SIM_CPU_PROF}`] : [],
      stdout: false,
      stderr: false
    })
    this.#rpc = new RpcClient(this.#worker)
  }

  async init (init: WorldInit): Promise<void> { await this.#rpc.call('init', [init]) }
  async startRound (round: number, offline: number[]): Promise<StepResult> { return await this.#rpc.call('startRound', [round, offline]) }
  async runWindow (until: number, inbound: WireMessage[]): Promise<StepResult> { return await this.#rpc.call('runWindow', [until, inbound], true) }
  async endRound (round: number, options: { evaluate: false | 'curve' | 'final', weights: boolean }): Promise<RoundEndResult> { return await this.#rpc.call('endRound', [round, options]) }
  async counters (): Promise<Array<[number, PeerCounters]>> { return await this.#rpc.call('counters', []) }
  async task (name: string, args: unknown): Promise<unknown> { return await this.#rpc.call('task', [name, args]) }
  async close (): Promise<void> {
    try { await this.#rpc.call('close', []) } finally { await this.#worker.terminate() }
  }
}

export interface RoundRecord {
  round: number
  /** Peers that ran the round (began and ended it). */
  peersActive: number
  peersOffline: number
  evaluated: boolean
  mean: number | null
  min: number | null
  p10: number | null
  /** Best minus worst peer's metric (max - min over the peers evaluated this round). */
  spread: number | null
  consensusDistance: number | null
  relativeConsensusDistance: number | null
  bytesSent: number
  bytesReceived: number
  messagesLost: number
  messagesUnreachable: number
  messagesDropped: number
  refused: Record<string, number>
  /**
   * Last round only (it is evaluated on the whole test split): mean, min and p10 of the main metric on the curve
   * rows, the subset every earlier evaluated round used, so the curve's last point is comparable. Null elsewhere.
   */
  onCurveRows?: { mean: number, min: number, p10: number } | null
  /** Partition groups in force this round (0 = none). */
  partitioned: boolean
  wallMs: number
}

export interface DecentralizedResult {
  scenario: Scenario
  keys: PeerKey[]
  adversaries: number[]
  stragglers: number[]
  metric: { name: string, higherIsBetter: boolean }
  rounds: RoundRecord[]
  /** Final evaluation of every honest peer: [index, all metrics]. */
  final: Array<[number, MetricValues]>
  /** The same peers after the last round on the curve rows (see RoundRecord.onCurveRows): [index, all metrics]. */
  finalOnCurveRows?: Array<[number, MetricValues]>
  counters: Array<[number, PeerCounters]>
  refused: Record<string, number>
  trainingSteps: number
  wallSeconds: number
  /** Wall time spent inside engine calls (train+seal+send, validate+merge), summed over worlds. */
  busyMs: { begin: number, deliver: number, end: number }
  /** Coordinator-side wall time by phase and the number of delivery windows (scheduler diagnostics). */
  scheduler?: { windows: number, startMs: number, windowsMs: number, endMs: number, busyByRound: Array<{ begin: number, deliver: number, end: number }> }
  maxRssMiB: number
  workers: number
  /** Rounds run, the cap, and why the run stopped (untilConverged: harness/plateau.ts). */
  convergence: Convergence
  /** Peers that came back (late joiners, churn) and caught up by state sync; absent when none was ever offline. */
  catchUp?: CatchUpSummary
}

export interface ProgressEvent { round: number, rounds: number, mean: number | null, metric: string, elapsedMs: number }

export interface SimulationOptions {
  /**
   * Safe horizon from next-send times (default true): a window extends to the earliest time any world may still
   * send + the lookahead, so a round of a rule that sends only when the round begins is ONE window. false: every
   * window is the lookahead long (the plain conservative protocol; same results, more windows).
   */
  safeHorizon?: boolean
  /** Per-world memo of pure crypto results on identical envelope bytes (default true; harness/envelopes.ts). */
  cryptoMemo?: boolean
  /** Worker threads (0 = run in this thread). Default: min(2, peers). */
  workers?: number
  /** Module exporting createPeerEnvironment / peerKeys (default: real peers). */
  factoryModule?: string
  /** Main metric (defaults to the environment module's `describeMetric`, else accuracy). */
  metric?: { name: string, higherIsBetter: boolean }
  onRound?: (event: ProgressEvent) => void
  signal?: AbortSignal
}

/** The peers of each of `count` worlds: contiguous shares, as equal as possible (any split gives the same results). */
export function peerShares (peers: number, count: number): number[][] {
  return Array.from({ length: count }, (_, w) => {
    const from = Math.floor((w * peers) / count)
    const to = Math.floor(((w + 1) * peers) / count)
    return Array.from({ length: to - from }, (_, k) => from + k)
  })
}

/** A running set of worlds; keep it to run baseline tasks after the decentralized run. */
export class Simulation {
  readonly scenario: Scenario
  readonly handles: WorldHandle[]
  readonly shares: number[][]
  readonly keys: PeerKey[]
  readonly adversaries: number[]

  /** The options given to `create` (defaults for `run`). */
  readonly options: SimulationOptions

  private constructor (scenario: Scenario, handles: WorldHandle[], shares: number[][], keys: PeerKey[], adversaries: number[], options: SimulationOptions) {
    this.options = options
    this.scenario = scenario
    this.handles = handles
    this.shares = shares
    this.keys = keys
    this.adversaries = adversaries
  }

  static async create (scenario: Scenario, options: SimulationOptions = {}): Promise<Simulation> {
    const factoryModule = options.factoryModule ?? DEFAULT_FACTORY_MODULE
    const mod = await import(factoryModule) as PeerEnvironmentModule
    const keys = await mod.peerKeys(scenario)
    if (new Set(keys).size !== scenario.peers) throw new Error('peer keys must be unique, one per peer')
    const workers = Math.max(0, Math.min(options.workers ?? Math.min(2, scenario.peers), scenario.peers))
    const count = Math.max(1, workers)
    const shares = peerShares(scenario.peers, count)
    const adversaries = chooseAdversaries(scenario)
    const handles: WorldHandle[] = shares.map(() => workers === 0 ? new LocalHandle() : new WorkerHandle())
    try {
      await Promise.all(handles.map(async (h, w) => {
        await h.init({ scenario, keys, owned: shares[w], adversaries, workerIndex: w, factoryModule, ...(options.cryptoMemo != null ? { options: { cryptoMemo: options.cryptoMemo } } : {}) })
      }))
    } catch (err) {
      await Promise.allSettled(handles.map(async (h) => { await h.close() }))
      throw err
    }
    return new Simulation(scenario, handles, shares, keys, adversaries, options)
  }

  /** Runs a named task on every world with the same args; results in world order. */
  async task<T> (name: string, args: (world: number) => unknown): Promise<T[]> {
    return await Promise.all(this.handles.map(async (h, w) => await h.task(name, args(w)) as T))
  }

  async close (): Promise<void> {
    await Promise.allSettled(this.handles.map(async (h) => { await h.close() }))
  }

  /** The decentralized run itself. */
  async run (runOptions: SimulationOptions = {}): Promise<DecentralizedResult> {
    const options: SimulationOptions = { ...this.options, ...runOptions }
    const scenario = this.scenario
    const metric = options.metric ?? { name: 'accuracy', higherIsBetter: true }
    const plan = planNetwork(scenario)
    const churn = new ChurnSchedule(scenario.network.churn, scenario.peers, createRng(scenario.seed))
    const catchUp = new CatchUp(this, scenario, plan)
    const roundMs = scenario.network.roundMs
    const L = Math.max(1e-3, plan.lookaheadMs)
    const worldOf = new Int32Array(scenario.peers)
    this.shares.forEach((share, w) => { for (const i of share) worldOf[i] = w })
    const safeHorizon = options.safeHorizon ?? true
    const pending: WireMessage[][] = this.handles.map(() => [])
    let pendingMin = Infinity
    // Per world: earliest time it may send, and whether a delivery there may send (from its last step).
    const sendFrom = new Float64Array(this.handles.length).fill(Infinity)
    const reactive = this.handles.map(() => true)
    const route = (results: StepResult[]): number => {
      let next = Infinity
      results.forEach((r, w) => {
        next = Math.min(next, r.next)
        sendFrom[w] = r.sendFrom ?? r.next
        reactive[w] = r.reactive ?? true
        for (const m of r.outbox) {
          pending[worldOf[m.to]].push(m)
          if (m.at < pendingMin) pendingMin = m.at
        }
      })
      return Math.min(next, pendingMin)
    }
    /** Earliest virtual time any peer anywhere may send, given everything queued or in transit. */
    const horizon = (next: number): number => {
      if (!safeHorizon) return next
      let h = Infinity
      for (let w = 0; w < this.handles.length; w++) {
        h = Math.min(h, sendFrom[w])
        if (reactive[w]) for (const m of pending[w]) if (m.at < h) h = m.at
      }
      return Math.max(h, next)
    }
    const rounds: RoundRecord[] = []
    const refusedTotal: Record<string, number> = {}
    const busy = { begin: 0, deliver: 0, end: 0 }
    const scheduler = { windows: 0, startMs: 0, windowsMs: 0, endMs: 0, busyByRound: [] as Array<{ begin: number, deliver: number, end: number }> }
    let final: Array<[number, MetricValues]> = []
    let finalOnCurveRows: Array<[number, MetricValues]> = []
    let trainingSteps = 0
    let maxRss = process.memoryUsage().rss
    const budget = new RoundBudget(scenario.rounds, scenario.untilConverged, metric.higherIsBetter)
    const started = performance.now()
    for (let r = 0; r <= budget.lastRound; r++) {
      options.signal?.throwIfAborted()
      const roundStarted = performance.now()
      const roundBusy = { begin: 0, deliver: 0, end: 0 }
      scheduler.busyByRound.push(roundBusy)
      churn.advance(r)
      const offline = catchUp.offline(r, churn.offline)
      const starts = await Promise.all(this.handles.map(async (h) => await h.startRound(r, offline)))
      const windowsStarted = performance.now()
      scheduler.startMs += windowsStarted - roundStarted
      for (const s of starts) { busy.begin += s.busyMs; roundBusy.begin += s.busyMs }
      let next = route(starts)
      const roundEnd = (r + 1) * roundMs
      while (next < roundEnd) {
        const until = Math.min(horizon(next) + L, roundEnd)
        const inbound = pending.map((p, w) => {
          const due: WireMessage[] = []
          const later: WireMessage[] = []
          for (const m of p) (m.at < until ? due : later).push(m)
          pending[w] = later
          return due
        })
        pendingMin = Infinity
        for (const p of pending) for (const m of p) if (m.at < pendingMin) pendingMin = m.at
        if (this.handles.length > 1) separateTransfers(inbound, pending)
        const results = await Promise.all(this.handles.map(async (h, w) => await h.runWindow(until, inbound[w])))
        for (const s of results) { busy.deliver += s.busyMs; roundBusy.deliver += s.busyMs }
        next = route(results)
        scheduler.windows++
      }
      const endStarted = performance.now()
      scheduler.windowsMs += endStarted - windowsStarted
      const last = r === budget.lastRound
      const evaluate = last ? 'final' : ((r + 1) % scenario.evaluation.every === 0 ? 'curve' : false)
      const ends = await Promise.all(this.handles.map(async (h) => await h.endRound(r, { evaluate, weights: evaluate !== false })))
      const record = this.#aggregate(r, ends, metric, offline.length, plan.partitions.active(r).length > 0)
      for (const e of ends) { busy.end += e.busyMs; roundBusy.end += e.busyMs }
      for (const [k, v] of Object.entries(record.refused)) refusedTotal[k] = (refusedTotal[k] ?? 0) + v
      catchUp.evaluated(ends.flatMap((e) => e.evaluations), metric.name)
      await catchUp.afterRound(r, offline)
      // Steps: every peer that began a round trained localSteps (counted when it ends).
      trainingSteps += record.peersActive * scenario.localSteps
      if (last) {
        final = ends.flatMap((e) => e.evaluations).sort((a, b) => a[0] - b[0])
        finalOnCurveRows = ends.flatMap((e) => e.curveEvaluations ?? []).sort((a, b) => a[0] - b[0])
      }
      record.wallMs = performance.now() - roundStarted
      scheduler.endMs += performance.now() - endStarted
      rounds.push(record)
      budget.afterRound(r, record)
      maxRss = Math.max(maxRss, process.memoryUsage().rss)
      options.onRound?.({ round: r, rounds: budget.lastRound + 1, mean: record.mean, metric: metric.name, elapsedMs: performance.now() - started })
    }
    const wallSeconds = (performance.now() - started) / 1000
    const counters = (await Promise.all(this.handles.map(async (h) => await h.counters()))).flat().sort((a, b) => a[0] - b[0])
    return {
      scenario,
      keys: this.keys,
      adversaries: this.adversaries,
      stragglers: plan.stragglers,
      metric,
      rounds,
      final,
      finalOnCurveRows,
      counters,
      refused: refusedTotal,
      trainingSteps,
      wallSeconds,
      busyMs: busy,
      scheduler,
      maxRssMiB: maxRss / (1024 * 1024),
      workers: this.handles.length,
      convergence: budget.summary(rounds.length),
      ...(catchUp.summary() != null ? { catchUp: catchUp.summary() as CatchUpSummary } : {})
    }
  }

  #aggregate (round: number, ends: RoundEndResult[], metric: { name: string, higherIsBetter: boolean }, offline: number, partitioned: boolean): RoundRecord {
    const evaluations = ends.flatMap((e) => e.evaluations).sort((a, b) => a[0] - b[0])
    const values = evaluations.map(([, m]) => m[metric.name]).filter((v): v is number => typeof v === 'number')
    const summary = values.length > 0 ? peerSummary(values, metric.higherIsBetter) : null
    const onCurve = ends.flatMap((e) => e.curveEvaluations ?? []).sort((a, b) => a[0] - b[0])
      .map(([, m]) => m[metric.name]).filter((v): v is number => typeof v === 'number')
    const curveSummary = onCurve.length > 0 ? peerSummary(onCurve, metric.higherIsBetter) : null
    const weights = ends.flatMap((e) => e.weights).sort((a, b) => a[0] - b[0]).map(([, w]) => w)
    const cd = weights.length > 0 ? consensusDistance(weights) : null
    const refused: Record<string, number> = {}
    for (const e of ends) for (const [k, v] of Object.entries(e.refused)) refused[k] = (refused[k] ?? 0) + v
    const sum = (f: (e: RoundEndResult) => number): number => ends.reduce((s, e) => s + f(e), 0)
    return {
      round,
      peersActive: sum((e) => e.peersActive),
      peersOffline: offline,
      evaluated: evaluations.length > 0,
      mean: summary?.mean ?? null,
      min: summary?.min ?? null,
      p10: summary?.p10 ?? null,
      spread: values.length > 0 ? Math.max(...values) - Math.min(...values) : null,
      onCurveRows: curveSummary == null ? null : { mean: curveSummary.mean, min: curveSummary.min, p10: curveSummary.p10 },
      consensusDistance: cd?.rms ?? null,
      relativeConsensusDistance: cd?.relative ?? null,
      bytesSent: sum((e) => e.bytesSent),
      bytesReceived: sum((e) => e.bytesReceived),
      messagesLost: sum((e) => e.messagesLost),
      messagesUnreachable: sum((e) => e.messagesUnreachable),
      messagesDropped: sum((e) => e.messagesDropped),
      refused,
      partitioned,
      wallMs: 0
    }
  }
}
