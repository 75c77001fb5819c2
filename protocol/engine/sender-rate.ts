/**
 * The per-sender update rate, in this peer's own rounds: every rule sends a neighbour at most one update per
 * round (pairwise: a request and a reply), so an authenticated sender may have `perRound` updates accepted per
 * local round, with a bucket of `burst` for senders running a little faster than us. Past it the engine refuses
 * RATE_LIMITED (a verdict record in the update log, not the envelope): a member flooding valid signed updates
 * cannot multiply its weight in a merge or fill the receiver's database. Rounds, not seconds, so the simulator's
 * virtual time and the daemon's wall clock get the same rule. (The transport also limits messages per second
 * per peer before anything is decoded: node/transport/peer-limits.ts.)
 */
import type { PeerKey } from '../interfaces.js'

interface Bucket { tokens: number, round: number }

/** Senders remembered at most (the least recently heard is forgotten, with a full bucket when it returns). */
const MAX_SENDERS = 4096

export class SenderRate {
  private readonly buckets = new Map<PeerKey, Bucket>()
  constructor (readonly perRound: number, readonly burst: number) {
    if (!(perRound > 0) || !Number.isFinite(perRound)) throw new RangeError(`senderUpdatesPerRound must be a positive number, got ${perRound}`)
    if (!(burst >= 1) || !Number.isFinite(burst)) throw new RangeError(`senderUpdateBurst must be at least 1, got ${burst}`)
  }

  /** Takes one update of `sender` in local round `round`: true when within its rate (a token is spent). */
  take (sender: PeerKey, round: number): boolean {
    const b = this.buckets.get(sender) ?? { tokens: this.burst, round }
    if (round > b.round) {
      b.tokens = Math.min(this.burst, b.tokens + (round - b.round) * this.perRound)
      b.round = round
    }
    this.buckets.delete(sender)
    this.buckets.set(sender, b)
    if (this.buckets.size > MAX_SENDERS) {
      const oldest = this.buckets.keys().next().value
      if (oldest != null) this.buckets.delete(oldest)
    }
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }
}
