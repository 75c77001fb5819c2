/**
 * `Transport` (protocol/interfaces.ts) over libp2p: gossipsub for small signed announcements (the topic
 * validator runs the engine's validation and answers Accept / Ignore / Reject), and `/murmur/update/1.0.0`
 * streams for weights and pairwise exchange (a 16 MiB model is far beyond what gossipsub carries). Inbound update
 * streams are bounded per peer (open streams, messages per second: peer-limits.ts), per read (timeout) and per
 * message (the network's largest envelope, `updateMessageLimit`).
 */
import { multiaddr } from '@multiformats/multiaddr'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import * as lp from 'it-length-prefixed'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { gossipVerdict, RefusalReason, type AbortOptions, type Incoming, type PeerKey, type Transport } from '../../protocol/interfaces.js'
import {
  announceTopic, DEFAULT_CHUNK_BYTES, DEFAULT_MAX_ANNOUNCE_BYTES, DEFAULT_MAX_INBOUND_STREAMS_PER_CONNECTION, DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MESSAGE_DEADLINE_MS, DEFAULT_READ_TIMEOUT_MS, DEFAULT_SEND_TIMEOUT_MS, UPDATE_PROTOCOL
} from './constants.js'
import { peerIdFromPeerKey, peerKeyFromPeerId } from './peer-key.js'
import { PeerLimits, type PeerLimitsInit } from './peer-limits.js'
import type { AddressLimitStats } from './address-limits.js'
import { countOversizedGossip } from './gossip-limits.js'
import { readMessage, readVerdict, refuseUnread, RemoteRefusedError, StreamProtocolError, writeMessage, writeVerdict } from './update-stream.js'
import type { MurmurLibp2p } from './node.js'
import { libp2pServiceNetwork, type ServiceNetwork } from './service-network.js'

export const PEERS_PROTOCOL = '/murmur/peers/1.0.0'

export class MessageTooLargeError extends Error {
  static override name = 'MessageTooLargeError'
  override name = 'MessageTooLargeError'
}

export class PeerUnreachableError extends Error {
  static override name = 'PeerUnreachableError'
  override name = 'PeerUnreachableError'
}

export interface Libp2pTransportInit extends PeerLimitsInit {
  networkId: string
  /** Largest inbound message (bytes); the daemon passes `updateMessageLimit(numParams, codec)`. */
  maxMessageBytes?: number
  /** Longest wait for one frame of an inbound message (ms). */
  readTimeoutMs?: number
  /** Longest time for one whole inbound message (ms). */
  messageDeadlineMs?: number
  /** libp2p's cap on inbound update streams per connection. */
  maxInboundStreamsPerConnection?: number
  chunkBytes?: number
  maxAnnounceBytes?: number
  sendTimeoutMs?: number
  /** Peer exchange: how many peers to aim for by asking neighbours for theirs (0 disables). */
  targetPeers?: number
  /** How often to ask one neighbour for its peers. */
  peerExchangeIntervalMs?: number
  /** Optional logger (pino-like). */
  log?: { debug: (obj: object, msg?: string) => void, info: (obj: object, msg?: string) => void, warn: (obj: object, msg?: string) => void }
}

export interface TransportStats {
  bytesSent: number
  bytesReceived: number
  messagesSent: number
  messagesReceived: number
  announcementsSent: number
  announcementsReceived: number
  refusedByReason: Partial<Record<RefusalReason, number>>
  /** What the limits stopped (the per-peer refusals are also in `refusedByReason` as BUSY and RATE_LIMITED). */
  limits: {
    /** Inbound update streams aborted because the sender stalled past the read timeout or message deadline. */
    readTimeouts: number
    /** Gossipsub frames over its inbound size bound (the peer's gossip stream is dropped) plus announcements over `maxAnnounceBytes`. */
    gossipOversized: number
    /** Inbound connections refused before authentication by the per-address limits (live view; zero without them). */
    preAuth: AddressLimitStats
  }
}

type Handler = (message: Incoming) => Promise<RefusalReason | null>

export class Libp2pTransport implements Transport {
  readonly self: PeerKey
  readonly maxAnnounceBytes: number
  /** Largest inbound (and outbound) message; `limitMessages` lowers it once the model size is known. */
  maxMessageBytes: number
  readonly topic: string
  readonly stats: TransportStats
  readonly peerLimits: PeerLimits

  private handler: Handler | null = null
  private readonly chunkBytes: number
  private readonly sendTimeoutMs: number
  private readonly readTimeoutMs: number
  private readonly messageDeadlineMs: number
  private readonly targetPeers: number
  private readonly peerExchangeIntervalMs: number
  private exchangeTimer: NodeJS.Timeout | null = null
  private started = false

