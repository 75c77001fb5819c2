/**
 * The `half-streams` attack of `murmur daemon --attack half-streams:count=N[,bytes=B]` (daemon only: the
 * simulator's transport has no streams). The first time it sees a neighbour, the rogue opens N update streams
 * to it, on each declares a message of B bytes (default: the network's largest message, so the receiver accepts
 * the header and allocates it), sends half of it (at most 16 MiB) and never sends the rest nor closes. The
 * receiver's defences: at most a few streams per peer (BUSY beyond, refused unread), the per-connection stream
 * cap, a declared length no larger than the network's model needs, and the read timeout that aborts a stalled
 * stream and frees its buffer (node/transport/). What the rogue could open, and what the receiver cut, is logged.
 */
import * as lp from 'it-length-prefixed'
import type { Stream } from '@libp2p/interface'
import type { Behaviour } from '../protocol/engine/types.js'
import type { PeerKey } from '../protocol/interfaces.js'
import { UPDATE_PROTOCOL } from './transport/constants.js'
import { peerIdFromPeerKey } from './transport/peer-key.js'
import { frameHeader, MAX_CHUNK_BYTES } from './transport/update-stream.js'
import type { Libp2pTransport } from './transport/libp2p-transport.js'
import type { Logger } from './logger.js'

/** How long the rogue waits to open one stream, or for one write to drain. */
const OPEN_TIMEOUT_MS = 5_000
/** The most the rogue sends on one stream (half the declared length, up to this). */
const MAX_SENT_PER_STREAM = 16 * 1024 * 1024

async function write (stream: Stream, data: Uint8Array | ReturnType<typeof lp.encode.single>): Promise<void> {
  if (!stream.send(data)) await stream.onDrain({ signal: AbortSignal.timeout(OPEN_TIMEOUT_MS) })
}

export interface HalfStreamsInit {
  count: number
  /** Declared message length (default: the transport's largest message). */
  bytes?: number
  transport: Pick<Libp2pTransport, 'libp2p' | 'maxMessageBytes'>
  log?: Pick<Logger, 'info' | 'debug'>
}

export function halfStreams (init: HalfStreamsInit): Behaviour {
  const attacked = new Set<PeerKey>()
  // held so that they stay open (and referenced) until the receiver resets them
  const held = new Set<Stream>()
  const open = async (peer: PeerKey): Promise<{ opened: number, failed: number }> => {
    const declared = init.bytes ?? init.transport.maxMessageBytes
    const half = Math.max(1, Math.min(MAX_SENT_PER_STREAM, Math.floor(declared / 2)))
    const chunk = new Uint8Array(Math.min(MAX_CHUNK_BYTES, half))
    let opened = 0
    let failed = 0
    await Promise.all(Array.from({ length: init.count }, async () => {
      try {
        const stream = await init.transport.libp2p.dialProtocol(peerIdFromPeerKey(peer), UPDATE_PROTOCOL, { signal: AbortSignal.timeout(OPEN_TIMEOUT_MS) })
        held.add(stream)
        stream.addEventListener('close', () => { held.delete(stream) }, { once: true })
        await write(stream, lp.encode.single(frameHeader(declared)))
        for (let sent = 0; sent < half; sent += chunk.length) await write(stream, lp.encode.single(chunk.subarray(0, Math.min(chunk.length, half - sent))))
        opened++
      } catch (err) {
        failed++
        init.log?.debug({ peer: peer.slice(0, 16), err: (err as Error).message }, 'half-streams: could not open a stream')
      }
    }))
    return { opened, failed }
  }
  return {
    name: `half-streams x${init.count}`,
    afterSend: async (ctx) => {
      for (const peer of ctx.neighbours) {
        if (attacked.has(peer)) continue
        attacked.add(peer)
        const r = await open(peer)
        init.log?.info({ peer: peer.slice(0, 16), ...r, held: held.size, declaredBytes: init.bytes ?? init.transport.maxMessageBytes }, 'half-streams: opened update streams and left them half-sent')
      }
    }
  }
}
