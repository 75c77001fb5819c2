/**
 * Manifest sync: new versions of the network's manifest reach a running peer from an operator (the API's
 * `POST /manifest`), from the watched `--network` file, or from gossip on the network's manifest topic (the
 * manifest itself when it fits an announcement, else a notice and a fetch over MANIFEST_PROTOCOL from the
 * peer that forwarded it). Every candidate is checked against the version held (same network, strictly higher
 * version, the current admins' threshold of signatures) and refusals are named and counted. An adopted version
 * is stored with its key epochs in one batch, then the live keyring (validator, sealer, connection gater) is
 * swapped, the version is announced, and connections to peers that are no longer members are closed.
 */
import { readFile } from 'node:fs/promises'
import { watchFile, unwatchFile } from 'node:fs'
import type { PeerId, Stream } from '@libp2p/interface'
import {
  createKeyring, serializeManifest, isMember, checkManifestUpdate, checkManifestAnnouncement, manifestAnnouncement, canonicalJson,
  MANIFEST_MAX_BYTES, MANIFEST_ANNOUNCE_MAX_BYTES, type NetworkManifest, type ManifestCheck
} from '../../../protocol/membership/index.js'
import { gossipVerdict, type RefusalReason } from '../../../protocol/interfaces.js'
import type { PeerEngine } from '../../../protocol/engine/index.js'
import { manifestTopic, peerKeyFromPeerId } from '../../transport/index.js'
import { readMessage, writeMessage } from '../../transport/update-stream.js'
import type { ServiceNetwork, TopicVerdict } from '../../transport/service-network.js'
import type { Identity } from '../../keystore.js'
import type { LevelStore } from '../../store/index.js'
import type { LiveKeyring } from '../../wiring.js'
import type { NodeMetricHandles } from '../../metrics.js'
import type { Logger } from '../../logger.js'
import type { Startable } from '../types.js'
import {
  MANIFEST_FETCH_TIMEOUT_MS, MANIFEST_MAX_STREAMS, MANIFEST_PROTOCOL, MANIFEST_SERVE_CHUNK_BYTES, REANNOUNCE_INTERVAL_MS, WATCH_NETWORK_MS
} from './constants.js'

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

export interface ManifestSyncInit {
  /** The `--network` file, polled for a newer version (unset: no watch). */
  networkFile?: string
  /** Poll interval of `networkFile` (ms; 0 disables the watch). */
  watchNetworkMs?: number
  /** Largest manifest announced whole on gossipsub; above it a notice is announced and peers fetch it. */
  announceMaxBytes?: number
  /** Open networks: the passphrase that derives the epoch keys. */
  passphrase?: string
}

export interface ManifestSyncComponents {
  peerKey: string
  identity: Identity
  keyring: LiveKeyring
  store: Pick<LevelStore, 'commit'>
  network: ServiceNetwork
  /** Stopped when an adopted version no longer lists this peer. */
  engine: Pick<PeerEngine, 'stop'>
  metrics: { node: Pick<NodeMetricHandles, 'manifestAdopted' | 'manifestRefused'> }
  logger: Logger
}

export class ManifestSyncStoppedError extends Error {
  static override name = 'ManifestSyncStoppedError'
  override name = 'ManifestSyncStoppedError'
}

export interface SubmitOptions { from?: string, fromPeer?: PeerId, signal?: AbortSignal }

export class ManifestSync implements Startable {
  /** Versions adopted and candidates refused by reason, since start. */
  readonly stats: { adopted: number, refusedByReason: Partial<Record<RefusalReason, number>> } = { adopted: 0, refusedByReason: {} }
  /** Set when an adopted version no longer lists this peer: it stopped learning. */
  removedAtVersion: number | null = null
  private readonly announceMaxBytes: number
  private readonly watchMs: number
  private readonly log: Logger
  /** Submissions run one at a time (validation, batch, swap). */
  private queue: Promise<unknown> = Promise.resolve()
  private running = false
  private controller = new AbortController()
  private lastAnnouncedAt = 0
  private readonly cleanups: Array<() => void | Promise<void>> = []

