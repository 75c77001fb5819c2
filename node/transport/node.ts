/**
 * Builds the libp2p 3 node Murmur runs on: TCP (or the in-process memory transport), noise, yamux, identify,
 * ping, bootstrap and `@libp2p/gossipsub` with StrictNoSign, a content-hash message id and topic scoring that
 * makes invalid announcements cost the sender score. A connection gater refuses non-members of a closed network
 * and, before any handshake, connections beyond the per-address limits (address-limits.ts); the connection
 * manager's pending pool, upgrade timeout and per-host rate are set so that idle sockets cannot keep members out.
 */
import { createHash } from 'node:crypto'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp, type TCPSocketOptions } from '@libp2p/tcp'
import { memory } from '@libp2p/memory'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { bootstrap } from '@libp2p/bootstrap'
import { gossipsub, StrictNoSign, type GossipSub } from '@libp2p/gossipsub'
import { createTopicScoreParams } from '@libp2p/gossipsub/score'
import type { Identify } from '@libp2p/identify'
import type { Ping } from '@libp2p/ping'
import type { ConnectionGater, Metrics, PeerId, PrivateKey } from '@libp2p/interface'
import type { PeerKey } from '../../protocol/interfaces.js'
import {
  announceTopic, manifestTopic, DEFAULT_INBOUND_CONNECTIONS_PER_SECOND, DEFAULT_INBOUND_UPGRADE_TIMEOUT_MS, DEFAULT_MAX_ANNOUNCE_BYTES,
  DEFAULT_MAX_INCOMING_PENDING, DEFAULT_MAX_STREAM_WINDOW_BYTES, DEFAULT_MUXER_MESSAGE_BYTES, DEFAULT_STREAM_WINDOW_BYTES
} from './constants.js'
import { AddressLimits, type AddressLimitsInit } from './address-limits.js'
import { peerKeyFromPeerId } from './peer-key.js'

export type MurmurServices = {
  identify: Identify
  ping: Ping
  pubsub: GossipSub
}

export type MurmurLibp2p = Libp2p<MurmurServices>

/** Decides who may connect. `isMember` null means an open network: everyone with an Ed25519 key. */
export interface Membership {
  isMember: ((peer: PeerKey) => boolean) | null
}

export interface MurmurLibp2pInit extends AddressLimitsInit {
  privateKey: PrivateKey
  networkId: string
  /** `tcp` (the daemon) or `memory` (simulator fidelity mode, tests). */
  transport?: 'tcp' | 'memory'
  /** Listen addresses, e.g. `/ip4/127.0.0.1/tcp/0` or `/memory/peer-3`. */
  listen?: string[]
  /** Addresses told to peers instead of the listen addresses (a port forward, a proxy, a public address). */
  announce?: string[]
  /** tcp: the local IP outbound connections are made from (hosts with several addresses; passed to net.connect as localAddress). */
  dialFrom?: string
  /** Multiaddrs (with /p2p/ id) to join through. */
  bootstrap?: string[]
  /** Mutable membership view consulted by the connection gater on every connection. */
  membership?: Membership
  /** Relaxes gossipsub's IP-colocation penalty: only for loopback / in-process test networks. */
  loopbackTestNetwork?: boolean
  maxAnnounceBytes?: number
  /** libp2p metrics implementation (e.g. `prometheusMetrics()`); one per process. */
  metrics?: (components: any) => Metrics
  /** yamux initial stream window (bytes). */
  streamWindowBytes?: number
  /** yamux data frame size (bytes). */
  muxerMessageBytes?: number
  /** Upper bound on open connections. */
  maxConnections?: number
  /** Per-address limits before authentication (built from the `AddressLimitsInit` fields when absent). */
  addressLimits?: AddressLimits
  /** Inbound connections upgrading at once, all addresses. */
  maxIncomingPendingConnections?: number
  /** How long an inbound connection may take to finish its handshakes (ms). */
  inboundUpgradeTimeoutMs?: number
  /** New inbound connections per second from one host before libp2p refuses more. */
  inboundConnectionsPerSecond?: number
}

