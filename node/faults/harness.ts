/**
 * The fault harness's network: real `murmur daemon` processes on 127.0.0.1 over one closed network (the testnet
 * scenario's dataset, model and rule, at a small round window so that "longer than any window" takes seconds),
 * with the helpers the faults share: spawn and stop members, read their `/status`, evaluate every running
 * member's model on the held-out rows (the metric spread across peers), and wait for conditions.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { NetworkManifest } from '../../protocol/membership/index.js'
import type { Identity } from '../../crypto/index.js'
import type { Scenario } from '../../simulations/scenario.js'
import { createTestNetwork, partitionDataset, resolveTestnetScenario } from '../testnet.js'
import { spawnDaemon, waitFor, MURMUR_BIN, REPO_ROOT, type DaemonProcess } from '../processes.js'
import { LinkProxy, memberIp } from './link-proxy.js'
import { checkLinkShape, PacketLoss, type LinkShape } from './link-shape.js'
import { predictionRound, simulateCatchUp, type CatchUpPrediction } from './prediction.js'
import { FAULT_LOCAL_STEPS, FAULT_PEERS, FAULT_ROUND_INTERVAL_MS, FAULT_STEP_TIMEOUT_MS, FAULT_WINDOW_ROUNDS } from './constants.js'

const exec = promisify(execFile)

/** What the faults read of a daemon's `/status`. */
export interface PeerStatus {
  round: number
  connections: number
  refusedByReason: Record<string, number>
  totals: { updatesMerged: number, updatesSent: number }
  stateSync: { wanted: boolean, adoptions: number } | null
}

export interface FaultNetInit {
  peers?: number
  windowRounds?: number
  roundIntervalMs?: number
  localSteps?: number
  /** Simulator scenario (name or file) for dataset, model, rule and partition (default: the testnet scenario). */
  scenario?: string
  dir?: string
  keep?: boolean
  /** Conditions on every member's link (link-shape.ts): added RTT and packet loss. Default: none. */
  link?: Partial<LinkShape>
  /** More `murmur daemon` flags for every member (e.g. retention: `['--log-max-bytes', '4MiB']`). */
  daemonArgs?: string[]
  /** Run the simulator's version of the catch-up and partition-heal faults beside the daemons (prediction.ts, partition-prediction.ts; default true). */
  predict?: boolean
  /** Members not started at the beginning (late joiners). */
  holdBack?: number[]
  progress?: (line: string) => void
  signal?: AbortSignal
}

/** Seconds since `since` (ms), to a tenth: what the faults report as recovery times. */
export const secondsSince = (since: number): number => Number(((Date.now() - since) / 1000).toFixed(1))

/** A member's `/health`: the HTTP status and the reason codes (none when 200). */
export interface MemberHealth { status: number, codes: string[] }

/** A free TCP port on 127.0.0.1 (bound and released: the daemon binds it next). */
async function freePort (): Promise<number> {
  const { createServer } = await import('node:net')
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      const port = typeof a === 'object' && a != null ? a.port : 0
      s.close(() => { resolve(port) })
    })
  })
}

export class FaultNet {
  readonly daemons: Array<DaemonProcess | null> = []
  /** One proxy per member (link-proxy.ts): the address peers reach it by, stable across its restarts. */
  readonly proxies: LinkProxy[] = []
  private readonly ports: Array<number | null> = []
  private readonly peerIds: string[] = []
  readonly peers: number
  readonly window: number
  readonly link: LinkShape
  /** The simulator scenario the network was made from (for the simulator's prediction). */
  simScenario!: Scenario
  private loss: PacketLoss | null = null
  private readonly predictions = new Map<number, Promise<CatchUpPrediction['simulator']>>()
  manifest!: NetworkManifest
  identities: Identity[] = []
  datadirs: string[] = []
  partitions: string[] = []
  testFile = ''
  metricName = ''
  private network = ''
  private dir = ''
  private own = false
  readonly say: (line: string) => void

  constructor (private readonly init: FaultNetInit = {}) {
    this.peers = init.peers ?? FAULT_PEERS
    this.window = init.windowRounds ?? FAULT_WINDOW_ROUNDS
    this.link = checkLinkShape(init.link ?? {})
    this.say = init.progress ?? (() => {})
  }

  get signal (): AbortSignal | undefined { return this.init.signal }
  get predict (): boolean { return this.init.predict !== false }

