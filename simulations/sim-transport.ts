/**
 * `SimTransport`: the engine's `Transport` over the simulator's virtual network. `send` never waits on the wall
 * clock: the world stamps the message with a virtual send time (after the peer's compute time and its uplink
 * queue), draws loss and latency from the sender's own seeded stream, and delivers it through the scheduler.
 * A peer that is offline or on the other side of a partition is unreachable: `send` rejects at once, as a
 * libp2p dial would.
 */
import type { AbortOptions, Incoming, PeerKey, RefusalReason, Transport } from '../protocol/interfaces.js'

export class PeerUnreachableError extends Error {
  static override name = 'PeerUnreachableError'
  override name = 'PeerUnreachableError'
}

export class AnnounceTooLargeError extends Error {
  static override name = 'AnnounceTooLargeError'
  override name = 'AnnounceTooLargeError'
}

/** What a SimTransport needs from the world that hosts it. */
export interface SimNetworkHost {
  neighboursOf: (index: number) => PeerKey[]
  /** Queues a message; throws PeerUnreachableError for an offline or partitioned peer, or an unknown key. */
  send: (from: number, to: PeerKey, bytes: Uint8Array, via: 'direct' | 'announce') => void
  /** Every reachable online peer (announcements reach the whole connected network, as gossipsub does). */
  announceTargets: (from: number) => PeerKey[]
}

export const DEFAULT_MAX_ANNOUNCE_BYTES = 64 * 1024

export class SimTransport implements Transport {
  readonly self: PeerKey
  readonly index: number
  readonly maxAnnounceBytes: number
  readonly #host: SimNetworkHost
  #handler: ((message: Incoming) => Promise<RefusalReason | null>) | null = null

  constructor (host: SimNetworkHost, index: number, self: PeerKey, maxAnnounceBytes = DEFAULT_MAX_ANNOUNCE_BYTES) {
    this.#host = host
    this.index = index
    this.self = self
    this.maxAnnounceBytes = maxAnnounceBytes
  }

  readonly neighbours = (): PeerKey[] => this.#host.neighboursOf(this.index)

  readonly send = async (peer: PeerKey, bytes: Uint8Array, options: AbortOptions = {}): Promise<void> => {
    options.signal?.throwIfAborted()
    this.#host.send(this.index, peer, bytes, 'direct')
  }

  readonly announce = async (bytes: Uint8Array, options: AbortOptions = {}): Promise<void> => {
    options.signal?.throwIfAborted()
    if (bytes.length > this.maxAnnounceBytes) {
      throw new AnnounceTooLargeError(`announcement of ${bytes.length} bytes exceeds ${this.maxAnnounceBytes}`)
    }
    for (const peer of this.#host.announceTargets(this.index)) this.#host.send(this.index, peer, bytes, 'announce')
  }

  readonly onMessage = (handler: (message: Incoming) => Promise<RefusalReason | null>): void => {
    this.#handler = handler
  }

  /** Called by the world when a message arrives (in virtual-time order). Null handler: dropped as BUSY. */
  async deliver (message: Incoming): Promise<RefusalReason | null> {
    if (this.#handler == null) return 'BUSY'
    return await this.#handler(message)
  }

  get hasHandler (): boolean { return this.#handler != null }
}
