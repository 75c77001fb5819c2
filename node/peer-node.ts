/**
 * `PeerNode`: the daemon as wiring (lodestar's `BeaconNode.init` shape). `init` builds one modules object,
 * `start` starts it in order, `close` closes it in the reverse order, and a failure half way through either
 * closes what was already opened or started:
 *
 *   init:  identity -> store -> manifest + keyring -> metrics -> transport (libp2p, not started) -> learner
 *          -> envelopes -> engine -> data feed -> services (manifest sync, connection keeper, ...)
 *   start: transport -> services, in order -> engine state (checkpoint) -> data feed -> HTTP API -> round loop
 *
 * A new service is a file under node/services/ and one line in `services` below.
 *
 * @example
 * ```ts
 * const node = await PeerNode.init({ datadir, network: 'network.json', data: 'mine.csv', listen: ['/ip4/127.0.0.1/tcp/0'] })
 * await node.start()            // on failure: everything started is closed again, then it throws
 * console.log(node.status, node.addresses(), node.api?.url)
 * await node.close()            // checkpoint, stop the services and libp2p, close the database
 * ```
 */
import { writeFile, rm, stat } from 'node:fs/promises'
import type { Stats } from 'node:fs'
import { join, resolve } from 'node:path'
import { createHash } from 'node:crypto'
import { createLogger, type Logger } from './logger.js'
import { defaultPeerNodeOptions, API_FILE, DB_DIR, type PeerNodeOptions } from './constants.js'
import { PeerNodeConfigError } from './errors.js'
import { LevelStore } from './store/index.js'
import { createLibp2pTransport, type Libp2pTransport, type Membership } from './transport/index.js'
import type { ServiceNetwork } from './transport/service-network.js'
import { startApiServer, nodeRoutes, ensureApiToken, type ApiServer, type NodeProgress } from './api/index.js'
import { PromMetrics } from './metrics.js'
import { wallClock } from './clock.js'
import { DataFeed } from './data-feed.js'
import { createDaemonEnvelopes, createDaemonLearner, localDatasetSpec, LiveKeyring, networkMessageLimit, type DaemonLearner } from './wiring.js'
import { loadIdentity, type Identity } from './keystore.js'
import { guardPrivacy, savedPrivacy } from './privacy.js'
import { buildServices, CloseStack, type NodeComponents, type Startable } from './services/index.js'
import { manifestSync, loadManifest, type ManifestResult, type ManifestSource, type SubmitOptions } from './services/manifest-sync/index.js'
import { stateSync } from './services/state-sync/index.js'
import { connectionKeeper } from './services/connection-keeper/index.js'
import { instanceCheck, INSTANCE_CLASH_HEALTH_MS } from './services/instance-check/index.js'
import { roundStallMs } from './health.js'
import { createKeyring, serializeManifest, isMember, type NetworkManifest } from '../protocol/membership/index.js'
import { peerEngine, type Envelopes, type PeerEngine, type RoundReport } from '../protocol/engine/index.js'
import { createRng } from '../protocol/rng.js'
import { parseDaemonAttack, daemonBehaviour } from './attack.js'
import { toHex } from '../crypto/index.js'
import { DatasetLearner } from '../learning/index.js'
import { DaemonPersonal } from './personal.js'

export { PeerNodeConfigError } from './errors.js'
export { loadManifest, MANIFEST_PROTOCOL, WATCH_NETWORK_MS, type ManifestResult, type ManifestSource } from './services/manifest-sync/index.js'

/** Where a node is in its life; `close()` from any state ends in `closed`. */
export const PeerNodeStatus = { init: 'init', starting: 'starting', running: 'running', stopping: 'stopping', closed: 'closed' } as const
export type PeerNodeStatus = typeof PeerNodeStatus[keyof typeof PeerNodeStatus]

export class PeerNodeStateError extends Error {
  static override name = 'PeerNodeStateError'
  override name = 'PeerNodeStateError'
}

export type PeerNodeInit = Partial<PeerNodeOptions> & Pick<PeerNodeOptions, 'network' | 'data'> & {
  /** How often the `--network` file is checked for a newer manifest version (ms; 0 disables). */
  watchNetworkMs?: number
  /** Largest manifest announced whole on gossipsub; above it a notice is announced and peers fetch it. */
  manifestAnnounceMaxBytes?: number
}