  /**
   * The simulator's catch-up for a member that joined at `joinRound` (prediction.ts), run once per join round
   * the simulator uses: faults whose joins are capped to the same round share one run.
   */
  async predictCatchUp (joinRound: number): Promise<CatchUpPrediction['simulator']> {
    const at = predictionRound(this.window, joinRound)
    let p = this.predictions.get(at)
    if (p == null) {
      p = simulateCatchUp({ scenario: this.simScenario, peers: this.peers, windowRounds: this.window, localSteps: this.localSteps, joinRound })
      this.predictions.set(at, p)
    }
    return await p
  }
  get localSteps (): number { return this.init.localSteps ?? FAULT_LOCAL_STEPS }

  /** Creates the network (plus one member identity no daemon runs: the harness's own, e.g. for `round-jump`). */
  async start (): Promise<void> {
    this.own = this.init.dir == null
    this.dir = this.init.dir != null ? resolve(this.init.dir) : mkdtempSync(join(tmpdir(), 'murmur-faults-'))
    const scenario = await resolveTestnetScenario(this.init.scenario, this.peers)
    this.simScenario = scenario.sim
    const data = await partitionDataset(scenario.dataset, this.peers, join(this.dir, 'data'), scenario.seed, scenario.partition)
    this.partitions = data.partitions
    this.testFile = data.test
    const rule = { ...scenario.rule, maxStalenessRounds: this.window }
    const net = await createTestNetwork({ dir: this.dir, peers: this.peers + 1, name: `faults-${scenario.name}`, model: scenario.model, datasetSpec: data.spec, rule })
    this.manifest = net.manifest; this.network = net.network; this.identities = net.identities; this.datadirs = net.datadirs
    this.say(`faults: ${this.peers} daemons, scenario ${scenario.name}, rule ${rule.rule} with a ${this.window}-round window, in ${this.dir}`)
    const hold = new Set(this.init.holdBack ?? [])
    for (let i = 0; i < this.peers; i++) {
      this.daemons.push(null)
      this.ports.push(null)
      const proxy = new LinkProxy(() => this.ports[i], { delayMs: this.link.rttMs / 2 })
      await proxy.start()
      this.proxies.push(proxy)
    }
    if (this.link.loss > 0) this.loss = await PacketLoss.start(this.proxies.map((p) => p.port), this.link.loss)
    if (this.link.rttMs > 0 || this.link.loss > 0) this.say(`links: ${this.link.rttMs} ms added RTT, ${(this.link.loss * 100).toFixed(1)}% packet loss${this.loss != null ? ` (every ${this.loss.every}th packet)` : ''}`)
    for (let i = 0; i < this.peers; i++) if (!hold.has(i)) await this.spawn(i)
  }

  /** Member `i`'s address as its peers know it (through its proxy). */
  address (i: number): string {
    const id = this.peerIds[i]
    if (id == null) throw new Error(`member ${i} has not run yet`)
    return this.proxies[i].multiaddr(id)
  }

  /**
   * Starts member `i` from its datadir, bootstrapped by any running member (none for the first). It listens on a
   * fresh port, announces its proxy and dials from its own loopback IP, so that its links can be cut.
   */
  async spawn (i: number, options: { bootstrap?: string[] } = {}): Promise<DaemonProcess> {
    const bootstrap = options.bootstrap ?? this.running().filter((j) => j !== i).slice(0, 1).map((j) => this.address(j))
    const port = await freePort()
    this.ports[i] = port
    const d = await spawnDaemon({
      network: this.network, datadir: this.datadirs[i], data: this.partitions[i], bootstrap,
      listen: [`/ip4/127.0.0.1/tcp/${port}`],
      roundIntervalMs: this.init.roundIntervalMs ?? FAULT_ROUND_INTERVAL_MS, localSteps: this.localSteps, evaluateEvery: 50,
      extraArgs: ['--announce', `/ip4/127.0.0.1/tcp/${this.proxies[i].port}`, '--dial-from', memberIp(i), ...(this.init.daemonArgs ?? [])],
      env: { MURMUR_LOG_LEVEL: 'warn' }
    })
    const id = /\/p2p\/([^/]+)$/.exec(d.addresses[0] ?? '')?.[1]
    if (id != null) this.peerIds[i] = id
    this.daemons[i] = d
    return d
  }

  /** The link conditions in force and the packets dropped so far (null: no loss applied). */
  async linkStats (): Promise<LinkShape & { droppedPackets: number | null }> {
    return { ...this.link, droppedPackets: this.loss != null ? await this.loss.dropped() : null }
  }

  /** Cuts every link between the two groups of members (both directions). */
  partition (a: number[], b: number[]): void {
    for (const i of a) this.proxies[i].cut(b)
    for (const i of b) this.proxies[i].cut(a)
  }

  /** Heals every cut link. */
  heal (): void { for (const p of this.proxies) p.heal() }

