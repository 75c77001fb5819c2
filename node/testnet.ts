/**
 * `murmur testnet --peers N`: N real daemon processes on 127.0.0.1. The first is the bootstrap; each gets its
 * shard of the scenario's dataset (the simulator's partition: same code, same seed, so peer i holds the rows
 * the simulator's peer i holds) as its own CSV file; the run waits until every peer has done the scenario's
 * rounds, gathers /status, /model and /metrics/history, evaluates every peer's model on the held-out rows,
 * stops every daemon with SIGTERM (exit code 0 expected), computes the baselines (centralized, local-only,
 * FedAvg) with the simulator's own code on the same split, and returns a summary with the simulator's keys.
 * `curve` is built from the daemons' per-round local evaluations (their metrics history).
 *
 * `--attack SPEC`: the same testnet twice with the same seed, clean and then with the last daemon (never the
 * bootstrap) started with `murmur daemon --attack SPEC` (node/attack.ts); the attacked run's figures are over
 * the honest peers only, and the clean run's summary comes with them (`clean`).
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { tmpdir } from 'node:os'
import { join, resolve, isAbsolute } from 'node:path'
import { createNetwork, addMember, serializeManifest, type NetworkManifest } from '../protocol/membership/index.js'
import { createIdentityFile, type Identity } from './keystore.js'
import { spawnDaemon, waitFor, type DaemonProcess } from './processes.js'
import type { Scenario } from '../simulations/scenario.js'

export class TestnetError extends Error {
  static override name = 'TestnetError'
  override name = 'TestnetError'
}

export interface TestnetScenario {
  name: string
  dataset: unknown
  model: unknown
  rule: { rule: string, [k: string]: unknown }
  rounds: number
  localSteps: number
  seed: number | string
  partition: { kind: string, [k: string]: unknown }
  /** The simulator's scenario (peers set to the testnet's size): the baselines and the data split come from it. */
  sim: Scenario
}

/** Used when no simulator scenario named `testnet` exists: small, real, fast (UCI digits, softmax, epidemic). */
export const DEFAULT_TESTNET_SCENARIO_INPUT = {
  name: 'testnet',
  dataset: 'digits',
  model: { type: 'softmax', optimizer: { type: 'adam', learningRate: 0.05 } },
  // daemons run unsynchronized rounds: accept updates from peers far behind or ahead (no STALE_ROUND)
  rule: { rule: 'epidemic', fanout: 2, maxStalenessRounds: 1000 },
  rounds: 20,
  localSteps: 5,
  seed: 7,
  partition: { kind: 'iid' },
  topology: { kind: 'complete' }
}

/**
 * The testnet's scenario: a simulator scenario (built-in name or file), or the built-in default above when the
 * name is `testnet` and no simulator scenario has that name. `peers` replaces the scenario's peer count.
 */
export async function resolveTestnetScenario (nameOrPath: string | undefined, peers: number): Promise<TestnetScenario> {
  const { loadScenario, parseScenario, builtinScenarioNames } = await import('../simulations/scenario.js')
  if (nameOrPath == null || (nameOrPath === 'testnet' && !(await builtinScenarioNames()).includes('testnet'))) {
    return fromScenario(parseScenario({ ...DEFAULT_TESTNET_SCENARIO_INPUT, peers }, '(testnet default)'))
  }
  return fromScenario(await loadScenario(nameOrPath, { peers }))
}

function fromScenario (sim: Scenario): TestnetScenario {
  const s = sim as unknown as Record<string, unknown>
  return {
    sim,
    name: String(s.name ?? 'scenario'),
    dataset: s.dataset,
    model: s.model,
    rule: s.rule as TestnetScenario['rule'],
    rounds: Number(s.rounds),
    localSteps: Number(s.localSteps ?? 5),
    seed: sim.seed,
    partition: (s.partition ?? { kind: 'iid' }) as TestnetScenario['partition']
  }
}