/** Parts replaced for tests or embedding, and the signal that abandons `init`. */
export interface PeerNodeInitOptions {
  learner?: DaemonLearner
  envelopes?: Envelopes
  logger?: Logger
  signal?: AbortSignal
}

export interface ApiFile { url: string, pid: number, peerId: string, addresses: string[], token?: boolean }

/** Everything a running node is made of; built once by `PeerNode.init`. */
export interface PeerNodeModules {
  options: PeerNodeOptions
  log: Logger
  identity: Identity
  peerKey: string
  keyring: LiveKeyring
  store: LevelStore
  metrics: PromMetrics
  transport: Libp2pTransport
  network: ServiceNetwork
  learner: DaemonLearner
  engine: PeerEngine
  feed: DataFeed
  services: PeerNodeServices
  progress: NodeProgress
  /** The personal model (`--personal` with a dataset learner), else null. */
  personal: DaemonPersonal | null
}

function createServices (init: PeerNodeInit, options: PeerNodeOptions, components: NodeComponents, maxMessageBytes: number) {
  return buildServices(components, {
    manifestSync: manifestSync({
      networkFile: resolve(options.network),
      watchNetworkMs: init.watchNetworkMs,
      announceMaxBytes: init.manifestAnnounceMaxBytes,
      passphrase: options.passphrase ?? process.env.MURMUR_PASSPHRASE
    }),
    keeper: connectionKeeper({ bootstrap: options.bootstrap, targetPeers: options.targetPeers, isolatedLimitMs: options.isolatedLimitMs, seed: options.seed ?? seedFromKey(components.peerKey) }),
    stateSync: stateSync({ maxBytes: maxMessageBytes }),
    instanceCheck: instanceCheck()
  })
}
export type PeerNodeServices = ReturnType<typeof createServices>

function seedFromKey (peerKey: string): number {
  return createHash('sha256').update(peerKey).digest().readUInt32BE(0)
}

function mergeOptions (init: PeerNodeInit): PeerNodeOptions {
  const given = Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined))
  const options = { ...defaultPeerNodeOptions, ...given } as PeerNodeOptions
  options.datadir = resolve(options.datadir)
  return options
}

export class PeerNode {
  readonly controller = new AbortController()
  readonly startedAt = Date.now()
  private _status: PeerNodeStatus = PeerNodeStatus.init
  private closing: Promise<void> | null = null
  private engineStarted: Promise<void> = Promise.resolve()
  api: ApiServer | null = null
  /** Error that stopped the node (engine start failure), if any. */
  failure: Error | null = null

  private constructor (readonly modules: PeerNodeModules, private readonly closers: CloseStack) {}