  constructor (private readonly init: ManifestSyncInit, private readonly c: ManifestSyncComponents) {
    this.announceMaxBytes = Math.min(init.announceMaxBytes ?? MANIFEST_ANNOUNCE_MAX_BYTES, MANIFEST_ANNOUNCE_MAX_BYTES)
    this.watchMs = init.watchNetworkMs ?? WATCH_NETWORK_MS
    this.log = c.logger
  }

  /** The version this peer holds now. */
  get manifest (): NetworkManifest { return this.c.keyring.manifest }

  get isRunning (): boolean { return this.running }

  /** Serves MANIFEST_PROTOCOL, subscribes to the manifest topic (its validator is adoption), watches the file. */
  async start (options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.running) return
    options.signal?.throwIfAborted()
    this.controller = new AbortController()
    this.running = true
    const net = this.c.network
    await net.handle(MANIFEST_PROTOCOL, (stream) => { void this.serve(stream) }, { maxInboundStreams: MANIFEST_MAX_STREAMS, maxOutboundStreams: MANIFEST_MAX_STREAMS })
    this.cleanups.push(async () => { await net.unhandle(MANIFEST_PROTOCOL) })
    const topic = manifestTopic(this.manifest.id)
    net.subscribe(topic, async (peer, data) => await this.validate(peer, data))
    this.cleanups.push(() => { net.unsubscribe(topic) })
    // a peer that (re)joins the topic may be behind: re-announce a changed manifest (rate-limited)
    this.cleanups.push(net.onSubscribe(topic, () => { if (this.manifest.version > 1) void this.announce(false) }))
    const path = this.init.networkFile
    if (path != null && this.watchMs > 0) {
      const onFile = (): void => { void this.readNetworkFile(path) }
      watchFile(path, { interval: this.watchMs, persistent: false }, onFile)
      this.cleanups.push(() => { unwatchFile(path, onFile) })
    }
  }

  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    this.controller.abort(new ManifestSyncStoppedError('manifest sync stopped'))
    await this.queue // an adoption in progress finishes its batch before the store closes
    for (const undo of this.cleanups.splice(0).reverse()) {
      try { await undo() } catch (err) { this.log.debug({ err: (err as Error).message }, 'manifest sync cleanup') }
    }
  }

  /**
   * Offers a new manifest version. Checked cheapest first against the current version; refusals are named
   * and counted (`murmur_manifest_refused_total{reason}`).
   */
  async submit (input: Uint8Array | string, source: ManifestSource, options: SubmitOptions = {}): Promise<ManifestResult> {
    if (!this.running) throw new ManifestSyncStoppedError(`manifest sync is not running (a ${source} submission)`)
    const signal = options.signal != null ? AbortSignal.any([options.signal, this.controller.signal]) : this.controller.signal
    const run = async (): Promise<ManifestResult> => {
      signal.throwIfAborted()
      const check = await this.check(input, source, options.fromPeer, signal)
      if (check == null) return this.unchanged()
      if ('fetchFailed' in check) return { ...this.unchanged(), detail: check.fetchFailed }
      if (!check.ok) return this.refuse(check, source, options.from)
      return await this.adopt(check.manifest, source, options.from)
    }
    const next = this.queue.then(run, run)
    this.queue = next.catch(() => {})
    return await next
  }

  private unchanged (): ManifestResult {
    return { adopted: false, version: this.manifest.version, epoch: this.c.keyring.currentEpoch }
  }

  /** The check of a candidate; for a gossiped notice, of the version fetched from the forwarding peer. */
  private async check (input: Uint8Array | string, source: ManifestSource, fromPeer: PeerId | undefined, signal: AbortSignal): Promise<ManifestCheck | { fetchFailed: string } | null> {
    const current = this.manifest
    if (source !== 'gossip') return checkManifestUpdate(current, input, { maxBytes: MANIFEST_MAX_BYTES })
    const a = checkManifestAnnouncement(current, typeof input === 'string' ? new TextEncoder().encode(input) : input, { maxBytes: MANIFEST_ANNOUNCE_MAX_BYTES })
    if (a.ok || a.reason !== null) return a
    // a notice of a version too large for gossipsub: fetch it from the peer that forwarded the notice
    // (gossipsub forwards only what a peer accepted, i.e. adopted, so that peer can serve it)
    if (fromPeer == null) return null
    try {
      return checkManifestUpdate(current, await this.fetch(fromPeer, signal), { maxBytes: MANIFEST_MAX_BYTES })
    } catch (err) {
      this.log.debug({ err: (err as Error).message, version: a.fetch.version }, 'cannot fetch the announced manifest')
      return { fetchFailed: `cannot fetch version ${a.fetch.version}` }
    }
  }

  /** The manifest topic's validator: adoption decides whether gossipsub forwards the message. */
  private async validate (peer: PeerId, data: Uint8Array): Promise<TopicVerdict> {
    if (!this.running) return 'ignore'
    try {
      const r = await this.submit(data, 'gossip', { from: peerKeyFromPeerId(peer) ?? undefined, fromPeer: peer })
      if (r.adopted) return 'accept'
      if (r.alreadyCurrent === true || r.reason == null) return 'ignore'
      return gossipVerdict(r.reason) === 'reject' ? 'reject' : 'ignore'
    } catch (err) {
      if (this.running) this.log.warn({ err: (err as Error).message }, 'manifest announcement could not be processed')
      return 'ignore'
    }
  }

  private async readNetworkFile (path: string): Promise<void> {
    try {
      const bytes = await readFile(path)
      if (bytes.length > MANIFEST_MAX_BYTES) { this.log.warn({ file: path, bytes: bytes.length, max: MANIFEST_MAX_BYTES }, 'network file too large'); return }
      if (!this.running) return
      const r = await this.submit(new Uint8Array(bytes), 'file')
      if (r.adopted) this.log.info({ file: path, version: r.version }, 'adopted the new version of the --network file')
    } catch (err) {
      if (this.running) this.log.warn({ file: path, err: (err as Error).message }, 'cannot read the network file')
    }
  }

  private refuse (check: Extract<ManifestCheck, { ok: false }>, source: ManifestSource, from?: string): ManifestResult {
    // the version we hold (an echo, a re-announcement, or an operator publishing twice): not a refusal
    if (check.same === true) return { ...this.unchanged(), alreadyCurrent: true }
    this.stats.refusedByReason[check.reason] = (this.stats.refusedByReason[check.reason] ?? 0) + 1
    this.c.metrics.node.manifestRefused.inc({ reason: check.reason })
    const level = check.reason === 'STALE_MANIFEST' && check.same == null ? 'debug' : 'warn'
    this.log[level]({ reason: check.reason, detail: check.detail, source, ...(from != null ? { from: from.slice(0, 16) } : {}), version: check.version }, 'manifest refused')
    return { ...this.unchanged(), reason: check.reason, detail: check.detail }
  }

  private async adopt (next: NetworkManifest, source: ManifestSource, from?: string): Promise<ManifestResult> {
    const previous = this.manifest
    const selfMember = isMember(next, this.c.peerKey)
    const keyring = createKeyring(next, { identity: this.c.identity, passphrase: this.init.passphrase, allowMissingCurrent: !selfMember })
    const enc = new TextEncoder()
    const knownEpochs = new Set(previous.epochs.map((e) => e.epoch))
    const currentEpoch = next.epochs[next.epochs.length - 1].epoch
    await this.c.store.commit({
      manifests: [{ version: next.version, bytes: enc.encode(serializeManifest(next)) }],
      // every epoch record of the new version (new epochs, and the current one when a member was added to it)
      keyEpochs: next.epochs.filter((e) => !knownEpochs.has(e.epoch) || e.epoch === currentEpoch)
        .map((e) => ({ epoch: e.epoch, bytes: enc.encode(JSON.stringify(e)) }))
    })
    this.c.keyring.swap(keyring)
    this.stats.adopted++
    this.c.metrics.node.manifestAdopted.inc({ source })
    const before = new Set(previous.members.map((m) => m.signKey))
    const after = new Set(next.members.map((m) => m.signKey))
    const removed = [...before].filter((k) => !after.has(k))
    const added = [...after].filter((k) => !before.has(k))
    const restartRequired = (['model', 'dataset', 'rule'] as const).filter((f) => canonicalJson(previous[f] ?? null) !== canonicalJson(next[f] ?? null))
    this.log.info({ version: next.version, previous: previous.version, epoch: keyring.currentEpoch, source, ...(from != null ? { from: from.slice(0, 16) } : {}), added: added.length, removed: removed.length }, 'adopted a new manifest version')
    if (restartRequired.length > 0) this.log.warn({ fields: restartRequired }, 'the new manifest changes the model, dataset or rule: membership applies now, these apply when the daemon restarts')
    // tell the others first (a removed peer may still learn that it was removed), then cut the non-members
    const announced = source !== 'gossip' ? await this.announce(true) : false
    const closed = await this.closeNonMembers()
    if (!selfMember) {
      this.removedAtVersion = next.version
      this.log.error({ version: next.version }, 'this peer is not a member of the adopted manifest version: it cannot read the new key epoch and its updates are refused; learning stops')
      await this.c.engine.stop().catch((err: Error) => { this.log.warn({ err: err.message }, 'error while stopping the engine') })
    }
    return {
      adopted: true, version: next.version, epoch: keyring.currentEpoch, removed, added, closedConnections: closed,
      selfRemoved: !selfMember, announced, ...(restartRequired.length > 0 ? { restartRequired } : {})
    }
  }

  /** Closes every connection to a peer the current manifest does not list (closed networks). */
  private async closeNonMembers (): Promise<number> {
    if (this.c.keyring.open) return 0
    const peers = new Map<string, PeerId>()
    for (const conn of this.c.network.connections()) {
      const key = peerKeyFromPeerId(conn.remotePeer)
      if (key == null || !this.c.keyring.isMember(key)) peers.set(conn.remotePeer.toString(), conn.remotePeer)
    }
    await Promise.all([...peers.values()].map(async (p) => {
      await this.c.network.hangUp(p).catch((err: Error) => { this.log.debug({ err: err.message }, 'hang up failed') })
    }))
    if (peers.size > 0) this.log.info({ peers: peers.size }, 'closed connections to peers that are no longer members')
    return peers.size
  }

  /** Publishes the current manifest (or a notice, above the announcement bound); `force` skips the rate limit. */
  private async announce (force: boolean): Promise<boolean> {
    if (!this.running || !this.c.network.started) return false
    const now = Date.now()
    if (!force && now - this.lastAnnouncedAt < REANNOUNCE_INTERVAL_MS) return false
    this.lastAnnouncedAt = now
    const { bytes, notice } = manifestAnnouncement(this.manifest, now, this.announceMaxBytes)
    if (notice) this.log.debug({ version: this.manifest.version }, `manifest too large for gossipsub: announcing a notice, peers fetch it over ${MANIFEST_PROTOCOL}`)
    try {
      await this.c.network.publish(manifestTopic(this.manifest.id), bytes)
      return true
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'manifest announcement not sent')
      return false
    }
  }

  /** Fetches a peer's current manifest over MANIFEST_PROTOCOL (bounded by MANIFEST_MAX_BYTES, timed out). */
  private async fetch (peer: PeerId, signal: AbortSignal): Promise<Uint8Array> {
    const s = AbortSignal.any([signal, AbortSignal.timeout(MANIFEST_FETCH_TIMEOUT_MS)])
    const stream = await this.c.network.dialProtocol(peer, MANIFEST_PROTOCOL, { signal: s })
    try {
      const bytes = await raceAbort(readMessage(stream, MANIFEST_MAX_BYTES), s)
      await stream.close().catch(() => {})
      return bytes
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  private async serve (stream: Stream): Promise<void> {
    try {
      const bytes = new TextEncoder().encode(JSON.stringify(this.manifest))
      await writeMessage(stream, bytes, MANIFEST_SERVE_CHUNK_BYTES, AbortSignal.timeout(MANIFEST_FETCH_TIMEOUT_MS))
    } catch (err) {
      stream.abort(err as Error)
    }
  }
}

async function raceAbort<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then((v) => { signal.removeEventListener('abort', onAbort); resolve(v) },
      (e) => { signal.removeEventListener('abort', onAbort); reject(e) })
  })
}