interface DatasetFileSpec { file: string | { builtin: string }, format?: { header?: boolean, delimiter?: string, skipLines?: number }, testFile?: string, testFraction?: number, splitSeed?: number | string }

function readLines (path: string, skipLines: number): string[] {
  let buf = readFileSync(path)
  if (path.endsWith('.gz')) buf = gunzipSync(buf)
  const lines = buf.toString('utf8').split(/\r?\n/)
  return lines.slice(skipLines).filter((l) => l.trim() !== '')
}

/**
 * Writes the dataset's shards for `peers` peers (and the held-out rows) as plain CSV files with the same format,
 * so each daemon reads its own file through the same spec. The shards are learning's `partition` with the
 * simulator's options for (`partitionSpec`, `seed`): peer i gets exactly the rows the simulator's peer i trains
 * on, and the held-out rows are the learning layer's test split (the simulator's too).
 */
export async function partitionDataset (datasetArg: unknown, peers: number, dir: string, seed: number | string, partitionSpec: { kind: string, [k: string]: unknown } = { kind: 'iid' }): Promise<{ spec: Record<string, unknown>, partitions: string[], test: string }> {
  const { resolveDatasetSpec, defaultDataDir, loadDataset, partition } = await import('../learning/index.js')
  const { partitionOptionsFor } = await import('../simulations/scenario.js')
  const spec = resolveDatasetSpec(datasetArg as string) as unknown as DatasetFileSpec & Record<string, unknown>
  if (typeof spec.file !== 'string') throw new TestnetError('testnet needs a dataset read from a file (CSV or TSV), not a built-in package source')
  const dataDir = defaultDataDir()
  const main = isAbsolute(spec.file) ? spec.file : resolve(dataDir, spec.file)
  const header = spec.format?.header ?? true
  const lines = readLines(main, spec.format?.skipLines ?? 0)
  const head = header ? lines.shift() : undefined
  const ds = await loadDataset(spec as never)
  if (ds.badRows.count > 0) throw new TestnetError(`${main}: the dataset loader skipped ${ds.badRows.count} bad rows: cannot align the partition with the file's lines`)
  let testRows: string[]
  if (spec.testFile != null) {
    // rows 0..lines-1 are the main file, the rest the test file (learning's loadDatasetFromSpec)
    const tp = isAbsolute(spec.testFile) ? spec.testFile : resolve(dataDir, spec.testFile)
    testRows = readLines(tp, (spec as { testFormat?: { skipLines?: number } }).testFormat?.skipLines ?? spec.format?.skipLines ?? 0)
    if (header) testRows.shift()
    if (ds.size !== lines.length + testRows.length) throw new TestnetError(`${main} + ${tp}: ${lines.length + testRows.length} lines but the dataset loader read ${ds.size} rows: cannot align the split`)
  } else {
    if (ds.size !== lines.length) throw new TestnetError(`${main}: ${lines.length} lines but the dataset loader read ${ds.size} rows: cannot align the held-out split`)
    testRows = Array.from(ds.test, (i) => lines[i])
  }
  const shards = partition(ds, partitionOptionsFor(partitionSpec, peers, seed))
  if (shards.length !== peers) throw new TestnetError(`partition ${JSON.stringify(partitionSpec)} made ${shards.length} shards for ${peers} peers: use --peers ${shards.length}`)
  mkdirSync(dir, { recursive: true })
  const write = (path: string, rows: string[]): void => { writeFileSync(path, (head != null ? head + '\n' : '') + rows.join('\n') + '\n') }
  const partitions: string[] = []
  for (let p = 0; p < peers; p++) {
    const path = join(dir, `peer-${p}.csv`)
    write(path, Array.from(shards[p].indices, (i) => lines[i]))
    partitions.push(path)
  }
  const test = join(dir, 'test.csv')
  write(test, testRows)
  // the manifest carries the spec; each daemon replaces its file by --data
  const { testFile: _t, testFormat: _tf, ...rest } = spec as Record<string, unknown>
  return { spec: { ...rest, file: 'peer.csv', format: { ...(spec.format ?? {}), skipLines: 0, gzip: false } }, partitions, test }
}

