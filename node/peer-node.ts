/**
 * `PeerNode.init(options)`: the ONE place that wires the daemon (lodestar style). One AbortController, child
 * loggers, and `close()` in the reverse order of construction:
 *
 *   identity (keystore) -> manifest + keyring -> LevelStore -> libp2p transport -> learner -> envelopes
 *   -> PeerEngine -> data feed (continuous learning) -> HTTP API
 *
 * @example
 * ```ts
 * const node = await PeerNode.init({ datadir, network: 'network.json', data: 'mine.csv', listen: ['/ip4/127.0.0.1/tcp/0'] })
 * console.log(node.addresses())
 * await node.start()
 * // ... later (SIGINT/SIGTERM): checkpoint, stop libp2p, close the database
 * await node.close()
 * ```
 */
import { readFile, writeFile, rm, stat } from 'node:fs/promises'
import { watchFile, unwatchFile } from 'node:fs'
import { join, resolve } from 'node:path'
import { createHash } from 'node:crypto'
import { createLogger, type Logger } from './logger.js'
import { defaultPeerNodeOptions, API_FILE, DB_DIR, type PeerNodeOptions } from './constants.js'
import { LevelStore } from './store/index.js'
import { createLibp2pTransport, peerKeyFromPeerId, manifestTopic, type Libp2pTransport, type Membership } from './transport/index.js'
import { startApiServer, type ApiServer } from './api/index.js'
import { PromMetrics } from './metrics.js'
import { wallClock } from './clock.js'
import { DataFeed } from './data-feed.js'
import { readLogLines, verifyStoredLog } from './audit.js'
import { createDaemonEnvelopes, createDaemonLearner, localDatasetSpec, LiveKeyring, networkMessageLimit, type DaemonLearner } from './wiring.js'
import { loadIdentity, type Identity } from './keystore.js'
import {
  parseManifest, verifyManifest, sameManifest, createKeyring, serializeManifest, isMember, checkManifestUpdate, checkManifestAnnouncement,
  manifestAnnouncement, canonicalJson, MANIFEST_MAX_BYTES, MANIFEST_ANNOUNCE_MAX_BYTES, type NetworkManifest, type ManifestCheck
} from '../protocol/membership/index.js'
import { peerEngine, type Envelopes, type PeerEngine, type RoundReport } from '../protocol/engine/index.js'
import { createRng } from '../protocol/rng.js'
import { toHex } from '../crypto/index.js'
import { gossipVerdict, type RefusalReason } from '../protocol/interfaces.js'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId, Stream } from '@libp2p/interface'
import { readMessage, writeMessage } from './transport/update-stream.js'

export class PeerNodeConfigError extends Error {
  static override name = 'PeerNodeConfigError'
  override name = 'PeerNodeConfigError'
}

export type PeerNodeInit = Partial<PeerNodeOptions> & Pick<PeerNodeOptions, 'network' | 'data'> & {
  /** How often the `--network` file is checked for a newer manifest version (ms; 0 disables). */
  watchNetworkMs?: number
  /** Largest manifest announced whole on gossipsub; above it a notice is announced and peers fetch it. */
  manifestAnnounceMaxBytes?: number
}

/** Default poll interval of the `--network` file (a newer, valid version in it is adopted live). */
export const WATCH_NETWORK_MS = 2000

/** Replace parts for tests or embedding (the simulator's libp2p mode wires its own). */
export interface PeerNodeOverrides {
  learner?: DaemonLearner
  envelopes?: Envelopes
  logger?: Logger
}

/** Direct stream serving this peer's current manifest (for versions too large to announce on gossipsub). */
export const MANIFEST_PROTOCOL = '/murmur/manifest/1.0.0'
const MANIFEST_FETCH_TIMEOUT_MS = 10_000

/** Where a candidate manifest version came from. */
export type ManifestSource = 'api' | 'gossip' | 'file'

/** The answer to a manifest submission (the API's `POST /manifest` returns it). */
export interface ManifestResult {
  /** True when this version was adopted now. */
  adopted: boolean
  /** The version this peer holds after the call. */
  version: number
  epoch: number
  /** The candidate was exactly the version this peer already holds. */
  alreadyCurrent?: boolean
  reason?: RefusalReason
  detail?: string
  /** Members of the previous version that are not members any more. */
  removed?: string[]
  added?: string[]
  /** Connections closed because the peer is no longer a member. */
  closedConnections?: number
  /** This peer itself is not a member of the adopted version (it stops learning). */
  selfRemoved?: boolean
  /** The change touches the model, dataset or averaging rule: those apply at the next restart. */
  restartRequired?: string[]
  announced?: boolean
}