  constructor (readonly libp2p: MurmurLibp2p, private readonly init: Libp2pTransportInit, addressStats?: AddressLimitStats) {
    const self = peerKeyFromPeerId(libp2p.peerId)
    if (self == null) throw new Error('the libp2p node must use an Ed25519 key')
    this.self = self
    this.topic = announceTopic(init.networkId)
    this.maxAnnounceBytes = init.maxAnnounceBytes ?? DEFAULT_MAX_ANNOUNCE_BYTES
    this.maxMessageBytes = init.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
    this.readTimeoutMs = init.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS
    this.messageDeadlineMs = init.messageDeadlineMs ?? DEFAULT_MESSAGE_DEADLINE_MS
    this.peerLimits = new PeerLimits(init)
    this.stats = {
      bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0, announcementsSent: 0, announcementsReceived: 0, refusedByReason: {},
      limits: { readTimeouts: 0, gossipOversized: 0, preAuth: addressStats ?? { refusedPending: 0, refusedInbound: 0 } }
    }
    this.chunkBytes = init.chunkBytes ?? DEFAULT_CHUNK_BYTES
    this.sendTimeoutMs = init.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS
    this.targetPeers = init.targetPeers ?? 8
    this.peerExchangeIntervalMs = init.peerExchangeIntervalMs ?? 3000
  }