/** Identities in `<dir>/peer-i/` and one closed network with all of them (peer 0 is the admin). */
export async function createTestNetwork (init: { dir: string, peers: number, name: string, model: unknown, datasetSpec: unknown, rule: TestnetScenario['rule'], privacy?: unknown }): Promise<{ network: string, manifest: NetworkManifest, datadirs: string[], identities: Identity[] }> {
  const datadirs: string[] = []
  const identities: Identity[] = []
  for (let i = 0; i < init.peers; i++) {
    const d = join(init.dir, `peer-${i}`)
    identities.push(await createIdentityFile(d))
    datadirs.push(d)
  }
  const { rule, ...params } = init.rule
  let manifest = createNetwork({ name: init.name, model: init.model, dataset: { spec: init.datasetSpec }, rule: { name: rule, params }, ...(init.privacy != null ? { privacy: init.privacy } : {}), creator: identities[0] })
  for (const id of identities.slice(1)) {
    manifest = addMember(manifest, { signKey: Buffer.from(id.signPublicKey).toString('hex'), boxKey: Buffer.from(id.boxPublicKey).toString('hex') }, identities[0])
  }
  const network = join(init.dir, 'network.json')
  writeFileSync(network, serializeManifest(manifest))
  return { network, manifest, datadirs, identities }
}

export interface TestnetInit {
  peers: number
  scenario?: string
  rounds?: number
  dir?: string
  keep?: boolean
  roundIntervalMs?: number
  timeoutMs?: number
  /** Compute the baselines (centralized, local-only, FedAvg) with the simulator's code (default true). */
  baselines?: boolean
  /** Simulator worker threads for the baselines (default: the simulator's default). */
  workers?: number
  progress?: (line: string) => void
  /**
   * For testing the defences: a simulator attack (`kind[:key=value,...]`) that the last daemon runs. The testnet
   * runs clean first, then attacked; the summary's figures are the honest peers' (see `runTestnet`).
   */
  attack?: string
  /** With `attack`: the clean run's summary from an earlier `runTestnet` of the same testnet, instead of running it again. */
  clean?: Record<string, unknown>
  /** The seed of the data split (default the scenario's): benchmarks repeat a run over several splits. */
  seed?: number
}

/** The rogue daemon of an attacked run: its index (the last) and its `--attack` value. */
interface Rogue { index: number, spec: string }

/** One point of the per-round curve: the simulator's `CurvePoint` (mean, worst and 10th percentile over peers). */
export interface TestnetCurvePoint { round: number, mean: number | null, min: number | null, p10: number | null, peers: number }

/** A daemon's `/metrics/history` entry (MetricsSnapshot). */
interface HistoryEntry { round: number, values: Record<string, number> }

/**
 * The per-round curve from the daemons' metrics histories: for each round r < `rounds`, every peer's latest local
 * evaluation of `metric` at a round <= r (daemons jump rounds like a Lamport clock, so a peer may skip r), then
 * mean, worst and 10th percentile over the peers that have one (`peers` counts them). Rounds where no peer has
 * evaluated yet are left out, as the simulator leaves out rounds it does not evaluate.
 */
