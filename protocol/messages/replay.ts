/**
 * Replay and equivocation protection. Per sender: a high-water mark (highest accepted sequence number) and
 * the update id accepted at each recent sequence number (the last `window` ones). A repeat of an id is
 * REPLAYED; a different id at an already-used sequence number is EQUIVOCATION (the caller keeps both
 * envelopes as evidence); a sequence number at or below highWater - window is REPLAYED (too old to tell).
 * Out-of-order arrival inside the window is accepted.
 *
 * The validator calls `check` (with the receiving engine's guard: the one replay check) and the engine calls
 * `commit` after it accepts an update. The daemon persists
 * what `commit` returns (and restores it with `createMemoryReplayGuard({ marks })`), so the marks survive
 * restarts; the simulator keeps them in memory.
 */
import type { PeerKey } from '../interfaces.js'
import { DEFAULT_REPLAY_WINDOW } from './constants.js'

export type ReplayCheck =
  | { ok: true }
  | { ok: false, reason: 'REPLAYED', detail: string }
  | { ok: false, reason: 'EQUIVOCATION', detail: string, previousId: string }

/** What the store persists per sender. */
export interface ReplayMark {
  sender: PeerKey
  /** Highest committed sequence number, -1 when none. */
  highWater: number
  /** [seq, id] pairs of the recent window, ascending by seq. */
  recent: Array<[number, string]>
}

export interface ReplayGuard {
  check: (sender: PeerKey, seq: number, id: string) => ReplayCheck
  /** Records an accepted update; returns the sender's mark to persist. */
  commit: (sender: PeerKey, seq: number, id: string) => ReplayMark
  /** The sender's current mark, or null when nothing was accepted from it. */
  mark: (sender: PeerKey) => ReplayMark | null
  /** All marks (for snapshots). */
  marks: () => ReplayMark[]
}

export interface MemoryReplayGuardInit {
  /** Sequence numbers remembered per sender (default 1024). */
  window?: number
  /** Marks restored from storage. */
  marks?: Iterable<ReplayMark>
}

interface SenderState { highWater: number, recent: Map<number, string> }

export function createMemoryReplayGuard (init: MemoryReplayGuardInit = {}): ReplayGuard {
  const window = init.window ?? DEFAULT_REPLAY_WINDOW
  if (!Number.isInteger(window) || window < 1) throw new RangeError('replay window must be a positive integer')
  const senders = new Map<PeerKey, SenderState>()
  for (const m of init.marks ?? []) {
    senders.set(m.sender, { highWater: m.highWater, recent: new Map(m.recent) })
  }
  const toMark = (sender: PeerKey, s: SenderState): ReplayMark => ({
    sender, highWater: s.highWater, recent: [...s.recent.entries()].sort((a, b) => a[0] - b[0])
  })
  return {
    check (sender, seq, id) {
      const s = senders.get(sender)
      if (s == null) return { ok: true }
      const previous = s.recent.get(seq)
      if (previous != null) {
        if (previous === id) return { ok: false, reason: 'REPLAYED', detail: `already accepted seq ${seq} from this sender` }
        return { ok: false, reason: 'EQUIVOCATION', detail: `seq ${seq} was already used by update ${previous}`, previousId: previous }
      }
      if (seq <= s.highWater - window) {
        return { ok: false, reason: 'REPLAYED', detail: `seq ${seq} is older than the replay window (high-water ${s.highWater})` }
      }
      return { ok: true }
    },
    commit (sender, seq, id) {
      let s = senders.get(sender)
      if (s == null) { s = { highWater: -1, recent: new Map() }; senders.set(sender, s) }
      s.recent.set(seq, id)
      if (seq > s.highWater) s.highWater = seq
      const floor = s.highWater - window
      if (s.recent.size > window) {
        for (const k of s.recent.keys()) if (k <= floor) s.recent.delete(k)
      }
      return toMark(sender, s)
    },
    mark (sender) {
      const s = senders.get(sender)
      return s == null ? null : toMark(sender, s)
    },
    marks () {
      return [...senders.entries()].map(([k, s]) => toMark(k, s))
    }
  }
}
