/**
 * The narrow view of the network that the node's services (manifest sync, state sync, connection keeper) get
 * from the transport: topics with a validator, stream protocols, connections. Services never see libp2p's
 * internals (`libp2p.services.pubsub`), so a service can be tested over a fake and libp2p can change under it.
 */
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { MurmurLibp2p } from './node.js'

/** What a topic validator answers: deliver and forward, drop quietly, or drop and penalize the sender. */
export type TopicVerdict = 'accept' | 'ignore' | 'reject'

export interface ServiceConnection {
  remotePeer: PeerId
  remoteAddr: string
  direction: 'inbound' | 'outbound'
  /** Opens a stream on this very connection (two connections of one peer id may reach two processes). */
  newStream?: (protocol: string, options: { signal: AbortSignal }) => Promise<Stream>
}

export interface ProtocolLimits {
  maxInboundStreams?: number
  maxOutboundStreams?: number
}

export interface ServiceNetwork {
  /** This peer's libp2p id. */
  readonly peerId: PeerId
  /** True while libp2p runs. */
  readonly started: boolean
  /** Subscribes to `topic`; every message is first passed to `validate` (its verdict decides forwarding). */
  subscribe: (topic: string, validate: (from: PeerId, data: Uint8Array) => Promise<TopicVerdict>) => void
  unsubscribe: (topic: string) => void
  publish: (topic: string, data: Uint8Array) => Promise<void>
  /** Calls `handler` when a peer subscribes to `topic`; returns the function that removes the listener. */
  onSubscribe: (topic: string, handler: (peer: PeerId) => void) => () => void
  handle: (protocol: string, handler: (stream: Stream, connection: Connection) => void, limits?: ProtocolLimits) => Promise<void>
  unhandle: (protocol: string) => Promise<void>
  dialProtocol: (peer: PeerId, protocol: string, options: { signal: AbortSignal }) => Promise<Stream>
  /** Dials a multiaddr (with its /p2p/ id); resolves with the remote peer. */
  dial: (address: string, options: { signal: AbortSignal }) => Promise<PeerId>
  connections: () => ServiceConnection[]
  /** The multiaddrs the peer store holds for a peer (what identify told us it listens on), without /p2p/. */
  peerAddresses: (peer: PeerId) => Promise<string[]>
  hangUp: (peer: PeerId) => Promise<void>
}

const RESULT: Record<TopicVerdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept, ignore: TopicValidatorResult.Ignore, reject: TopicValidatorResult.Reject
}

/** The ServiceNetwork over a Murmur libp2p node (gossipsub for topics). */
export function libp2pServiceNetwork (libp2p: MurmurLibp2p): ServiceNetwork {
  const pubsub = (): MurmurLibp2p['services']['pubsub'] => libp2p.services.pubsub
  return {
    get peerId () { return libp2p.peerId },
    get started () { return libp2p.status === 'started' },
    subscribe: (topic, validate) => {
      pubsub().topicValidators.set(topic, async (peerId, msg) => RESULT[await validate(peerId, msg.data)])
      pubsub().subscribe(topic)
    },
    unsubscribe: (topic) => {
      pubsub().unsubscribe(topic)
      pubsub().topicValidators.delete(topic)
    },
    publish: async (topic, data) => { await pubsub().publish(topic, data) },
    onSubscribe: (topic, handler) => {
      const listener = (e: CustomEvent<{ peerId: PeerId, subscriptions: Array<{ topic: string, subscribe: boolean }> }>): void => {
        if (e.detail.subscriptions.some((s) => s.topic === topic && s.subscribe)) handler(e.detail.peerId)
      }
      pubsub().addEventListener('subscription-change', listener as never)
      return () => { pubsub().removeEventListener('subscription-change', listener as never) }
    },
    handle: async (protocol, handler, limits = {}) => { await libp2p.handle(protocol, handler, limits) },
    unhandle: async (protocol) => { await libp2p.unhandle(protocol) },
    dialProtocol: async (peer, protocol, options) => await libp2p.dialProtocol(peer, protocol, options),
    dial: async (address, options) => (await libp2p.dial(multiaddr(address), options)).remotePeer,
    connections: () => libp2p.getConnections().map((c) => ({
      remotePeer: c.remotePeer, remoteAddr: c.remoteAddr.toString(), direction: c.direction,
      newStream: async (protocol: string, options: { signal: AbortSignal }) => await c.newStream(protocol, options)
    })),
    peerAddresses: async (peer) => {
      try {
        return (await libp2p.peerStore.get(peer)).addresses.map((a) => a.multiaddr.toString())
      } catch { return [] }
    },
    hangUp: async (peer) => { await libp2p.hangUp(peer) }
  }
}