export function curveFromHistories (histories: HistoryEntry[][], metric: { name: string, higherIsBetter: boolean }, rounds: number, summarize: (values: number[], higherIsBetter: boolean) => { mean: number, min: number, p10: number }, round6: (x: number) => number = (x) => x): TestnetCurvePoint[] {
  const key = `eval.${metric.name}`
  const perPeer = histories.map((h) => h
    .filter((e) => typeof e.values?.[key] === 'number' && Number.isFinite(e.values[key]))
    .map((e) => ({ round: e.round, value: e.values[key] }))
    .sort((x, y) => x.round - y.round))
  const cursor = perPeer.map(() => -1)
  const curve: TestnetCurvePoint[] = []
  for (let r = 0; r < rounds; r++) {
    const values: number[] = []
    let fresh = false
    perPeer.forEach((list, i) => {
      while (cursor[i] + 1 < list.length && list[cursor[i] + 1].round <= r) { cursor[i]++; if (list[cursor[i]].round === r) fresh = true }
      if (cursor[i] >= 0) values.push(list[cursor[i]].value)
    })
    if (values.length === 0 || !fresh) continue
    const s = summarize(values, metric.higherIsBetter)
    curve.push({ round: r, mean: round6(s.mean), min: round6(s.min), p10: round6(s.p10), peers: values.length })
  }
  return curve
}

function decodeWeights (b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64')
  const w = new Float32Array(buf.length / 4)
  new Uint8Array(w.buffer).set(buf)
  return w
}

/**
 * Runs the testnet (see the top of this file). With `attack`: the clean run (or `init.clean`), then the attacked
 * run, whose summary gets `attack: { kind, params, peer, peerId }` and `clean: <the clean summary>`; its
 * `decentralized` figures and `curve` are over the honest peers only (`honestOnly` says so), `perPeer` lists
 * every peer with `rogue: true` on the attacker, and the baselines are the clean run's (same split).
 */
export async function runTestnet (init: TestnetInit): Promise<Record<string, unknown>> {
  if (init.peers < 2) throw new TestnetError('--peers must be at least 2')
  if (init.attack == null) return await runTestnetOnce(init, null)
  const { parseDaemonAttack } = await import('./attack.js')
  // a bad spec fails here, before any daemon starts
  const attack = await parseDaemonAttack(init.attack, 'attack')
  const say = init.progress ?? (() => {})
  const sub = (name: string): string | undefined => init.dir != null ? join(resolve(init.dir), name) : undefined
  let clean = init.clean
  if (clean == null) {
    say(`testnet --attack ${init.attack}: the clean run first`)
    clean = await runTestnetOnce({ ...init, dir: sub('clean') }, null)
  } else if (clean.peers !== init.peers || (init.rounds != null && clean.rounds !== init.rounds)) {
    throw new TestnetError(`the clean summary given is of ${String(clean.peers)} peers x ${String(clean.rounds)} rounds, not the testnet's ${init.peers} peers x ${String(init.rounds ?? clean.rounds)} rounds`)
  }
  const rogue: Rogue = { index: init.peers - 1, spec: init.attack }
  say(`testnet --attack ${init.attack}: the attacked run (peer ${rogue.index} is the rogue)`)
  const attacked = await runTestnetOnce({ ...init, dir: sub('attacked'), baselines: false }, rogue)
  const perPeer = attacked.perPeer as Array<{ peerId: string }>
  return {
    ...attacked,
    // the baselines do not depend on the attacker: the clean run's, on the same split
    centralized: clean.centralized,
    localOnly: clean.localOnly,
    fedavg: clean.fedavg,
    simulator: clean.simulator,
    baselineSeconds: clean.baselineSeconds,
    attack: { kind: attack.kind, params: attack.params, peer: rogue.index, peerId: perPeer[rogue.index]?.peerId ?? null },
    clean
  }
}

