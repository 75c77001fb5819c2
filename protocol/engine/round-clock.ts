/**
 * The round clock: how far the rounds claimed by other members may move this peer's round. It records the latest
 * round each distinct member claimed in a signed header (only after the envelope layer verified the signature, so
 * nobody can claim a round in another member's name) and derives the network's round as the lower median of the
 * recent claims of at least two distinct senders. One sender alone can never move that median past the others.
 *
 * - Following (Lamport-style rules): an accepted update from a later round moves the local round to that round
 *   when it is at most `step` rounds past `base`, the round the peer had when its current round began; a later
 *   one moves it as far as the median backs it, and, with fewer than three recent senders (no majority to back
 *   anyone: two peers at different speeds), by `step`. So a sender the others do not back moves the peer by at
 *   most `step` rounds per local round, however many updates it sends, and with three or more senders a claim
 *   of round + 999 moves it not at all.
 * - Catch-up (every rule): when the median of at least two senders is further ahead than the rule's window lets
 *   this peer's updates be accepted (`maxLag` for Lamport rules, `maxLead` for the others, whose own window
 *   handles smaller leads), the peer adopts the median at once and warns. This runs on every authenticated claim,
 *   also one refused as FUTURE_ROUND, so a peer far behind is not stuck refusing the honest majority.
 * - Falling back (every rule): when even the upper median of at least two senders is further behind than
 *   `fallBackLimit` (twice the window `maxLag`, at least 10 past it), this peer ran ahead alone (a first peer
 *   restarted before the others, one half of a healed partition) and would refuse the honest majority as STALE_ROUND (or FAR_STALE_ROUND, which costs them
 *   score). It adopts that upper median and warns. The upper median of two or more senders heard in the last
 *   `recentMs`: one slow or lying sender can never pull the round back, nor can members a partition cut off
 *   (their last claims stay for the horizon, but they are no longer heard).
 */
import type { Metrics, PeerKey } from '../interfaces.js'
import type { RoundWindow } from './rules/types.js'
import type { EngineLogger } from './types.js'

export interface RoundClockInit {
  /** Rounds one unbacked sender may move the local round per local round. */
  step: number
  /** Claims older than this (ms on the injected Clock) are forgotten. */
  horizonMs: number
  /** Falling back counts only claims heard this recently (ms): senders cut off by a partition are not the network. */
  recentMs: number
  /** At most this many senders are tracked (the least recently heard one is dropped). */
  maxSenders: number
  /** Whether accepted later rounds are followed (Lamport rules with `lamportRounds` on). */
  follows: boolean
}

export interface RoundClockHost {
  round: () => number
  setRound: (round: number) => void
  now: () => number
  logger?: EngineLogger
  metrics?: Metrics | null
  /** Metric counting catch-ups. */
  catchUpMetric: string
  /** Called when the peer adopts the network's round (before the round moves): its model is stale too. */
  caughtUp?: (previous: number, round: number) => void
}

interface Claim { round: number, at: number }

/** Rounds ahead of the network past which a peer falls back: twice the window, and at least 10 past it. */
export const fallBackLimit = (window: RoundWindow): number => Math.max(2 * window.maxLag, window.maxLag + 10)

/** Rounds above this are ignored as claims (sender-supplied; the wire allows more than anyone reaches). */
const MAX_CLAIM = Number.MAX_SAFE_INTEGER / 2

export class RoundClock {
  private readonly claims = new Map<PeerKey, Claim>()
  private base = 0
  private catchUps = 0
  private fallBacks = 0
  constructor (private readonly init: RoundClockInit, private readonly host: RoundClockHost) {}

  /** The local round at the start of the current round (restore, end of round, catch-up). */
  reset (round: number): void { this.base = round }

  /** How many times this peer adopted the network's round. */
  get caughtUp (): number { return this.catchUps }

  /** The lower median of the recent claims of at least two distinct senders; null with fewer. */
  median (): number | null { return this.medianAt('lower') }

  /** How many times this peer fell back to the network's round after running ahead of it. */
  get fellBack (): number { return this.fallBacks }

  private medianAt (which: 'lower' | 'upper', sinceMs = Number.NEGATIVE_INFINITY): number | null {
    this.expire()
    const rounds = [...this.claims.values()].filter((c) => c.at >= sinceMs).map((c) => c.round).sort((a, b) => a - b)
    if (rounds.length < 2) return null
    return rounds[which === 'lower' ? Math.floor((rounds.length - 1) / 2) : Math.ceil((rounds.length - 1) / 2)]
  }

  /**
   * Records a round claimed in an authenticated header from a member and catches up when far behind. Call before
   * the round window check, so the envelope that completes the majority is judged at the adopted round.
   */
  observe (sender: PeerKey, round: number, window: RoundWindow): void {
    if (!Number.isSafeInteger(round) || round < 0 || round > MAX_CLAIM) return
    const prev = this.claims.get(sender)
    // the highest claim per sender: a replayed old envelope cannot pull the median back
    const claim = { round: Math.max(round, prev?.round ?? 0), at: this.host.now() }
    this.claims.delete(sender)
    this.claims.set(sender, claim)
    if (this.claims.size > this.init.maxSenders) this.claims.delete(this.claims.keys().next().value as PeerKey)
    const m = this.median()
    const local = this.host.round()
    if (m == null) return
    const behind = m - local
    if (behind > (this.init.follows ? window.maxLag : window.maxLead)) {
      this.catchUps++
      this.host.metrics?.increment(this.host.catchUpMetric)
      this.host.logger?.warn({ behind, round: m, previous: local, senders: this.claims.size }, `behind the network by ${behind} rounds: adopting round ${m}`)
      this.host.caughtUp?.(local, m)
      this.host.setRound(m)
      this.base = m
      return
    }
    const upper = this.medianAt('upper', this.host.now() - this.init.recentMs) ?? local
    const ahead = local - upper
    if (ahead > fallBackLimit(window)) {
      this.fallBacks++
      this.host.metrics?.increment(this.host.catchUpMetric)
      this.host.logger?.warn({ ahead, round: upper, previous: local, senders: this.claims.size }, `ahead of the network by ${ahead} rounds (this peer ran alone): falling back to round ${upper}`)
      this.host.setRound(upper)
      this.base = upper
    }
  }

  /** An update from `round` was accepted: follow it (Lamport rules) within the bound. */
  follow (round: number): void {
    if (!this.init.follows) return
    const local = this.host.round()
    if (!(round > local)) return
    // a small lead is followed as a Lamport clock does; a larger one as far as the median backs it, and with
    // fewer than three senders (no majority to back anyone) by `step` per local round
    const m = this.median() ?? Number.NEGATIVE_INFINITY
    const small = this.base + this.init.step
    const to = round <= small ? round : Math.min(round, this.claims.size < 3 ? Math.max(small, m) : m)
    if (to > local) this.host.setRound(to)
  }

  private expire (): void {
    const oldest = this.host.now() - this.init.horizonMs
    // insertion order is the order heard in: stop at the first recent claim
    for (const [k, c] of this.claims) {
      if (c.at >= oldest) break
      this.claims.delete(k)
    }
  }
}