/** The node's gater: membership after the handshake, and the per-address limits before it when given. */
export function membershipGater (membership: Membership, limits?: AddressLimits): ConnectionGater {
  const deny = (peerId: PeerId): boolean => {
    const key = peerKeyFromPeerId(peerId)
    if (key == null) return true
    return membership.isMember != null && !membership.isMember(key)
  }
  return {
    ...(limits != null
      ? { denyInboundConnection: limits.denyInboundConnection, denyInboundUpgradedConnection: (_peer: PeerId, maConn: Parameters<AddressLimits['onUpgraded']>[0]) => limits.onUpgraded(maConn) }
      : {}),
    denyDialPeer: deny,
    denyInboundEncryptedConnection: deny,
    denyOutboundEncryptedConnection: deny,
    // loopback and private addresses are what consortium deployments and test networks use
    denyDialMultiaddr: () => false
  }
}

export function messageId (data: Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest()
}

export async function createMurmurLibp2p (init: MurmurLibp2pInit): Promise<MurmurLibp2p> {
  const kind = init.transport ?? 'tcp'
  const topic = announceTopic(init.networkId)
  const manifestTopicName = manifestTopic(init.networkId)
  const membership = init.membership ?? { isMember: null }
  const listen = init.listen ?? (kind === 'tcp' ? ['/ip4/127.0.0.1/tcp/0'] : [])
  const maxAnnounce = init.maxAnnounceBytes ?? DEFAULT_MAX_ANNOUNCE_BYTES
  const bootstrapList = init.bootstrap ?? []
  return await createLibp2p<MurmurServices>({
    privateKey: init.privateKey,
    start: false,
    addresses: { listen, ...(init.announce != null && init.announce.length > 0 ? { announce: init.announce } : {}) },
    transports: [kind === 'memory' ? memory() : tcp(init.dialFrom != null ? { dialOpts: { localAddress: init.dialFrom } as TCPSocketOptions } : {})],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({
      // larger windows: a 16 MiB model should not wait on window updates every 256 KiB
      streamOptions: { initialStreamWindowSize: init.streamWindowBytes ?? DEFAULT_STREAM_WINDOW_BYTES, maxStreamWindowSize: Math.max(init.streamWindowBytes ?? 0, DEFAULT_MAX_STREAM_WINDOW_BYTES) },
      maxMessageSize: init.muxerMessageBytes ?? DEFAULT_MUXER_MESSAGE_BYTES
    })],
    connectionGater: membershipGater(membership, init.addressLimits ?? new AddressLimits(init)),
    connectionManager: {
      maxConnections: init.maxConnections ?? 100,
      maxIncomingPendingConnections: init.maxIncomingPendingConnections ?? DEFAULT_MAX_INCOMING_PENDING,
      inboundUpgradeTimeout: init.inboundUpgradeTimeoutMs ?? DEFAULT_INBOUND_UPGRADE_TIMEOUT_MS,
      inboundConnectionThreshold: init.inboundConnectionsPerSecond ?? DEFAULT_INBOUND_CONNECTIONS_PER_SECOND
    },
    peerDiscovery: bootstrapList.length > 0 ? [bootstrap({ list: bootstrapList, timeout: 0 })] : [],
    ...(init.metrics != null ? { metrics: init.metrics } : {}),
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        globalSignaturePolicy: StrictNoSign,
        msgIdFn: (msg) => messageId(msg.data),
        fastMsgIdFn: (msg) => Buffer.from(messageId(msg.data ?? new Uint8Array(0))).toString('base64'),
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        allowedTopics: [topic, manifestTopicName],
        maxInboundDataLength: maxAnnounce + 1024,
        scoreParams: {
          // the defaults score no topic, so invalid messages would cost nothing: score ours
          topics: {
            [topic]: createTopicScoreParams({
              topicWeight: 1,
              invalidMessageDeliveriesWeight: -100,
              invalidMessageDeliveriesDecay: 0.5,
              // no delivery quotas: rounds are slow and irregular
              meshMessageDeliveriesWeight: 0,
              meshFailurePenaltyWeight: 0,
              firstMessageDeliveriesWeight: 1,
              firstMessageDeliveriesCap: 100,
              timeInMeshWeight: 0.01
            }),
            // manifest announcements (rare): a forged or malformed one costs the sender as much
            [manifestTopicName]: createTopicScoreParams({
              topicWeight: 1,
              invalidMessageDeliveriesWeight: -100,
              invalidMessageDeliveriesDecay: 0.5,
              meshMessageDeliveriesWeight: 0,
              meshFailurePenaltyWeight: 0,
              firstMessageDeliveriesWeight: 0,
              timeInMeshWeight: 0
            })
          },
          ...(init.loopbackTestNetwork === true ? { IPColocationFactorWeight: 0 } : {})
        },
        scoreThresholds: { gossipThreshold: -100, publishThreshold: -500, graylistThreshold: -1000 }
      })
    }
  })
}
