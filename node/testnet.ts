/**
 * `murmur testnet --peers N`: N real daemon processes on 127.0.0.1. The first is the bootstrap; each gets an
 * iid partition of the scenario's dataset as its own CSV file; the run waits until every peer has done the
 * scenario's rounds, gathers /status and /model, evaluates every peer's model on the held-out rows, prints a
 * summary with the simulator's keys, and stops every daemon with SIGTERM (exit code 0 expected).
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { tmpdir } from 'node:os'
import { join, resolve, isAbsolute } from 'node:path'
import { createRng } from '../protocol/rng.js'
import { createNetwork, addMember, serializeManifest, type NetworkManifest } from '../protocol/membership/index.js'
import { createIdentityFile, type Identity } from './keystore.js'
import { spawnDaemon, waitFor, type DaemonProcess } from './processes.js'

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
  seed: number
  partition: { kind: string, [k: string]: unknown }
}

/** Used when no simulator scenario named `testnet` exists: small, real, fast (UCI digits, softmax, epidemic). */
export const DEFAULT_TESTNET_SCENARIO: TestnetScenario = {
  name: 'testnet',
  dataset: 'digits',
  model: { type: 'softmax', optimizer: { type: 'adam', learningRate: 0.05 } },
  // daemons run unsynchronized rounds: accept updates from peers far behind or ahead (no STALE_ROUND)
  rule: { rule: 'epidemic', fanout: 2, maxStalenessRounds: 1000 },
  rounds: 20,
  localSteps: 5,
  seed: 7,
  partition: { kind: 'iid' }
}

export async function resolveTestnetScenario (nameOrPath: string | undefined): Promise<TestnetScenario> {
  if (nameOrPath == null || nameOrPath === 'testnet') {
    try {
      const { loadScenario } = await import('../simulations/scenario.js')
      const s = await loadScenario('testnet')
      return fromScenario(s as unknown as Record<string, unknown>)
    } catch { return DEFAULT_TESTNET_SCENARIO }
  }
  const { loadScenario } = await import('../simulations/scenario.js')
  return fromScenario(await loadScenario(nameOrPath) as unknown as Record<string, unknown>)
}