  static async init (init: PeerNodeInit, opts: PeerNodeInitOptions = {}): Promise<PeerNode> {
    const options = mergeOptions(init)
    const signal = opts.signal
    const root = opts.logger ?? createLogger('murmur')
    let log = root
    const closers = new CloseStack((name, err) => { log.warn({ err: err.message, component: name }, 'error while closing') })
    try {
      signal?.throwIfAborted()
      // a bad --attack fails before anything is opened
      const attack = options.attack != null ? await parseDaemonAttack(options.attack) : null
      const identity = await loadIdentity(options.datadir)
      const peerKey = toHex(identity.signPublicKey)
      log = root.child({ peer: peerKey.slice(0, 12) })

      const dbPath = join(options.datadir, DB_DIR)
      const store = await LevelStore.open(dbPath, {
        keepCheckpoints: options.keepCheckpoints,
        retention: { maxBytes: options.logMaxBytes, maxAgeMs: options.logMaxAgeMs },
        metricsKeep: options.metricsKeep
      })
      closers.push('store', async () => { await store.close() })
      if (store.created) log.warn({ db: dbPath }, 'no database in this datadir: starting with an empty store (a first start, or a lost database); the network\'s state is fetched from members')

      const { manifest, changed } = await loadManifest(options.network, store, log.child({ component: 'manifest' }))
      if (!isMember(manifest, peerKey)) throw new PeerNodeConfigError(`this identity (${peerKey}) is not a member of network "${manifest.name}" (${options.network}, version ${manifest.version}); ask an admin to run \`murmur network add-member\``)
      const keyring = new LiveKeyring(createKeyring(manifest, { identity, passphrase: options.passphrase ?? process.env.MURMUR_PASSPHRASE }))
      if (keyring.warning != null) log.warn(keyring.warning)
      const dataPath = resolve(options.data)
      const dataInfo = await stat(dataPath).catch(() => null)
      if (dataInfo == null) throw new PeerNodeConfigError(`--data ${options.data}: no such file or directory`)
      if (changed || (await store.identity()) == null || (await store.getMeta<{ data: string }>('daemon'))?.data !== dataPath) {
        await store.commit({
          meta: { daemon: { data: dataPath, network: resolve(options.network) } },
          identity: { peerKey, keyFile: join(options.datadir, 'identity.json'), createdAt: Date.now() },
          manifests: [{ version: manifest.version, bytes: new TextEncoder().encode(serializeManifest(manifest)) }],
          keyEpochs: manifest.epochs.map((e) => ({ epoch: e.epoch, bytes: new TextEncoder().encode(JSON.stringify(e)) }))
        })
      }
      signal?.throwIfAborted()

      const metrics = new PromMetrics({ onUndeclared: (name, detail) => { log.warn({ metric: name, detail }, 'metric dropped') } })
      const libp2pMetrics = await metrics.libp2pMetrics().catch((err: Error) => { log.warn({ err: err.message }, 'libp2p metrics unavailable'); return null })
      const membership: Membership = { isMember: manifest.open != null ? null : (k) => keyring.isMember(k) }
      const loopback = options.listen.every((a) => a.startsWith('/ip4/127.') || a.startsWith('/ip6/::1/') || a.startsWith('/memory/'))
      const transport = await createLibp2pTransport({
        seed: identity.seed,
        networkId: manifest.id,
        transport: 'tcp',
        listen: options.listen,
        announce: options.announce,
        dialFrom: options.dialFrom,
        bootstrap: options.bootstrap,
        membership,
        loopbackTestNetwork: loopback,
        maxMessageBytes: options.maxMessageBytes,
        targetPeers: options.targetPeers,
        metrics: libp2pMetrics ?? undefined,
        log: log.child({ component: 'transport' })
      })
      closers.push('libp2p', async () => { await transport.stop() })

      const seed = options.seed ?? seedFromKey(peerKey)
      const privacyState = await savedPrivacy(store, manifest.id, log)
      const learner = opts.learner ?? await createDaemonLearner({ manifest, dataFile: dataPath, seed, backend: options.backend, onBadRow: options.onBadRow, privacyState })
      guardPrivacy(learner, store, manifest.id, log.child({ component: 'privacy' }))
      closers.push('learner', () => { learner.dispose?.() })
      signal?.throwIfAborted()

      transport.limitMessages(networkMessageLimit(manifest, learner.numParams))
      const envelopes = opts.envelopes ?? createDaemonEnvelopes({
        manifest, keyring, identity, schemaHash: learner.schemaHash, numParams: learner.numParams, maxBytes: transport.maxMessageBytes
      })
      const behaviour = attack != null ? await daemonBehaviour(attack, { members: manifest.members.length, roundMs: options.roundIntervalMs, transport, log: log.child({ component: 'attack' }) }) : null
      if (attack != null) log.warn({ attack: attack.kind, params: attack.params, behaviour: behaviour?.name }, 'THIS DAEMON IS AN ATTACKER (--attack, for testing): what it sends is rewritten by the attack')
      const engine = peerEngine({
        averaging: { rule: manifest.rule.name, ...manifest.rule.params },
        localSteps: options.localSteps,
        evaluateEveryRounds: options.evaluateEveryRounds,
        checkpointEveryRounds: options.checkpointEveryRounds,
        roundIntervalMs: options.roundIntervalMs
      })({
        transport, learner, store, clock: wallClock, rng: createRng(seed).fork('engine'), envelopes, metrics, logger: log.child({ component: 'engine' }), behaviour
      })

      const progress: NodeProgress = { lastReport: null, lastEvaluation: null, rowsAppended: 0, lastRoundAt: null }
      const feed = await createFeed(options, manifest, { path: dataPath, info: dataInfo }, learner, metrics, progress, log.child({ component: 'data' }))
      const network = transport.serviceNetwork()
      const services = createServices(init, options, { peerKey, identity, keyring, store, network, engine, metrics, logger: log }, transport.maxMessageBytes)
      metrics.collectFrom({
        transport: () => ({ stats: transport.stats, neighbours: transport.neighbours().length, connections: transport.connectedPeers().length }),
        examples: () => learner.numExamples(),
        badRows: () => feed.badRows.count,
        manifest: () => ({ version: keyring.manifest.version, epoch: keyring.currentEpoch }),
        store: () => store.size(),
        privacy: () => learner.privacy?.status() ?? null
      })
      const personal = options.personal && learner instanceof DatasetLearner ? new DaemonPersonal(learner, { seed, initSeed: manifest.id }) : null
      if (personal != null) closers.push('personal', () => { personal.dispose() })
      const modules: PeerNodeModules = { options, log, identity, peerKey, keyring, store, metrics, transport, network, learner, engine, feed, services, progress, personal }
      return new PeerNode(modules, closers)
    } catch (err) {
      await closers.closeAll()
      throw err
    }
  }