  /** Starts libp2p (if not started), registers the protocols, subscribes to the network's topic. */
  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    if (this.libp2p.status !== 'started') await this.libp2p.start()
    const perConnection = this.init.maxInboundStreamsPerConnection ?? DEFAULT_MAX_INBOUND_STREAMS_PER_CONNECTION
    await this.libp2p.handle(UPDATE_PROTOCOL, (stream, connection) => { void this.onUpdateStream(stream, connection) }, {
      maxInboundStreams: perConnection, maxOutboundStreams: 64
    })
    await this.libp2p.handle(PEERS_PROTOCOL, (stream, connection) => { void this.onPeersStream(stream, connection) })
    const pubsub = this.libp2p.services.pubsub
    countOversizedGossip(pubsub, (peerId) => {
      this.stats.limits.gossipOversized++
      this.countRefusal(RefusalReason.OVERSIZED)
      this.init.log?.debug({ from: peerId.toString() }, 'gossipsub frame over the inbound size bound')
    })
    pubsub.topicValidators.set(this.topic, async (peerId, msg) => await this.validateAnnouncement(peerId, msg.data))
    pubsub.subscribe(this.topic)
    if (this.targetPeers > 0) {
      this.exchangeTimer = setInterval(() => { void this.exchangePeers() }, this.peerExchangeIntervalMs)
      this.exchangeTimer.unref()
      // a new connection (after identify, so the peer knows our protocols) is a good moment to ask for more
      this.libp2p.addEventListener('peer:identify', this.onIdentify)
    }
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    if (this.exchangeTimer != null) clearInterval(this.exchangeTimer)
    this.exchangeTimer = null
    this.libp2p.removeEventListener('peer:identify', this.onIdentify)
    try {
      this.libp2p.services.pubsub.unsubscribe(this.topic)
      this.libp2p.services.pubsub.topicValidators.delete(this.topic)
    } catch {}
    await this.libp2p.stop()
  }

  /** Topics, stream protocols and connections for the node's services (manifest sync, state sync, ...). */
  serviceNetwork (): ServiceNetwork { return libp2pServiceNetwork(this.libp2p) }

  /** Lowers (never raises) the largest message, e.g. to `updateMessageLimit(numParams, codec)`. */
  limitMessages (maxBytes: number): void {
    if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`)
    this.maxMessageBytes = Math.min(this.maxMessageBytes, maxBytes)
  }

  onMessage (handler: Handler): void {
    this.handler = handler
  }

  /** Subscribers of the network's topic, then any other connected member. */
  neighbours (): PeerKey[] {
    const keys = new Set<PeerKey>()
    for (const id of this.libp2p.services.pubsub.getSubscribers(this.topic)) {
      const k = peerKeyFromPeerId(id)
      if (k != null && k !== this.self) keys.add(k)
    }
    return [...keys]
  }

  /** Connected peers (whether or not they subscribed yet). */
  connectedPeers (): PeerKey[] {
    const out: PeerKey[] = []
    for (const id of this.libp2p.getPeers()) {
      const k = peerKeyFromPeerId(id)
      if (k != null) out.push(k)
    }
    return out
  }

  addresses (): string[] {
    return this.libp2p.getMultiaddrs().map((a) => a.toString())
  }

  /** Dials a multiaddr (with /p2p/ id). */
  async dial (address: string, options: AbortOptions = {}): Promise<PeerKey | null> {
    const conn = await this.libp2p.dial(multiaddr(address), { signal: options.signal })
    return peerKeyFromPeerId(conn.remotePeer)
  }

  async send (peer: PeerKey, bytes: Uint8Array, options: AbortOptions = {}): Promise<void> {
    const reason = await this.sendWithVerdict(peer, bytes, options)
    if (reason != null) this.init.log?.debug({ peer: peer.slice(0, 16), reason }, 'peer refused our message')
  }

  /** Sends one message on the update stream and returns the receiver's verdict (null = accepted). */
  async sendWithVerdict (peer: PeerKey, bytes: Uint8Array, options: AbortOptions = {}): Promise<RefusalReason | null> {
    if (bytes.length > this.maxMessageBytes) throw new MessageTooLargeError(`message of ${bytes.length} bytes exceeds the limit of ${this.maxMessageBytes}`)
    const signal = options.signal != null ? AbortSignal.any([options.signal, AbortSignal.timeout(this.sendTimeoutMs)]) : AbortSignal.timeout(this.sendTimeoutMs)
    let stream: Stream
    try {
      stream = await this.libp2p.dialProtocol(peerIdFromPeerKey(peer), UPDATE_PROTOCOL, { signal })
    } catch (err) {
      throw new PeerUnreachableError(`cannot open ${UPDATE_PROTOCOL} to peer ${peer.slice(0, 16)}: ${(err as Error).message}`)
    }
    try {
      await writeMessage(stream, bytes, this.chunkBytes, signal)
      const verdict = await raceAbort(readVerdict(stream), signal)
      this.stats.bytesSent += bytes.length
      this.stats.messagesSent++
      return verdict
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  /** Like `send` but rejects with RemoteRefusedError when the receiver refuses. */
  async sendAcknowledged (peer: PeerKey, bytes: Uint8Array, options: AbortOptions = {}): Promise<void> {
    const reason = await this.sendWithVerdict(peer, bytes, options)
    if (reason != null) throw new RemoteRefusedError(reason)
  }

  async announce (bytes: Uint8Array, _options: AbortOptions = {}): Promise<void> {
    if (bytes.length > this.maxAnnounceBytes) throw new MessageTooLargeError(`announcement of ${bytes.length} bytes exceeds ${this.maxAnnounceBytes}`)
    await this.libp2p.services.pubsub.publish(this.topic, bytes)
    this.stats.announcementsSent++
  }

  private countRefusal (reason: RefusalReason | null): void {
    if (reason != null) this.stats.refusedByReason[reason] = (this.stats.refusedByReason[reason] ?? 0) + 1
  }

  private async dispatch (message: Incoming): Promise<RefusalReason | null> {
    if (this.handler == null) return RefusalReason.BUSY
    try {
      return await this.handler(message)
    } catch (err) {
      this.init.log?.warn({ err: (err as Error).message, from: message.from.slice(0, 16) }, 'message handler failed')
      return RefusalReason.MALFORMED
    }
  }

  private async validateAnnouncement (peerId: PeerId, data: Uint8Array): Promise<TopicValidatorResult> {
    const from = peerKeyFromPeerId(peerId)
    let reason: RefusalReason | null
    if (from == null) reason = RefusalReason.NOT_A_MEMBER
    else if (data.length > this.maxAnnounceBytes) {
      reason = RefusalReason.OVERSIZED
      this.stats.limits.gossipOversized++
    } else {
      this.stats.announcementsReceived++
      this.stats.bytesReceived += data.length
      reason = await this.dispatch({ from, bytes: data, via: 'announce' })
    }
    this.countRefusal(reason)
    const verdict = gossipVerdict(reason)
    return verdict === 'accept' ? TopicValidatorResult.Accept : verdict === 'ignore' ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject
  }

  private async onUpdateStream (stream: Stream, connection: Connection): Promise<void> {
    const from = peerKeyFromPeerId(connection.remotePeer)
    const refused = from == null ? RefusalReason.NOT_A_MEMBER : this.peerLimits.admit(from)
    if (refused != null) {
      this.countRefusal(refused)
      refuseUnread(stream, refused, this.readTimeoutMs, this.sendTimeoutMs)
      return
    }
    let reason: RefusalReason | null
    try {
      const bytes = await readMessage(stream, this.maxMessageBytes, { readTimeoutMs: this.readTimeoutMs, deadlineMs: this.messageDeadlineMs })
      this.stats.bytesReceived += bytes.length
      this.stats.messagesReceived++
      reason = await this.dispatch({ from: from as PeerKey, bytes, via: 'direct' })
    } catch (err) {
      if ((err as Error).name === 'ReadTimeoutError') {
        this.stats.limits.readTimeouts++
        this.peerLimits.release(from as PeerKey)
        this.init.log?.debug({ err: (err as Error).message, from: (from as PeerKey).slice(0, 16) }, 'update stream timed out')
        stream.abort(err as Error)
        return
      }
      reason = err instanceof StreamProtocolError ? err.reason : RefusalReason.MALFORMED
      this.init.log?.debug({ err: (err as Error).message }, 'bad update stream')
    }
    this.peerLimits.release(from as PeerKey)
    this.countRefusal(reason)
    try {
      await writeVerdict(stream, reason, AbortSignal.timeout(this.sendTimeoutMs))
    } catch (err) {
      stream.abort(err as Error)
    }
  }

  // --- peer exchange: peers that joined through a bootstrap node find each other ---

  private async onPeersStream (stream: Stream, connection: Connection): Promise<void> {
    try {
      const peers: Array<{ id: string, addrs: string[] }> = []
      for (const c of this.libp2p.getConnections()) {
        if (c.remotePeer.equals(connection.remotePeer) || c.direction !== 'outbound') continue
        peers.push({ id: c.remotePeer.toString(), addrs: [c.remoteAddr.toString()] })
      }
      // inbound connections carry ephemeral ports: use the listen addresses identify told us
      for (const id of this.libp2p.getPeers()) {
        if (id.equals(connection.remotePeer) || peers.some((p) => p.id === id.toString())) continue
        try {
          const p = await this.libp2p.peerStore.get(id)
          const addrs = p.addresses.map((a) => a.multiaddr.toString()).slice(0, 4)
          if (addrs.length > 0) peers.push({ id: id.toString(), addrs })
        } catch {}
      }
      const body = new TextEncoder().encode(JSON.stringify(peers.slice(0, 32)))
      stream.send(lp.encode.single(body))
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  }

  private readonly onIdentify = (evt: CustomEvent<{ peerId: PeerId, protocols: string[] }>): void => {
    if (!this.started || !evt.detail.protocols.includes(PEERS_PROTOCOL)) return
    const t = setTimeout(() => { void this.exchangePeers(evt.detail.peerId) }, 200)
    t.unref()
  }

  private async exchangePeers (preferred?: PeerId): Promise<void> {
    const connected = this.libp2p.getPeers()
    if (connected.length === 0 || connected.length >= this.targetPeers) return
    const target = preferred ?? connected[Math.floor(Math.random() * connected.length)]
    let stream: Stream | undefined
    try {
      const signal = AbortSignal.timeout(5000)
      stream = await this.libp2p.dialProtocol(target, PEERS_PROTOCOL, { signal })
      const it = lp.decode(stream, { maxDataLength: 64 * 1024 })[Symbol.asyncIterator]()
      const first = await raceAbort(it.next(), signal)
      await stream.close()
      if (first.done === true) return
      const list = JSON.parse(new TextDecoder().decode(first.value.subarray())) as unknown
      if (!Array.isArray(list)) return
      let room = this.targetPeers - connected.length
      for (const entry of list.slice(0, 32)) {
        if (room <= 0) break
        if (typeof entry?.id !== 'string' || !Array.isArray(entry.addrs)) continue
        if (entry.id === this.libp2p.peerId.toString() || connected.some((c) => c.toString() === entry.id)) continue
        for (const a of entry.addrs.slice(0, 4)) {
          if (typeof a !== 'string') continue
          try {
            const ma = multiaddr(a.includes('/p2p/') ? a : `${a}/p2p/${entry.id as string}`)
            await this.libp2p.dial(ma, { signal: AbortSignal.timeout(5000) })
            room--
            break
          } catch {}
        }
      }
    } catch (err) {
      stream?.abort(err as Error)
      this.init.log?.debug({ err: (err as Error).message }, 'peer exchange failed')
    }
  }
}

async function raceAbort<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) throw signal.reason
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then((v) => { signal.removeEventListener('abort', onAbort); resolve(v) },
      (e) => { signal.removeEventListener('abort', onAbort); reject(e) })
  })
}