function fromScenario (s: Record<string, unknown>): TestnetScenario {
  const seed = typeof s.seed === 'number' ? s.seed : 1
  return {
    name: String(s.name ?? 'scenario'),
    dataset: s.dataset,
    model: s.model,
    rule: s.rule as TestnetScenario['rule'],
    rounds: Number(s.rounds),
    localSteps: Number(s.localSteps ?? 5),
    seed,
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
 * Writes `peers` iid partitions of the dataset file (and the held-out rows) as plain CSV files with the same
 * format, so each daemon reads its own file through the same spec.
 */
export async function partitionDataset (datasetArg: unknown, peers: number, dir: string, seed: number): Promise<{ spec: Record<string, unknown>, partitions: string[], test: string }> {
  const { resolveDatasetSpec, defaultDataDir } = await import('../learning/index.js')
  const spec = resolveDatasetSpec(datasetArg as string) as unknown as DatasetFileSpec & Record<string, unknown>
  if (typeof spec.file !== 'string') throw new TestnetError('testnet needs a dataset read from a file (CSV or TSV), not a built-in package source')
  const dataDir = defaultDataDir()
  const main = isAbsolute(spec.file) ? spec.file : resolve(dataDir, spec.file)
  const header = spec.format?.header ?? true
  const lines = readLines(main, spec.format?.skipLines ?? 0)
  const head = header ? lines.shift() : undefined
  const rng = createRng(seed).fork('testnet-partition')
  const order = rng.shuffle(Array.from({ length: lines.length }, (_, i) => i))
  let testRows: string[]
  let trainIdx: number[]
  if (spec.testFile != null) {
    const tp = isAbsolute(spec.testFile) ? spec.testFile : resolve(dataDir, spec.testFile)
    testRows = readLines(tp, (spec as { testFormat?: { skipLines?: number } }).testFormat?.skipLines ?? spec.format?.skipLines ?? 0)
    if (header) testRows.shift()
    trainIdx = order
  } else {
    // the same held-out rows as the learning layer (and so the simulator) uses for this spec
    const { loadDataset } = await import('../learning/index.js')
    const ds = await loadDataset(spec as never)
    if (ds.size !== lines.length || ds.badRows.count > 0) throw new TestnetError(`${main}: ${lines.length} lines but the dataset loader read ${ds.size} rows (${ds.badRows.count} bad): cannot align the held-out split`)
    testRows = Array.from(ds.test, (i) => lines[i])
    const test = new Set(ds.test)
    trainIdx = order.filter((i) => !test.has(i))
  }
  mkdirSync(dir, { recursive: true })
  const write = (path: string, rows: string[]): void => { writeFileSync(path, (head != null ? head + '\n' : '') + rows.join('\n') + '\n') }
  const partitions: string[] = []
  for (let p = 0; p < peers; p++) {
    const path = join(dir, `peer-${p}.csv`)
    write(path, trainIdx.filter((_, j) => j % peers === p).map((i) => lines[i]))
    partitions.push(path)
  }
  const test = join(dir, 'test.csv')
  write(test, testRows)
  // the manifest carries the spec; each daemon replaces its file by --data
  const { testFile: _t, testFormat: _tf, ...rest } = spec as Record<string, unknown>
  return { spec: { ...rest, file: 'peer.csv', format: { ...(spec.format ?? {}), skipLines: 0, gzip: false } }, partitions, test }
}

/** Identities in `<dir>/peer-i/` and one closed network with all of them (peer 0 is the admin). */
export async function createTestNetwork (init: { dir: string, peers: number, name: string, model: unknown, datasetSpec: unknown, rule: TestnetScenario['rule'] }): Promise<{ network: string, manifest: NetworkManifest, datadirs: string[], identities: Identity[] }> {
  const datadirs: string[] = []
  const identities: Identity[] = []
  for (let i = 0; i < init.peers; i++) {
    const d = join(init.dir, `peer-${i}`)
    identities.push(await createIdentityFile(d))
    datadirs.push(d)
  }
  const { rule, ...params } = init.rule
  let manifest = createNetwork({ name: init.name, model: init.model, dataset: { spec: init.datasetSpec }, rule: { name: rule, params }, creator: identities[0] })
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
  progress?: (line: string) => void
}

function quantile (xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.floor(q * (s.length - 1))))]
}

function decodeWeights (b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64')
  const w = new Float32Array(buf.length / 4)
  new Uint8Array(w.buffer).set(buf)
  return w
}