  get status (): PeerNodeStatus { return this._status }
  get options (): PeerNodeOptions { return this.modules.options }
  get log (): Logger { return this.modules.log }
  get peerKey (): string { return this.modules.peerKey }
  get keyring (): LiveKeyring { return this.modules.keyring }
  get store (): LevelStore { return this.modules.store }
  get transport (): Libp2pTransport { return this.modules.transport }
  get engine (): PeerEngine { return this.modules.engine }
  get metrics (): PromMetrics { return this.modules.metrics }
  get services (): PeerNodeServices { return this.modules.services }
  /** The manifest version this peer holds now (changes when a newer version is adopted). */
  get manifest (): NetworkManifest { return this.modules.keyring.manifest }
  /** Set when an adopted version no longer lists this peer: it stopped learning. */
  get removedAtVersion (): number | null { return this.modules.services.manifestSync.removedAtVersion }

  /** Offers a new manifest version (see ManifestSync.submit). */
  async submitManifest (input: Uint8Array | string, source: ManifestSource, options: SubmitOptions = {}): Promise<ManifestResult> {
    return await this.modules.services.manifestSync.submit(input, source, options)
  }

  /**
   * Starts libp2p, the services, the engine's state, the data feed and the API, then the round loop in the
   * background. A failure on the way closes the whole node (status `closed`) and is thrown.
   */
  async start (options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this._status === PeerNodeStatus.running || this._status === PeerNodeStatus.starting) return
    if (this._status !== PeerNodeStatus.init) throw new PeerNodeStateError(`cannot start a node that is ${this._status}`)
    this._status = PeerNodeStatus.starting
    const m = this.modules
    const signal = options.signal != null ? AbortSignal.any([options.signal, this.controller.signal]) : this.controller.signal
    try {
      await m.transport.start()
      for (const [name, service] of Object.entries(m.services) as Array<[string, Startable]>) {
        signal.throwIfAborted()
        await service.start({ signal })
        this.closers.push(name, async () => { await service.stop() })
      }
      // restore the checkpoint and replay marks, and handle arriving updates, before anything is reported
      m.engine.addEventListener('round', (e) => { this.onRound(e.detail) })
      m.engine.addEventListener('error', (e) => { m.log.error({ err: e.detail.message }, 'engine error') })
      await m.engine.init({ signal })
      m.feed.start()
      this.closers.push('data feed', async () => { await m.feed.stop() })
      await this.startApi()
      signal.throwIfAborted()
    } catch (err) {
      await this.close()
      throw err
    }
    this._status = PeerNodeStatus.running
    m.log.info({ addresses: this.addresses(), api: this.api?.url, network: this.manifest.name, rule: this.manifest.rule.name }, 'peer started')
    this.engineStarted = this.startEngine().catch((err) => {
      m.log.error({ err: (err as Error).message }, 'the engine failed to start')
      this.failure = err as Error
      this.controller.abort(err)
    })
  }

  private async startApi (): Promise<void> {
    const m = this.modules
    const token = m.options.apiToken ?? process.env.MURMUR_API_TOKEN ?? await ensureApiToken(m.options.datadir)
    const api = await startApiServer({
      listen: m.options.api,
      token,
      log: m.log.child({ component: 'api' }),
      routes: nodeRoutes({
        ...m, manifestSync: m.services.manifestSync, stateSync: m.services.stateSync, startedAt: this.startedAt, dataFile: m.options.data, signal: this.controller.signal,
        keeper: m.services.keeper,
        instanceCheck: m.services.instanceCheck,
        health: { manifestSync: m.services.manifestSync, keeper: m.services.keeper, store: m.store, progress: m.progress, identityClashAt: () => m.services.instanceCheck.clashAt, identityInUseMs: INSTANCE_CLASH_HEALTH_MS, startedAt: this.startedAt, roundStallMs: roundStallMs(m.options.roundIntervalMs) }
      })
    })
    this.api = api
    const apiFile = join(m.options.datadir, API_FILE)
    this.closers.push('api', async () => { await rm(apiFile, { force: true }); await api.close() })
    const info: ApiFile = { url: api.url, pid: process.pid, peerId: m.network.peerId.toString(), addresses: this.addresses(), token: token != null }
    await writeFile(apiFile, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 })
  }

  /** Waits for `waitForPeers` neighbours (when set), then starts the round loop. */
  private async startEngine (): Promise<void> {
    const m = this.modules
    if (m.options.waitForPeers > 0) {
      const until = Date.now() + m.options.waitForPeersTimeoutMs
      m.log.info({ peers: m.options.waitForPeers }, 'waiting for neighbours before the first round')
      while (m.transport.neighbours().length < m.options.waitForPeers && Date.now() < until && !this.controller.signal.aborted) {
        await wallClock.sleep(100).catch(() => {})
      }
    }
    this.controller.signal.throwIfAborted()
    if (this.removedAtVersion != null) return // removed from the network while waiting: never start
    await m.engine.start({ signal: this.controller.signal })
    this.closers.push('engine', async () => { await m.engine.stop() })
  }

  private onRound (r: RoundReport): void {
    const m = this.modules
    m.progress.lastReport = r
    m.progress.lastRoundAt = Date.now()
    if (r.evaluation != null) m.progress.lastEvaluation = r.evaluation
    m.personal?.onRound(r)
    m.log.info({ round: r.round, loss: Number.isFinite(r.loss) ? Number(r.loss.toFixed(5)) : null, merged: r.updatesMerged, sent: r.updatesSent, neighbours: m.transport.neighbours().length, ...(r.evaluation != null ? { evaluation: r.evaluation } : {}) }, 'round')
    if (m.options.maxRounds > 0 && r.round + 1 >= m.options.maxRounds) {
      m.log.info({ rounds: r.round + 1 }, 'reached --max-rounds')
      this.controller.abort(new Error('max rounds reached'))
    }
  }

  addresses (): string[] { return this.modules.transport.addresses() }

  /** Resolves when the node has been asked to stop (signal, --max-rounds, a failed engine start). */
  async stopped (): Promise<void> {
    if (this.controller.signal.aborted) return
    await new Promise<void>((resolve) => { this.controller.signal.addEventListener('abort', () => { resolve() }, { once: true }) })
  }

  /** Final checkpoint (engine.stop writes it), API, feed, services, libp2p, store: the reverse of their start. */
  async close (): Promise<void> {
    if (this.closing != null) { await this.closing; return }
    this.closing = (async () => {
      this._status = PeerNodeStatus.stopping
      if (!this.controller.signal.aborted) this.controller.abort(new Error('closing'))
      await this.engineStarted
      await this.closers.closeAll()
      this._status = PeerNodeStatus.closed
      this.modules.log.info('peer stopped')
    })()
    await this.closing
  }
}

