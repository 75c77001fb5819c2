/** Defaults for the libp2p transport (merged once into `Libp2pTransportInit`). */

/** Protocol for weights and pairwise exchange: length-prefixed, chunked, bounded. */
export const UPDATE_PROTOCOL = '/murmur/update/1.0.0'

/** Largest message the update stream accepts (checked against the declared length before allocating). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024

/**
 * Chunk size on the update stream: the largest a receiver accepts (update-stream.ts MAX_CHUNK_BYTES), so any
 * receiver reads it. Fewer, larger frames cost less per byte: in interleaved runs (scripts/bench/network.ts,
 * receiver in its own process) 1 MiB chunks moved a 16 MiB model at 0.96-1.10x the raw stream, 256 KiB at
 * 0.80-0.93x and 64 KiB at 0.58-0.88x.
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