async function runTestnetOnce (init: TestnetInit, rogue: Rogue | null): Promise<Record<string, unknown>> {
  const started = performance.now()
  const resolved = await resolveTestnetScenario(init.scenario, init.peers)
  const scenario = init.seed == null ? resolved : { ...resolved, seed: init.seed, sim: { ...resolved.sim, seed: init.seed } }
  const rounds = init.rounds ?? scenario.rounds
  const sim: Scenario = { ...scenario.sim, rounds, variants: [] }
  const own = init.dir == null
  const dir = init.dir != null ? resolve(init.dir) : mkdtempSync(join(tmpdir(), 'murmur-testnet-'))
  const say = init.progress ?? (() => {})
  const daemons: DaemonProcess[] = []
  const { sig, peerSummary, consensusDistance } = await import('../simulations/stats.js')
  try {
    const data = await partitionDataset(scenario.dataset, init.peers, join(dir, 'data'), scenario.seed, scenario.partition)
    const net = await createTestNetwork({ dir, peers: init.peers, name: `testnet-${scenario.name}`, model: scenario.model, datasetSpec: data.spec, rule: scenario.rule })
    say(`testnet: ${init.peers} peers, scenario ${scenario.name}, ${rounds} rounds, in ${dir}`)
    // every daemon waits for a few neighbours before its first round, so that rounds start together; each
    // evaluates on its local validation rows as often as the simulator evaluates (the curve)
    const common = { network: net.network, roundIntervalMs: init.roundIntervalMs ?? 200, localSteps: scenario.localSteps, evaluateEvery: sim.evaluation.every, extraArgs: ['--wait-for-peers', String(Math.min(init.peers - 1, 3))] }
    const first = await spawnDaemon({ ...common, datadir: net.datadirs[0], data: data.partitions[0] })
    daemons.push(first)
    say(`bootstrap ${first.addresses[0]}`)
    const rest = await Promise.all(net.datadirs.slice(1).map(async (d, i) => await spawnDaemon({
      ...common, datadir: d, data: data.partitions[i + 1], bootstrap: [first.addresses[0]],
      extraArgs: i + 1 === rogue?.index ? [...common.extraArgs, '--attack', rogue.spec] : common.extraArgs
    })))
    daemons.push(...rest)
    const timeoutMs = init.timeoutMs ?? 600_000
    await Promise.all(daemons.map(async (d, i) => await waitFor(`peer ${i} to finish ${rounds} rounds`, async () => await d.get<{ round: number }>('/status'), (s) => s.round >= rounds, { timeoutMs, intervalMs: 500 })))
    say('all peers done; gathering status, models and metrics histories')
    const statuses = await Promise.all(daemons.map(async (d) => await d.get<Record<string, any>>('/status')))
    const models = await Promise.all(daemons.map(async (d) => decodeWeights((await d.get<{ weights: string }>('/model')).weights)))
    const histories = await Promise.all(daemons.map(async (d) => await d.get<HistoryEntry[]>('/metrics/history?limit=100000')))
    const daemonSeconds = (performance.now() - started) / 1000
    say('stopping all daemons (SIGTERM)')
    const codes = await Promise.all(daemons.map(async (d) => await d.stop()))
    daemons.length = 0
    // evaluate each model on the held-out rows
    let metric: { name: string, higherIsBetter: boolean } | null = null
    const values: number[] = []
    try {
      const { evaluateWeightsOnFile } = await import('./wiring.js')
      for (const w of models) {
        // the rogue's own model may be anything: a failed evaluation of it must not lose the honest figures
        const r = await evaluateWeightsOnFile(net.manifest, data.test, w).catch((err: Error) => {
          if (values.length !== rogue?.index) throw err
          return null
        })
        if (r != null) metric ??= r.primary
        values.push(r == null || metric == null ? Number.NaN : r.metrics[metric.name])
      }
    } catch (err) {
      say(`evaluation on the held-out rows failed: ${(err as Error).message}`)
    }
    if (metric == null) {
      const { describeMetric, DEFAULT_FACTORY_MODULE } = await import('../simulations/index.js')
      metric = await describeMetric(sim, DEFAULT_FACTORY_MODULE)
    }
    const refused: Record<string, number> = {}
    // what the bounded-influence defence did, summed over the peers (CLIPPED, WEIGHT_CLAMPED, EXAMPLES_CLAMPED)
    const bounded: Record<string, number> = {}
    let bytes = 0
    let steps = 0
    for (const s of statuses) {
      for (const [k, v] of Object.entries(s.refusedByReason ?? {})) refused[k] = (refused[k] ?? 0) + Number(v)
      for (const [k, v] of Object.entries(s.totals?.bounded ?? {})) bounded[k] = (bounded[k] ?? 0) + Number(v)
      bytes += Number(s.totals?.bytesSent ?? 0)
      steps += Number(s.round) * scenario.localSteps
    }
    // baselines: the simulator's own code (simulations/run.ts) on the same scenario, hence the same split
    let baselines: { centralized: number | null, localOnly: number | null, fedavg: number | null, simulator: Record<string, unknown> | null, seconds: number | null, error?: string } =
      { centralized: null, localOnly: null, fedavg: null, simulator: null, seconds: null }
    if (init.baselines !== false) {
      say('baselines (centralized, local-only, FedAvg) with the simulator on the same split')
      const t0 = performance.now()
      try {
        const { runScenario } = await import('../simulations/run.js')
        // the daemons' figures are in their primary metric: the simulator's baselines in the same one
        const r = await runScenario({ ...sim, metric: sim.metric ?? metric.name as Scenario['metric'] }, { variants: false, workers: init.workers })
        baselines = {
          centralized: r.centralized.value,
          localOnly: r.localOnly.mean,
          fedavg: r.fedavg.value,
          simulator: { decentralized: r.decentralized, wallSeconds: r.wallSeconds },
          seconds: Number(((performance.now() - t0) / 1000).toFixed(1))
        }
      } catch (err) {
        say(`baselines failed: ${(err as Error).message}`)
        baselines.error = (err as Error).message
      }
    }
    const wallSeconds = (performance.now() - started) / 1000
    const fin = (x: number): number | null => Number.isFinite(x) ? sig(x) : null
    // an attacked run's figures are the honest peers': the rogue's own model says nothing about the defences
    const honest = (_: unknown, i: number): boolean => i !== rogue?.index
    const honestValues = values.filter(honest).filter((v) => Number.isFinite(v))
    const summary = honestValues.length > 0 ? peerSummary(honestValues, metric.higherIsBetter) : null
    return {
      scenario: scenario.name,
      transport: 'libp2p-tcp',
      peers: init.peers,
      rounds,
      seed: scenario.seed,
      rule: scenario.rule.rule,
      metric,
      decentralized: {
        mean: summary == null ? null : fin(summary.mean),
        min: summary == null ? null : fin(summary.min),
        p10: summary == null ? null : fin(summary.p10),
        consensusDistance: fin(consensusDistance(models.filter(honest)).rms)
      },
      ...(rogue != null ? { honestOnly: `decentralized, curve and consensusDistance are over the ${init.peers - 1} honest peers only (peer ${rogue.index} is the rogue; perPeer lists all)` } : {}),
      centralized: { value: baselines.centralized },
      localOnly: { mean: baselines.localOnly },
      fedavg: { value: baselines.fedavg },
      curve: curveFromHistories(histories.filter(honest), metric, rounds, peerSummary, sig),
      curveSource: 'local validation rows of each daemon (metrics history)',
      simulator: baselines.simulator,
      ...(baselines.error != null ? { baselinesError: baselines.error } : {}),
      perPeer: statuses.map((s, i) => ({ peerId: s.peerId, round: s.round, examples: s.examples, neighbours: s.neighbours.length, metric: Number.isFinite(values[i]) ? values[i] : null, ...(i === rogue?.index ? { rogue: true } : {}) })),
      bytesPerPeerPerRound: bytes / init.peers / Math.max(1, rounds),
      refused,
      bounded,
      exitCodes: codes,
      wallSeconds: Number(wallSeconds.toFixed(1)),
      daemonSeconds: Number(daemonSeconds.toFixed(1)),
      baselineSeconds: baselines.seconds,
      peerStepsPerSecond: Number((steps / daemonSeconds).toFixed(1)),
      maxRssMiB: null
    }
  } finally {
    await Promise.all(daemons.map(async (d) => await d.stop().catch(() => -1)))
    if (own && init.keep !== true) rmSync(dir, { recursive: true, force: true })
  }
}