export interface ApiFile { url: string, pid: number, peerId: string, addresses: string[], token?: boolean }

/** Reads the network file and reconciles it with the manifest stored in the database. */
export async function loadManifest (path: string, store: LevelStore | null, log?: Logger): Promise<{ manifest: NetworkManifest, changed: boolean }> {
  let text: string
  try { text = await readFile(path, 'utf8') } catch (err) {
    throw new PeerNodeConfigError(`cannot read the network file ${path}: ${(err as Error).message}`)
  }
  const fromFile = parseManifest(text, path)
  const storedRaw = store != null ? await store.latestManifest() : undefined
  const stored = storedRaw != null ? parseManifest(new TextDecoder().decode(storedRaw.bytes), `${path} (stored version ${storedRaw.version})`) : null
  if (stored == null) {
    // first sight: trust the operator's file, but it must be internally consistent and signed by its admins
    verifyManifest(fromFile, null, { trustVersion: true })
    return { manifest: fromFile, changed: true }
  }
  if (stored.id !== fromFile.id) throw new PeerNodeConfigError(`${path} is network ${fromFile.id.slice(0, 16)}…, but this datadir belongs to network ${stored.id.slice(0, 16)}…`)
  if (fromFile.version > stored.version) {
    verifyManifest(fromFile, stored)
    return { manifest: fromFile, changed: true }
  }
  if (fromFile.version === stored.version && !sameManifest(fromFile, stored)) {
    throw new PeerNodeConfigError(`${path}: version ${fromFile.version} differs from the version ${stored.version} stored in the datadir (two different manifests with one version number)`)
  }
  if (fromFile.version < stored.version) log?.warn({ file: fromFile.version, stored: stored.version }, `${path} is older than the manifest stored in the datadir; using the stored version`)
  return { manifest: stored, changed: false }
}

function numberParam (q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name)
  if (v == null || v === '') return undefined
  const n = Number(v)
  return Number.isInteger(n) && n >= 0 ? n : undefined
}

function seedFromKey (peerKey: string): number {
  return createHash('sha256').update(peerKey).digest().readUInt32BE(0)
}

export class PeerNode {
  readonly controller = new AbortController()
  readonly startedAt = Date.now()
  private readonly closers: Array<{ name: string, close: () => Promise<void> | void }> = []
  private lastReport: RoundReport | null = null
  private lastEvaluation: Record<string, number> | null = null
  private rowsAppended = 0
  private started = false
  private closing: Promise<void> | null = null
  /** Manifest submissions run one at a time (validation, batch, swap). */
  private manifestQueue: Promise<unknown> = Promise.resolve()
  private readonly manifestRefused: Partial<Record<RefusalReason, number>> = {}
  private manifestAdopted = 0
  private lastAnnouncedAt = 0
  /** Set when an adopted version no longer lists this peer: it stopped learning. */
  removedAtVersion: number | null = null
  private watchNetworkMs = WATCH_NETWORK_MS
  private manifestAnnounceMaxBytes = MANIFEST_ANNOUNCE_MAX_BYTES
  api: ApiServer | null = null

  private constructor (
    readonly options: PeerNodeOptions,
    readonly log: Logger,
    readonly identity: Identity,
    readonly peerKey: string,
    readonly keyring: LiveKeyring,
    readonly store: LevelStore,
    readonly transport: Libp2pTransport,
    readonly learner: DaemonLearner,
    readonly engine: PeerEngine,
    readonly metrics: PromMetrics,
    readonly feed: DataFeed
  ) {}

