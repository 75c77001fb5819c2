/** Defaults for the libp2p transport (merged once into `Libp2pTransportInit`). */

/** Protocol for weights and pairwise exchange: length-prefixed, chunked, bounded. */
export const UPDATE_PROTOCOL = '/murmur/update/1.0.0'

/**
 * Largest message the update stream accepts when nothing smaller is known (checked against the declared length
 * before allocating). The daemon lowers it to what the network's model needs (`updateMessageLimit`).
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024

/** Longest wait for the next frame of an update stream before it is aborted (a stalled sender pins a buffer). */
export const DEFAULT_READ_TIMEOUT_MS = 10_000

/** Longest time one inbound message may take in all (a sender trickling a byte per read timeout). */
export const DEFAULT_MESSAGE_DEADLINE_MS = 60_000

/** Inbound update streams one peer may have open at once (its buffers are what a member can pin). */
export const DEFAULT_MAX_STREAMS_PER_PEER = 4

/** libp2p's own cap on inbound update streams per connection (above the per-peer cap: those get a BUSY verdict). */
export const DEFAULT_MAX_INBOUND_STREAMS_PER_CONNECTION = 8

/**
 * Per-peer inbound update rate (token bucket). A rule sends a peer at most one update and a pairwise exchange
 * per round, so at the daemon's 1 s rounds this is several times what any rule needs.
 */
export const DEFAULT_UPDATES_PER_SECOND_PER_PEER = 20

/** Token-bucket depth of the per-peer rate (a burst after a reconnect). */
export const DEFAULT_UPDATE_BURST_PER_PEER = 40

/** Inbound connections from one address (IPv4 host or IPv6 /64) that may be upgrading at once. */
export const DEFAULT_MAX_PENDING_PER_ADDRESS = 4

/** Inbound connections from one address, upgrading or open (loopback test networks run many peers per host). */
export const DEFAULT_MAX_INBOUND_PER_ADDRESS = 32

/** Inbound connections upgrading at once, all addresses (libp2p's default is 10). */
export const DEFAULT_MAX_INCOMING_PENDING = 64

/** How long an inbound connection may take to finish noise and yamux (libp2p's default is 10 s). */
export const DEFAULT_INBOUND_UPGRADE_TIMEOUT_MS = 5_000

/** New inbound connections per second from one host (libp2p's rate limiter; its default). */
export const DEFAULT_INBOUND_CONNECTIONS_PER_SECOND = 5

/**
 * Chunk size on the update stream: the largest a receiver accepts (update-stream.ts MAX_CHUNK_BYTES), so any
 * receiver reads it. Fewer, larger frames cost less per byte (scripts/bench/network.ts; figures in BENCHMARKS.md).
 */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024

/**
 * yamux initial (and per-update) receive window of a stream. A 16 MiB model should not stall on a window update
 * every 256 KiB: the window is grown to the maximum after the first update.
 */
export const DEFAULT_STREAM_WINDOW_BYTES = 4 * 1024 * 1024

/** yamux largest receive window of a stream. */
export const DEFAULT_MAX_STREAM_WINDOW_BYTES = 16 * 1024 * 1024

/** yamux largest data frame written (bigger frames: fewer headers and fewer noise messages per byte). */
export const DEFAULT_MUXER_MESSAGE_BYTES = 64 * 1024

/** Largest announcement on gossipsub (it silently drops anything over about 4 MiB). */
export const DEFAULT_MAX_ANNOUNCE_BYTES = 64 * 1024

/** How long one direct send may take, ack included. */
export const DEFAULT_SEND_TIMEOUT_MS = 60_000

/** Gossipsub topic for a network's manifest announcements (new membership versions; the daemon handles it). */
export function manifestTopic (networkId: string): string {
  return `/murmur/${networkId}/manifest/1`
}

/** Gossipsub topic for a network's announcements. */
export function announceTopic (networkId: string): string {
  return `/murmur/${networkId}/announce/1`
}