/** The data feed (continuous learning): rows appended to the data file, or new files in the data directory. */
async function createFeed (options: PeerNodeOptions, manifest: NetworkManifest, data: { path: string, info: Stats }, learner: DaemonLearner, metrics: PromMetrics, progress: NodeProgress, log: Logger): Promise<DataFeed> {
  const dataPath = data.path
  const dataSpec = localDatasetSpec(manifest, dataPath, { onBadRow: options.onBadRow }) as { format?: Record<string, unknown>, onBadRow?: 'error' | 'skip' }
  const initialOffsets = new Map<string, number>()
  if (data.info.isFile()) initialOffsets.set(dataPath, learner.loadedBytes ?? data.info.size)
  else if (learner.loadedFile != null) initialOffsets.set(learner.loadedFile, learner.loadedBytes ?? (await stat(learner.loadedFile)).size)
  return new DataFeed({
    path: dataPath,
    pollMs: options.dataPollMs,
    initialOffsets,
    format: dataSpec.format,
    onBadRow: dataSpec.onBadRow,
    onRecords: (records, source, batch) => {
      if (learner.appendRecords == null) throw new Error('this learner cannot grow: restart the daemon to train on new rows')
      const added = learner.appendRecords(records, source, batch)
      progress.rowsAppended += added
      metrics.node.dataRowsAppended.inc(added)
      log.info({ rows: added, source, examples: learner.numExamples() }, 'new rows: training on them from the next round')
    },
    onError: (err, source) => { log.warn({ err: err.message, source }, 'data feed problem') }
  })
}
