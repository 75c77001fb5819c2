/**
 * Per-sender replay and equivocation state, persisted through the Store as `ReplayMark`s.
 *
 * A sender's envelopes carry strictly increasing sequence numbers. An envelope is fresh when its seq is above
 * the sender's high-water mark, or within `window` below it and not seen yet (reordering on the network).
 * The same seq with the same id again is a REPLAY; the same seq with a different id is EQUIVOCATION; a seq
 * more than `window` below the mark is refused as REPLAYED (too old to tell).
 */
import type { PeerKey } from '../interfaces.js'
import type { ReplayMark } from './store.js'

export type ReplayVerdict = { ok: true } | { ok: false, reason: 'REPLAYED' } | { ok: false, reason: 'EQUIVOCATION', firstId: string }

export class ReplayGuard {
  readonly window: number
  private readonly marks = new Map<PeerKey, { highestSeq: number, recent: Map<number, string> }>()

  constructor (window = 64, marks: Iterable<ReplayMark> = []) {
    if (!(Number.isInteger(window) && window >= 0)) throw new RangeError(`replay window must be an integer >= 0, got ${window}`)
    this.window = window
    for (const m of marks) this.marks.set(m.sender, { highestSeq: m.highestSeq, recent: new Map(m.recent) })
  }

  /** Checks without changing anything. */
  check (sender: PeerKey, seq: number, id: string): ReplayVerdict {
    const mark = this.marks.get(sender)
    if (mark == null) return { ok: true }
    const seen = mark.recent.get(seq)
    if (seen != null) return seen === id ? { ok: false, reason: 'REPLAYED' } : { ok: false, reason: 'EQUIVOCATION', firstId: seen }
    if (seq > mark.highestSeq) return { ok: true }
    if (seq > mark.highestSeq - this.window - 1 && seq >= 0) {
      // within the window but not remembered: only possible for seqs never seen (we keep every seq in the window)
      return { ok: true }
    }
    return { ok: false, reason: 'REPLAYED' }
  }

  /** Records an accepted envelope and returns the sender's new mark (to commit in the same batch). */
  accept (sender: PeerKey, seq: number, id: string): ReplayMark {
    let mark = this.marks.get(sender)
    if (mark == null) { mark = { highestSeq: -1, recent: new Map() }; this.marks.set(sender, mark) }
    mark.recent.set(seq, id)
    if (seq > mark.highestSeq) mark.highestSeq = seq
    const floor = mark.highestSeq - this.window
    for (const s of mark.recent.keys()) if (s < floor) mark.recent.delete(s)
    return this.mark(sender) as ReplayMark
  }

  mark (sender: PeerKey): ReplayMark | null {
    const mark = this.marks.get(sender)
    if (mark == null) return null
    return { sender, highestSeq: mark.highestSeq, recent: [...mark.recent.entries()].sort((a, b) => a[0] - b[0]) }
  }

  senders (): PeerKey[] { return [...this.marks.keys()] }
}