  /** Indices of the members whose daemon runs. */
  running (): number[] {
    return this.daemons.flatMap((d, i) => d != null ? [i] : [])
  }

  daemon (i: number): DaemonProcess {
    const d = this.daemons[i]
    if (d == null) throw new Error(`member ${i} is not running`)
    return d
  }

  async health (i: number): Promise<MemberHealth> {
    const r = await fetch(`${this.daemon(i).apiUrl}/health`)
    const text = await r.text()
    return { status: r.status, codes: r.status === 200 ? [] : (JSON.parse(text) as { reasons: Array<{ code: string }> }).reasons.map((x) => x.code) }
  }

  async status (i: number): Promise<PeerStatus> { return await this.daemon(i).get<PeerStatus>('/status') }

  async statuses (peers = this.running()): Promise<PeerStatus[]> {
    return await Promise.all(peers.map(async (i) => await this.status(i)))
  }

  /** The highest round among the running members. */
  async networkRound (): Promise<number> {
    return Math.max(...(await this.statuses()).map((s) => s.round))
  }

  /** Sum of the given refusal reasons over the given members' counters. */
  static refused (statuses: PeerStatus[], reasons: string[]): number {
    return statuses.reduce((n, s) => n + reasons.reduce((m, r) => m + (s.refusedByReason[r] ?? 0), 0), 0)
  }

  /** Stops member `i`: SIGTERM (clean) or SIGKILL. */
  async stop (i: number, how: 'term' | 'kill'): Promise<void> {
    const d = this.daemon(i)
    this.daemons[i] = null
    if (how === 'kill') await d.kill()
    else await d.stop()
  }

  /** The database folder of member `i` (its identity stays beside it). */
  dbDir (i: number): string { return join(this.datadirs[i], 'db') }

  /** `murmur log --verify --json` on a stopped member's datadir, as an operator runs it. */
  async verifyLog (i: number): Promise<{ ok: boolean, errors: string[] }> {
    try {
      const r = await exec(process.execPath, [MURMUR_BIN, 'log', '--verify', '--json', '--datadir', this.datadirs[i]], { cwd: REPO_ROOT, env: { ...process.env, MURMUR_LOG_LEVEL: 'silent' } })
      const report = JSON.parse(r.stdout) as { ok: boolean, errors?: string[] }
      return { ok: report.ok, errors: report.errors ?? [] }
    } catch (err) {
      return { ok: false, errors: [(err as Error).message.slice(0, 500)] }
    }
  }

  /**
   * Every running member's model on the held-out rows: the primary metric per member, its mean and spread, and
   * the members' consensus distance (the simulator's: RMS distance of the models from their mean).
   */
  async evaluate (): Promise<{ values: number[], mean: number, spread: number, consensus: number } | null> {
    try {
      const { evaluateWeightsOnFile } = await import('../wiring.js')
      const { consensusDistance } = await import('../../simulations/stats.js')
      const values: number[] = []
      const models: Float32Array[] = []
      for (const i of this.running()) {
        const m = await this.daemon(i).get<{ weights: string }>('/model')
        const buf = Buffer.from(m.weights, 'base64')
        const w = new Float32Array(buf.length / 4)
        new Uint8Array(w.buffer).set(buf)
        const r = await evaluateWeightsOnFile(this.manifest, this.testFile, w)
        this.metricName = r.primary.name
        values.push(r.metrics[r.primary.name])
        models.push(w)
      }
      if (values.length === 0) return null
      const mean = values.reduce((a, b) => a + b, 0) / values.length
      return { values, mean, spread: Math.max(...values) - Math.min(...values), consensus: consensusDistance(models).rms }
    } catch (err) {
      this.say(`evaluation failed: ${(err as Error).message}`)
      return null
    }
  }

  async waitFor<T> (what: string, probe: () => Promise<T>, cond: (v: T) => boolean, timeoutMs = FAULT_STEP_TIMEOUT_MS): Promise<T> {
    return await waitFor(what, probe, cond, { timeoutMs, intervalMs: 250, signal: this.init.signal })
  }

  /** Waits until the network has run `rounds` more rounds than now. */
  async runRounds (rounds: number): Promise<void> {
    const target = (await this.networkRound()) + rounds
    await this.waitFor(`the network past round ${target}`, async () => await this.networkRound(), (r) => r >= target)
  }

  async close (): Promise<void> {
    await Promise.all(this.daemons.map(async (d) => await d?.stop().catch(() => -1)))
    this.daemons.fill(null)
    await Promise.all(this.proxies.map(async (p) => { await p.close() }))
    await this.loss?.close()
    this.loss = null
    if (this.own && this.init.keep !== true && this.dir !== '') rmSync(this.dir, { recursive: true, force: true })
  }
}