export async function runTestnet (init: TestnetInit): Promise<Record<string, unknown>> {
  if (init.peers < 2) throw new TestnetError('--peers must be at least 2')
  const started = performance.now()
  const scenario = await resolveTestnetScenario(init.scenario)
  const rounds = init.rounds ?? scenario.rounds
  const own = init.dir == null
  const dir = init.dir != null ? resolve(init.dir) : mkdtempSync(join(tmpdir(), 'murmur-testnet-'))
  const say = init.progress ?? (() => {})
  const daemons: DaemonProcess[] = []
  try {
    const data = await partitionDataset(scenario.dataset, init.peers, join(dir, 'data'), scenario.seed)
    const net = await createTestNetwork({ dir, peers: init.peers, name: `testnet-${scenario.name}`, model: scenario.model, datasetSpec: data.spec, rule: scenario.rule })
    say(`testnet: ${init.peers} peers, scenario ${scenario.name}, ${rounds} rounds, in ${dir}`)
    // every daemon waits for a few neighbours before its first round, so that rounds start together
    const common = { network: net.network, roundIntervalMs: init.roundIntervalMs ?? 200, localSteps: scenario.localSteps, evaluateEvery: Math.max(1, rounds), extraArgs: ['--wait-for-peers', String(Math.min(init.peers - 1, 3))] }
    const first = await spawnDaemon({ ...common, datadir: net.datadirs[0], data: data.partitions[0] })
    daemons.push(first)
    say(`bootstrap ${first.addresses[0]}`)
    const rest = await Promise.all(net.datadirs.slice(1).map(async (d, i) => await spawnDaemon({ ...common, datadir: d, data: data.partitions[i + 1], bootstrap: [first.addresses[0]] })))
    daemons.push(...rest)
    const timeoutMs = init.timeoutMs ?? 600_000
    await Promise.all(daemons.map(async (d, i) => await waitFor(`peer ${i} to finish ${rounds} rounds`, async () => await d.get<{ round: number }>('/status'), (s) => s.round >= rounds, { timeoutMs, intervalMs: 500 })))
    say('all peers done; gathering status and models')
    const statuses = await Promise.all(daemons.map(async (d) => await d.get<Record<string, any>>('/status')))
    const models = await Promise.all(daemons.map(async (d) => decodeWeights((await d.get<{ weights: string }>('/model')).weights)))
    // consensus distance: mean L2 distance of each model to the average model
    const n = models[0].length
    const avg = new Float64Array(n)
    for (const m of models) for (let j = 0; j < n; j++) avg[j] += m[j] / models.length
    const dist = models.map((m) => Math.sqrt(m.reduce((s, v, j) => s + (v - avg[j]) ** 2, 0)))
    // evaluate each model on the held-out rows
    let metric: { name: string, higherIsBetter: boolean } | null = null
    const values: number[] = []
    try {
      const { evaluateWeightsOnFile } = await import('./wiring.js')
      for (const w of models) {
        const r = await evaluateWeightsOnFile(net.manifest, data.test, w)
        metric ??= r.primary
        values.push(r.metrics[metric.name])
      }
    } catch (err) {
      say(`evaluation on the held-out rows failed: ${(err as Error).message}`)
    }
    const refused: Record<string, number> = {}
    let bytes = 0
    let steps = 0
    for (const s of statuses) {
      for (const [k, v] of Object.entries(s.refusedByReason ?? {})) refused[k] = (refused[k] ?? 0) + Number(v)
      bytes += Number(s.totals?.bytesSent ?? 0)
      steps += Number(s.round) * scenario.localSteps
    }
    const wallSeconds = (performance.now() - started) / 1000
    say('stopping all daemons (SIGTERM)')
    const codes = await Promise.all(daemons.map(async (d) => await d.stop()))
    daemons.length = 0
    const mean = values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : null
    return {
      scenario: scenario.name,
      transport: 'libp2p-tcp',
      peers: init.peers,
      rounds,
      seed: scenario.seed,
      rule: scenario.rule.rule,
      metric,
      decentralized: {
        mean,
        min: values.length > 0 ? (metric?.higherIsBetter === false ? Math.max(...values) : Math.min(...values)) : null,
        p10: values.length > 0 ? quantile(values, metric?.higherIsBetter === false ? 0.9 : 0.1) : null,
        consensusDistance: dist.reduce((a, b) => a + b, 0) / dist.length
      },
      centralized: null,
      localOnly: null,
      fedavg: null,
      curve: null,
      perPeer: statuses.map((s, i) => ({ peerId: s.peerId, round: s.round, examples: s.examples, neighbours: s.neighbours.length, metric: values[i] ?? null })),
      bytesPerPeerPerRound: bytes / init.peers / Math.max(1, rounds),
      refused,
      exitCodes: codes,
      wallSeconds: Number(wallSeconds.toFixed(1)),
      peerStepsPerSecond: Number((steps / wallSeconds).toFixed(1)),
      maxRssMiB: null
    }
  } finally {
    await Promise.all(daemons.map(async (d) => await d.stop().catch(() => -1)))
    if (own && init.keep !== true) rmSync(dir, { recursive: true, force: true })
  }
}