  static async init (init: PeerNodeInit, overrides: PeerNodeOverrides = {}): Promise<PeerNode> {
    const options: PeerNodeOptions = { ...defaultPeerNodeOptions, ...Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined)) } as PeerNodeOptions
    options.datadir = resolve(options.datadir)
    const root = overrides.logger ?? createLogger('murmur')
    const closers: Array<{ name: string, close: () => Promise<void> | void }> = []
    const undo = async (): Promise<void> => {
      for (const c of closers.reverse()) { try { await c.close() } catch {} }
    }
    try {
      const identity = await loadIdentity(options.datadir)
      const peerKey = toHex(identity.signPublicKey)
      const log = root.child({ peer: peerKey.slice(0, 12) })

      const store = await LevelStore.open(join(options.datadir, DB_DIR), { keepCheckpoints: options.keepCheckpoints })
      closers.push({ name: 'store', close: async () => { await store.close() } })

      const { manifest, changed } = await loadManifest(options.network, store, log.child({ component: 'manifest' }))
      if (!isMember(manifest, peerKey)) throw new PeerNodeConfigError(`this identity (${peerKey}) is not a member of network "${manifest.name}" (${options.network}, version ${manifest.version}); ask an admin to run \`murmur network add-member\``)
      const keyring = new LiveKeyring(createKeyring(manifest, { identity, passphrase: options.passphrase ?? process.env.MURMUR_PASSPHRASE }))
      if (keyring.warning != null) log.warn(keyring.warning)
      const dataPathAbs = resolve(options.data)
      if (changed || (await store.identity()) == null || (await store.getMeta<{ data: string }>('daemon'))?.data !== dataPathAbs) {
        await store.commit({
          meta: { daemon: { data: dataPathAbs, network: resolve(options.network) } },
          identity: { peerKey, keyFile: join(options.datadir, 'identity.json'), createdAt: Date.now() },
          manifests: [{ version: manifest.version, bytes: new TextEncoder().encode(serializeManifest(manifest)) }],
          keyEpochs: manifest.epochs.map((e) => ({ epoch: e.epoch, bytes: new TextEncoder().encode(JSON.stringify(e)) }))
        })
      }

      const metrics = new PromMetrics()
      const membership: Membership = { isMember: manifest.open != null ? null : (k) => keyring.isMember(k) }
      const loopback = options.listen.every((a) => a.startsWith('/ip4/127.') || a.startsWith('/ip6/::1/') || a.startsWith('/memory/'))
      let libp2pMetrics: ((components: any) => any) | undefined
      try {
        const { prometheusMetrics } = await import('@libp2p/prometheus-metrics')
        libp2pMetrics = prometheusMetrics({ registry: metrics.registry, preserveExistingMetrics: true, collectDefaultMetrics: true })
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'libp2p metrics unavailable')
      }
      const transport = await createLibp2pTransport({
        seed: identity.seed,
        networkId: manifest.id,
        transport: 'tcp',
        listen: options.listen,
        bootstrap: options.bootstrap,
        membership,
        loopbackTestNetwork: loopback,
        maxMessageBytes: options.maxMessageBytes,
        targetPeers: options.targetPeers,
        metrics: libp2pMetrics,
        log: log.child({ component: 'transport' })
      })
      closers.push({ name: 'libp2p', close: async () => { await transport.stop() } })

      const dataPath = resolve(options.data)
      const dataInfo = await stat(dataPath).catch(() => null)
      if (dataInfo == null) throw new PeerNodeConfigError(`--data ${options.data}: no such file or directory`)
      const seed = options.seed ?? seedFromKey(peerKey)
      const learner = overrides.learner ?? await createDaemonLearner({ manifest, dataFile: dataPath, seed, backend: options.backend })
      closers.push({ name: 'learner', close: () => { learner.dispose?.() } })

      transport.limitMessages(networkMessageLimit(manifest, learner.numParams))
      const envelopes = overrides.envelopes ?? createDaemonEnvelopes({
        manifest, keyring, identity, schemaHash: learner.schemaHash, numParams: learner.numParams, maxBytes: transport.maxMessageBytes
      })

      const engine = peerEngine({
        averaging: { rule: manifest.rule.name, ...manifest.rule.params },
        localSteps: options.localSteps,
        evaluateEveryRounds: options.evaluateEveryRounds,
        checkpointEveryRounds: options.checkpointEveryRounds,
        roundIntervalMs: options.roundIntervalMs
      })({
        transport, learner, store, clock: wallClock, rng: createRng(seed).fork('engine'), envelopes, metrics, logger: log.child({ component: 'engine' })
      })

      const dataFormat = (localDatasetSpec(manifest, dataPath).format ?? {}) as { delimiter?: string, header?: boolean }
      const initialOffsets = new Map<string, number>()
      if (dataInfo.isFile()) initialOffsets.set(dataPath, learner.loadedBytes ?? dataInfo.size)
      else if (learner.loadedFile != null) initialOffsets.set(learner.loadedFile, learner.loadedBytes ?? (await stat(learner.loadedFile)).size)
      const feedLog = log.child({ component: 'data' })
      let node: PeerNode | null = null
      const feed = new DataFeed({
        path: dataPath,
        pollMs: options.dataPollMs,
        initialOffsets,
        delimiter: dataFormat.delimiter,
        header: dataFormat.header ?? true,
        onRecords: (records, source) => {
          if (learner.appendRecords == null) throw new Error('this learner cannot grow: restart the daemon to train on new rows')
          const added = learner.appendRecords(records, source)
          if (node != null) node.rowsAppended += added
          metrics.increment('murmur_data_rows_appended_total', {}, added)
          feedLog.info({ rows: added, source, examples: learner.numExamples() }, 'new rows: training on them from the next round')
        },
        onError: (err, source) => { feedLog.warn({ err: err.message, source }, 'data feed problem') }
      })

      node = new PeerNode(options, log, identity, peerKey, keyring, store, transport, learner, engine, metrics, feed)
      if (init.watchNetworkMs != null) node.watchNetworkMs = init.watchNetworkMs
      if (init.manifestAnnounceMaxBytes != null) node.manifestAnnounceMaxBytes = Math.min(init.manifestAnnounceMaxBytes, MANIFEST_ANNOUNCE_MAX_BYTES)
      node.closers.push(...closers)
      return node
    } catch (err) {
      await undo()
      throw err
    }
  }

  /** The manifest version this peer holds now (changes when a newer version is adopted). */
  get manifest (): NetworkManifest { return this.keyring.manifest }

  /**
   * Offers a new manifest version (an operator's `murmur network publish`, a gossipsub announcement, or the
   * watched `--network` file). Checked cheapest first against the current version (same network, strictly
   * higher version, `threshold` valid signatures of the current admins); refusals are named and counted
   * (`murmur_manifest_refused_total{reason}`). On success, one atomic batch stores the version and its key
   * epochs, then the keyring (validator, sealer, connection gater) is swapped, connections to peers that are
   * no longer members are closed, and the version is announced on the manifest topic.
   */
  async submitManifest (input: Uint8Array | string, source: ManifestSource, options: { from?: string, fromPeer?: PeerId, signal?: AbortSignal } = {}): Promise<ManifestResult> {
    const run = async (): Promise<ManifestResult> => {
      options.signal?.throwIfAborted()
      const current = this.manifest
      let check: ManifestCheck
      if (source === 'gossip') {
        const a = checkManifestAnnouncement(current, typeof input === 'string' ? new TextEncoder().encode(input) : input, { maxBytes: MANIFEST_ANNOUNCE_MAX_BYTES })
        if (!a.ok && a.reason === null) {
          // a notice of a version too large for gossipsub: fetch it from the peer that forwarded the notice
          // (gossipsub forwards only what a peer accepted, i.e. adopted, so that peer can serve it)
          if (options.fromPeer == null) return { adopted: false, version: current.version, epoch: this.keyring.currentEpoch }
          let fetched: Uint8Array
          try {
            fetched = await this.fetchManifest(options.fromPeer, options.signal)
          } catch (err) {
            this.log.debug({ err: (err as Error).message, version: a.fetch.version }, 'cannot fetch the announced manifest')
            return { adopted: false, version: current.version, epoch: this.keyring.currentEpoch, detail: `cannot fetch version ${a.fetch.version}` }
          }
          check = checkManifestUpdate(current, fetched, { maxBytes: MANIFEST_MAX_BYTES })
        } else {
          check = a as ManifestCheck
        }
      } else {
        check = checkManifestUpdate(current, input, { maxBytes: MANIFEST_MAX_BYTES })
      }
      if (!check.ok) return this.refuseManifest(check, source, options.from)
      return await this.adoptManifest(check.manifest, source, options.from)
    }
    const next = this.manifestQueue.then(run, run)
    this.manifestQueue = next.catch(() => {})
    return await next
  }

  private refuseManifest (check: Extract<ManifestCheck, { ok: false }>, source: ManifestSource, from?: string): ManifestResult {
    const current = this.manifest
    const base = { adopted: false, version: current.version, epoch: this.keyring.currentEpoch }
    if (check.same === true) {
      // the version we hold (an echo, a re-announcement, or an operator publishing twice): not a refusal
      return { ...base, alreadyCurrent: true }
    }
    this.manifestRefused[check.reason] = (this.manifestRefused[check.reason] ?? 0) + 1
    this.metrics.increment('murmur_manifest_refused_total', { reason: check.reason })
    const level = check.reason === 'STALE_MANIFEST' && check.same == null ? 'debug' : 'warn'
    this.log[level]({ reason: check.reason, detail: check.detail, source, ...(from != null ? { from: from.slice(0, 16) } : {}), version: check.version }, 'manifest refused')
    return { ...base, reason: check.reason, detail: check.detail }
  }

  private async adoptManifest (next: NetworkManifest, source: ManifestSource, from?: string): Promise<ManifestResult> {
    const previous = this.manifest
    const selfMember = isMember(next, this.peerKey)
    const keyring = createKeyring(next, {
      identity: this.identity,
      passphrase: this.options.passphrase ?? process.env.MURMUR_PASSPHRASE,
      allowMissingCurrent: !selfMember
    })
    const enc = new TextEncoder()
    const knownEpochs = new Set(previous.epochs.map((e) => e.epoch))
    await this.store.commit({
      manifests: [{ version: next.version, bytes: enc.encode(serializeManifest(next)) }],
      // every epoch record of the new version (new epochs, and the current one when a member was added to it)
      keyEpochs: next.epochs.filter((e) => !knownEpochs.has(e.epoch) || e.epoch === next.epochs[next.epochs.length - 1].epoch)
        .map((e) => ({ epoch: e.epoch, bytes: enc.encode(JSON.stringify(e)) }))
    })
    this.keyring.swap(keyring)
    this.manifestAdopted++
    this.metrics.increment('murmur_manifest_adopted_total', { source })
    this.metrics.set('murmur_manifest_version', next.version)
    this.metrics.set('murmur_key_epoch', keyring.currentEpoch)
    const before = new Set(previous.members.map((m) => m.signKey))
    const after = new Set(next.members.map((m) => m.signKey))
    const removed = [...before].filter((k) => !after.has(k))
    const added = [...after].filter((k) => !before.has(k))
    const restartRequired = (['model', 'dataset', 'rule'] as const).filter((f) => canonicalJson(previous[f] ?? null) !== canonicalJson(next[f] ?? null))
    this.log.info({ version: next.version, previous: previous.version, epoch: keyring.currentEpoch, source, ...(from != null ? { from: from.slice(0, 16) } : {}), added: added.length, removed: removed.length }, 'adopted a new manifest version')
    if (restartRequired.length > 0) this.log.warn({ fields: restartRequired }, 'the new manifest changes the model, dataset or rule: membership applies now, these apply when the daemon restarts')
    // tell the others first (a removed peer may still learn that it was removed), then cut the non-members
    const announced = source !== 'gossip' ? await this.announceManifest(true) : false
    const closed = await this.closeNonMembers()
    let selfRemoved = false
    if (!selfMember) {
      selfRemoved = true
      this.removedAtVersion = next.version
      this.log.error({ version: next.version }, 'this peer is not a member of the adopted manifest version: it cannot read the new key epoch and its updates are refused; learning stops')
      await this.engine.stop().catch((err: Error) => { this.log.warn({ err: err.message }, 'error while stopping the engine') })
    }
    return {
      adopted: true, version: next.version, epoch: keyring.currentEpoch, removed, added, closedConnections: closed,
      selfRemoved, announced, ...(restartRequired.length > 0 ? { restartRequired } : {})
    }
  }

  /** Closes every connection to a peer the current manifest does not list (closed networks). */
  private async closeNonMembers (): Promise<number> {
    if (this.keyring.open) return 0
    const libp2p = this.transport.libp2p
    const peers = new Map<string, Parameters<typeof libp2p.hangUp>[0]>()
    for (const c of libp2p.getConnections()) {
      const key = peerKeyFromPeerId(c.remotePeer)
      if (key == null || !this.keyring.isMember(key)) peers.set(c.remotePeer.toString(), c.remotePeer)
    }
    await Promise.all([...peers.values()].map(async (p) => {
      await libp2p.hangUp(p).catch((err: Error) => { this.log.debug({ err: err.message }, 'hang up failed') })
    }))
    if (peers.size > 0) this.log.info({ peers: peers.size }, 'closed connections to peers that are no longer members')
    return peers.size
  }

  /**
   * Publishes the current manifest on the manifest topic (when it fits the announcement bound). `force`
   * skips the rate limit (one re-announcement per 5 s when new peers subscribe).
   */
  private async announceManifest (force: boolean): Promise<boolean> {
    if (!this.started || this.transport.libp2p.status !== 'started') return false
    const now = Date.now()
    if (!force && now - this.lastAnnouncedAt < 5000) return false
    this.lastAnnouncedAt = now
    const { bytes, notice } = manifestAnnouncement(this.manifest, now, this.manifestAnnounceMaxBytes)
    if (notice) this.log.debug({ version: this.manifest.version }, 'manifest too large for gossipsub: announcing a notice, peers fetch it over ' + MANIFEST_PROTOCOL)
    try {
      await this.transport.libp2p.services.pubsub.publish(manifestTopic(this.manifest.id), bytes)
      return true
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'manifest announcement not sent')
      return false
    }
  }

  /** Fetches a peer's current manifest over MANIFEST_PROTOCOL (bounded by MANIFEST_MAX_BYTES). */
  private async fetchManifest (peer: PeerId, signal?: AbortSignal): Promise<Uint8Array> {
    const timeout = AbortSignal.timeout(MANIFEST_FETCH_TIMEOUT_MS)
    const s = signal != null ? AbortSignal.any([signal, timeout]) : timeout
    const stream = await this.transport.libp2p.dialProtocol(peer, MANIFEST_PROTOCOL, { signal: s })
    try {
      const read = readMessage(stream, MANIFEST_MAX_BYTES)
      const aborted = new Promise<never>((_resolve, reject) => { s.addEventListener('abort', () => { reject(s.reason) }, { once: true }) })
      const bytes = await Promise.race([read, aborted])
      await stream.close().catch(() => {})
      return bytes
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  private async serveManifest (stream: Stream): Promise<void> {
    try {
      await writeMessage(stream, new TextEncoder().encode(JSON.stringify(this.manifest)), 256 * 1024, AbortSignal.timeout(MANIFEST_FETCH_TIMEOUT_MS))
    } catch (err) {
      stream.abort(err as Error)
    }
  }

  /** Subscribes to the manifest topic (validator = adoption), serves MANIFEST_PROTOCOL, watches the --network file. */
  private async startManifestSync (): Promise<void> {
    await this.transport.libp2p.handle(MANIFEST_PROTOCOL, (stream) => { void this.serveManifest(stream) }, { maxInboundStreams: 8, maxOutboundStreams: 8 })
    const pubsub = this.transport.libp2p.services.pubsub
    const topic = manifestTopic(this.manifest.id)
    pubsub.topicValidators.set(topic, async (peerId, msg) => {
      const from = peerKeyFromPeerId(peerId) ?? undefined
      if (this.controller.signal.aborted) return TopicValidatorResult.Ignore
      try {
        const r = await this.submitManifest(msg.data, 'gossip', { from, fromPeer: peerId })
        if (r.adopted) return TopicValidatorResult.Accept
        if (r.alreadyCurrent === true || r.reason == null) return TopicValidatorResult.Ignore
        return gossipVerdict(r.reason) === 'reject' ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'manifest announcement could not be processed')
        return TopicValidatorResult.Ignore
      }
    })
    pubsub.subscribe(topic)
    // a peer that (re)joins the topic may be behind: re-announce a changed manifest (rate-limited)
    const onSubscription = (e: CustomEvent<{ subscriptions: Array<{ topic: string, subscribe: boolean }> }>): void => {
      if (this.manifest.version > 1 && e.detail.subscriptions.some((s) => s.topic === topic && s.subscribe)) void this.announceManifest(false)
    }
    pubsub.addEventListener('subscription-change', onSubscription as never)
    const path = resolve(this.options.network)
    const onFile = (): void => {
      readFile(path).then(async (bytes) => {
        if (bytes.length > MANIFEST_MAX_BYTES) { this.log.warn({ file: path }, 'network file too large'); return }
        const r = await this.submitManifest(new Uint8Array(bytes), 'file')
        if (r.adopted) this.log.info({ file: path, version: r.version }, 'adopted the new version of the --network file')
      }).catch((err: Error) => { this.log.warn({ file: path, err: err.message }, 'cannot read the network file') })
    }
    const pollMs = this.watchNetworkMs
    if (pollMs > 0) watchFile(path, { interval: pollMs, persistent: false }, onFile)
    this.closers.push({
      name: 'manifest sync',
      close: async () => {
        unwatchFile(path, onFile)
        await this.manifestQueue // an adoption in progress finishes its batch before the store closes
        pubsub.removeEventListener('subscription-change', onSubscription as never)
        try { pubsub.unsubscribe(topic); pubsub.topicValidators.delete(topic) } catch {}
        await this.transport.libp2p.unhandle(MANIFEST_PROTOCOL).catch(() => {})
      }
    })
  }

  /** Starts libp2p, joins, starts the engine loop, the data feed and the API. */
  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    await this.transport.start()
    await this.startManifestSync()
    // bootstrap: dial explicitly, and again whenever this peer finds itself with no connection at all
    // (bootstrap peer restarting, network outage), so an isolated daemon rejoins by itself
    const dialBootstrap = (): void => {
      for (const addr of this.options.bootstrap) {
        this.transport.dial(addr, { signal: AbortSignal.timeout(10_000) }).catch((err) => {
          this.log.warn({ addr, err: (err as Error).message }, 'cannot reach bootstrap peer (will retry)')
        })
      }
    }
    dialBootstrap()
    if (this.options.bootstrap.length > 0) {
      const timer = setInterval(() => { if (this.transport.connectedPeers().length === 0) dialBootstrap() }, 5000)
      timer.unref()
      this.closers.push({ name: 'bootstrap redial', close: () => { clearInterval(timer) } })
    }
    // restore the checkpoint and replay marks, and handle arriving updates, before anything is reported
    this.engine.addEventListener('round', (e) => { this.onRound(e.detail) })
    this.engine.addEventListener('error', (e) => { this.log.error({ err: e.detail.message }, 'engine error') })
    await this.engine.init({ signal: this.controller.signal })
    this.feed.start()
    this.closers.push({ name: 'data feed', close: async () => { await this.feed.stop() } })
    const token = this.options.apiToken ?? process.env.MURMUR_API_TOKEN
    this.api = await startApiServer({
      listen: this.options.api,
      token,
      log: this.log.child({ component: 'api' }),
      routes: {
        status: () => this.status(),
        peers: () => this.peers(),
        model: () => this.model(),
        metrics: async () => ({ contentType: this.metrics.contentType, body: await this.metrics.text() }),
        extra: {
          '/log': async (q) => await readLogLines(this.store, { from: numberParam(q, 'from'), limit: numberParam(q, 'limit') ?? 1000, reverse: q.get('reverse') === 'true' }),
          '/log/verify': async () => await verifyStoredLog(this.store),
          '/metrics/history': async (q) => await this.store.metricsHistory({ limit: numberParam(q, 'limit') ?? 1000 })
        },
        post: {
          // `murmur network publish`: 200 adopted (or already held), 409 refused with its reason
          '/manifest': async (body) => {
            const r = await this.submitManifest(body, 'api', { signal: this.controller.signal })
            return { status: r.adopted || r.alreadyCurrent === true ? 200 : 409, json: r }
          }
        }
      }
    })
    const apiFile = join(this.options.datadir, API_FILE)
    const info: ApiFile = { url: this.api.url, pid: process.pid, peerId: this.transport.libp2p.peerId.toString(), addresses: this.addresses(), token: token != null }
    await writeFile(apiFile, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 })
    const api = this.api
    this.closers.push({ name: 'api', close: async () => { await rm(apiFile, { force: true }); await api.close() } })
    this.log.info({ addresses: this.addresses(), api: this.api.url, network: this.manifest.name, rule: this.manifest.rule.name }, 'peer started')
    this.engineStarted = this.startEngine().catch((err) => {
      this.log.error({ err: (err as Error).message }, 'the engine failed to start')
      this.controller.abort(err)
      this.failure = err as Error
    })
  }

  /** Error that stopped the node (engine start failure), if any. */
  failure: Error | null = null
  private engineStarted: Promise<void> = Promise.resolve()

  /** Waits for `waitForPeers` neighbours (when set), restores the checkpoint and starts the round loop. */
  private async startEngine (): Promise<void> {
    if (this.options.waitForPeers > 0) {
      const until = Date.now() + this.options.waitForPeersTimeoutMs
      this.log.info({ peers: this.options.waitForPeers }, 'waiting for neighbours before the first round')
      while (this.transport.neighbours().length < this.options.waitForPeers && Date.now() < until && !this.controller.signal.aborted) {
        await wallClock.sleep(100).catch(() => {})
      }
    }
    this.controller.signal.throwIfAborted()
    if (this.removedAtVersion != null) return // removed from the network while waiting: never start
    await this.engine.start({ signal: this.controller.signal })
    this.closers.push({ name: 'engine', close: async () => { await this.engine.stop() } })
  }

  private onRound (r: RoundReport): void {
    this.lastReport = r
    const t = this.transport.stats
    this.metrics.set('murmur_transport_bytes_sent', t.bytesSent)
    this.metrics.set('murmur_transport_bytes_received', t.bytesReceived)
    this.metrics.set('murmur_transport_announcements_received', t.announcementsReceived)
    this.metrics.set('murmur_transport_neighbours', this.transport.neighbours().length)
    this.metrics.set('murmur_transport_connections', this.transport.connectedPeers().length)
    for (const [reason, n] of Object.entries(t.refusedByReason)) this.metrics.set('murmur_transport_refused', n ?? 0, { reason })
    for (const [kind, n] of Object.entries({ readTimeouts: t.limits.readTimeouts, gossipOversized: t.limits.gossipOversized, ...t.limits.preAuth })) this.metrics.set('murmur_transport_limited', n, { kind })
    this.metrics.set('murmur_data_examples', this.learner.numExamples())
    if (r.evaluation != null) this.lastEvaluation = r.evaluation
    this.log.info({ round: r.round, loss: Number.isFinite(r.loss) ? Number(r.loss.toFixed(5)) : null, merged: r.updatesMerged, sent: r.updatesSent, neighbours: this.transport.neighbours().length, ...(r.evaluation != null ? { evaluation: r.evaluation } : {}) }, 'round')
    if (this.options.maxRounds > 0 && r.round + 1 >= this.options.maxRounds) {
      this.log.info({ rounds: r.round + 1 }, 'reached --max-rounds')
      this.controller.abort(new Error('max rounds reached'))
    }
  }

  addresses (): string[] { return this.transport.addresses() }

  status (): Record<string, unknown> {
    const totals = this.engine.totals()
    const refused: Partial<Record<RefusalReason, number>> = { ...totals.refused }
    // stream-level refusals the engine never saw (oversized, malformed framing)
    for (const [k, v] of Object.entries(this.transport.stats.refusedByReason) as Array<[RefusalReason, number]>) refused[k] = Math.max(refused[k] ?? 0, v)
    return {
      peerId: this.transport.libp2p.peerId.toString(),
      peerKey: this.peerKey,
      addresses: this.addresses(),
      network: {
        id: this.manifest.id,
        name: this.manifest.name,
        version: this.manifest.version,
        open: this.manifest.open != null,
        epoch: this.keyring.currentEpoch,
        members: this.manifest.open != null ? null : this.manifest.members.length,
        member: this.removedAtVersion == null,
        epochKey: this.keyring.epochKey(this.keyring.currentEpoch) != null,
        manifestsAdopted: this.manifestAdopted,
        manifestRefusedByReason: { ...this.manifestRefused }
      },
      rule: this.manifest.rule.name,
      round: this.engine.round,
      running: this.engine.running,
      examples: this.learner.numExamples(),
      rowsAppended: this.rowsAppended,
      localMetric: this.lastEvaluation,
      primaryMetric: this.learner.primaryMetric ?? null,
      lastRound: this.lastReport == null ? null : { ...this.lastReport, evaluation: undefined },
      neighbours: this.transport.neighbours(),
      connections: this.transport.connectedPeers().length,
      refusedByReason: refused,
      totals: { ...totals, refused: undefined },
      transport: { ...this.transport.stats, refusedByReason: undefined },
      updateLog: this.store.logHead(),
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      dataFile: resolve(this.options.data)
    }
  }

  async peers (): Promise<Record<string, unknown>> {
    const neighbours = new Set(this.transport.neighbours())
    const connections = this.transport.libp2p.getConnections().map((c) => ({
      peerId: c.remotePeer.toString(),
      peerKey: c.remotePeer.publicKey != null ? toHex(c.remotePeer.publicKey.raw) : null,
      address: c.remoteAddr.toString(),
      direction: c.direction,
      neighbour: c.remotePeer.publicKey != null && neighbours.has(toHex(c.remotePeer.publicKey.raw))
    }))
    return { self: this.peerKey, neighbours: [...neighbours], connections }
  }

  model (): Record<string, unknown> {
    const w = this.engine.weights()
    return {
      schemaHash: this.learner.schemaHash,
      numParams: this.learner.numParams,
      round: this.engine.round,
      dtype: 'float32-le',
      weights: Buffer.from(w.buffer, w.byteOffset, w.byteLength).toString('base64')
    }
  }

  /** Resolves when the node has been asked to stop (signal, --max-rounds). */
  async stopped (): Promise<void> {
    if (this.controller.signal.aborted) return
    await new Promise<void>((resolve) => { this.controller.signal.addEventListener('abort', () => { resolve() }, { once: true }) })
  }

  /** Checkpoint (engine.stop writes it), stop libp2p, close the database: the reverse order of construction. */
  async close (): Promise<void> {
    if (this.closing != null) { await this.closing; return }
    this.closing = (async () => {
      if (!this.controller.signal.aborted) this.controller.abort(new Error('closing'))
      await this.engineStarted
      const order = [...this.closers].reverse()
      // the engine must stop (final checkpoint) before libp2p and the store go
      for (const c of order) {
        try { await c.close() } catch (err) { this.log.warn({ err: (err as Error).message, component: c.name }, 'error while closing') }
      }
      this.log.info('peer stopped')
    })()
    await this.closing
  }
}
