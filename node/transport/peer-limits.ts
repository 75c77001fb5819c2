/**
 * Limits per authenticated peer on the update stream: how many inbound streams it may have open at once (each
 * holds a message buffer until it completes or times out) and how many messages per second it may send (a
 * token bucket). A refused stream gets a verdict (BUSY, RATE_LIMITED) without its body being read.
 */
import { RefusalReason, type PeerKey } from '../../protocol/interfaces.js'
import { DEFAULT_MAX_STREAMS_PER_PEER, DEFAULT_UPDATE_BURST_PER_PEER, DEFAULT_UPDATES_PER_SECOND_PER_PEER } from './constants.js'

export interface PeerLimitsInit {
  /** Inbound update streams one peer may have open at once. */
  maxStreamsPerPeer?: number
  /** Sustained inbound messages per second per peer (0 disables the rate limit). */
  updatesPerSecond?: number
  /** Bucket depth: messages a peer may send in a burst. */
  burst?: number
  /** Milliseconds clock (tests inject one). */
  now?: () => number
}

interface PeerState { open: number, tokens: number, at: number }

/** Peers idle this long (full bucket, nothing open) are forgotten, so the table stays as small as the peer set. */
const FORGET_AFTER_MS = 60_000

export class PeerLimits {
  readonly maxStreamsPerPeer: number
  readonly updatesPerSecond: number
  readonly burst: number
  private readonly now: () => number
  private readonly peers = new Map<PeerKey, PeerState>()
  private lastSweep = 0

  constructor (init: PeerLimitsInit = {}) {
    this.maxStreamsPerPeer = init.maxStreamsPerPeer ?? DEFAULT_MAX_STREAMS_PER_PEER
    this.updatesPerSecond = init.updatesPerSecond ?? DEFAULT_UPDATES_PER_SECOND_PER_PEER
    this.burst = init.burst ?? Math.max(DEFAULT_UPDATE_BURST_PER_PEER, Math.ceil(this.updatesPerSecond))
    if (!Number.isInteger(this.maxStreamsPerPeer) || this.maxStreamsPerPeer < 1) throw new RangeError(`maxStreamsPerPeer must be a positive integer, got ${this.maxStreamsPerPeer}`)
    if (!(this.updatesPerSecond >= 0) || !Number.isFinite(this.updatesPerSecond)) throw new RangeError(`updatesPerSecond must be >= 0, got ${this.updatesPerSecond}`)
    if (!Number.isInteger(this.burst) || this.burst < 1) throw new RangeError(`burst must be a positive integer, got ${this.burst}`)
    this.now = init.now ?? Date.now
  }

  /**
   * Admits one inbound message from `peer`: null (call `release(peer)` when its stream ends) or the refusal.
   * BUSY: the peer already has `maxStreamsPerPeer` streams open. RATE_LIMITED: its bucket is empty.
   */
  admit (peer: PeerKey): typeof RefusalReason.BUSY | typeof RefusalReason.RATE_LIMITED | null {
    const now = this.now()
    this.sweep(now)
    const s = this.peers.get(peer) ?? { open: 0, tokens: this.burst, at: now }
    this.refill(s, now)
    if (s.open >= this.maxStreamsPerPeer) return RefusalReason.BUSY
    if (this.updatesPerSecond > 0) {
      if (s.tokens < 1) { this.peers.set(peer, s); return RefusalReason.RATE_LIMITED }
      s.tokens -= 1
    }
    s.open++
    this.peers.set(peer, s)
    return null
  }

  /** The stream `admit` let in has ended (read, refused or timed out). */
  release (peer: PeerKey): void {
    const s = this.peers.get(peer)
    if (s != null && s.open > 0) s.open--
  }

  /** Streams `peer` has open now. */
  openStreams (peer: PeerKey): number {
    return this.peers.get(peer)?.open ?? 0
  }

  private refill (s: PeerState, now: number): void {
    if (now > s.at) s.tokens = Math.min(this.burst, s.tokens + (now - s.at) * this.updatesPerSecond / 1000)
    s.at = Math.max(s.at, now)
  }

  private sweep (now: number): void {
    if (now - this.lastSweep < FORGET_AFTER_MS) return
    this.lastSweep = now
    for (const [k, s] of this.peers) {
      if (s.open === 0 && now - s.at >= FORGET_AFTER_MS) this.peers.delete(k)
    }
  }
}
