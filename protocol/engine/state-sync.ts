/**
 * State download for a peer that is behind (as hivemind's `load_state_from_peers`): a new member, one back after a
 * downtime longer than any round window, or one whose database was lost. Such a peer's round clock adopts the
 * network's round at once (round-clock.ts), but its model is still its initial or stale one; merging it in would
 * drag its neighbours back. So the engine marks that it wants state, and the node asks several members for their
 * current model: each answers with an ordinary update envelope, sealed and signed by that member, which this peer
 * opens with every check of the envelope layer (membership, key epoch, signature, decryption, finite values,
 * shape, norm bound, replay) except the round window (being behind is the point).
 *
 * The state adopted is chosen robustly: the lower median of the answers' rounds and the coordinate-wise median of
 * their models, so with three or more answers one liar can move neither past the honest answers. With one answer
 * the peer trusts that member (it is signed); with two, it takes the earlier round and their mean. A peer adopts
 * only when the network's round is well ahead of the round it had when it fell behind (`stateSyncMinLeadRounds`),
 * so the members of a fresh network that start together keep their own models.
 */
import type { AbortOptions, Incoming, PeerKey, RefusalReason } from '../interfaces.js'
import { UpdateKind, type EngineLogger, type Envelopes } from './types.js'

/** One member's answer, as the node received it (on a direct stream from `from`). */
export type StateResponse = Pick<Incoming, 'from' | 'bytes'>

export type StateOpened =
  | { ok: true, sender: PeerKey, round: number, weights: Float32Array }
  | { ok: false, reason: RefusalReason, sender?: PeerKey, detail?: string }

export type StateSyncResult =
  | { adopted: true, round: number, previousRound: number, from: PeerKey[], refused: number }
  | { adopted: false, reason: 'not-wanted' | 'no-valid-answer' | 'not-ahead', valid: number, refused: number, networkRound?: number }

export interface StateSyncHost {
  readonly self: PeerKey
  round: () => number
  /** Moves the local round (and the round clock's base) to `round`. */
  setRound: (round: number) => void
  model: () => Float32Array
  setModel: (w: Float32Array) => void
  /** Fields for an envelope of this peer's own model (a fresh sequence number, no parents). */
  fields: () => { kind: UpdateKind, round: number, seq: number, examples: number, weight: number, parents: string[] }
  envelopes: Envelopes
  /** Opens an answer with the envelope layer's checks and the engine's (sender, length), without a round window. */
  open: (response: StateResponse) => Promise<StateOpened>
  /** Persists the adopted state (a checkpoint). */
  commit: (options: AbortOptions) => Promise<void>
  refused: (reason: RefusalReason, from: PeerKey, detail: string) => void
  adopted: (result: Extract<StateSyncResult, { adopted: true }>) => void
  logger?: EngineLogger
}

/** What a peer that is behind adopts from several members' states (see the module comment). */
export function chooseState (states: ReadonlyArray<{ round: number, weights: Float32Array }>): { round: number, weights: Float32Array } {
  if (states.length === 0) throw new RangeError('chooseState needs at least one state')
  const rounds = states.map((s) => s.round).sort((a, b) => a - b)
  const round = rounds[Math.floor((rounds.length - 1) / 2)]
  const n = states.length
  const dim = states[0].weights.length
  const out = new Float32Array(dim)
  const column = new Float64Array(n)
  for (let i = 0; i < dim; i++) {
    for (let k = 0; k < n; k++) column[k] = states[k].weights[i]
    column.sort()
    out[i] = n % 2 === 1 ? column[(n - 1) / 2] : (column[n / 2 - 1] + column[n / 2]) / 2
  }
  return { round, weights: out }
}

export class StateSync {
  /** The round this peer had when its round clock caught up; null when it did not. */
  private behindSince: number | null = null
  /** A fresh start (no checkpoint): compared with the round it has reached when the answers come. */
  private fresh = false
  private why = ''
  private adoptions = 0

  /** `minLeadRounds`: how far past this peer's round (see `want`) the members must be for it to adopt. */
  constructor (private readonly host: StateSyncHost, private readonly minLeadRounds: number) {}

  /** Whether this peer wants the network's state (set at a fresh start and when the round clock caught up). */
  get wanted (): boolean { return this.fresh || this.behindSince != null }

  /** How many times this peer adopted the network's state. */
  get adopted (): number { return this.adoptions }

  /**
   * Marks that this peer may be behind: `fromRound` is the round it had when its round clock caught up (the
   * earliest is kept), or 'fresh' for a start without a checkpoint (then the round it has reached counts, so the
   * members of a new network that start together keep their own models).
   */
  want (fromRound: number | 'fresh', why: string): void {
    if (fromRound === 'fresh') this.fresh = true
    else if (this.behindSince == null || fromRound < this.behindSince) this.behindSince = fromRound
    else return
    this.why = why
    this.host.logger?.info({ round: fromRound, why }, 'wants the network\'s current state from its members')
  }

  /** This peer's current model as a sealed, signed update envelope (what it answers a state request with). */
  async envelope (): Promise<Uint8Array> {
    const sealed = await this.host.envelopes.seal({ ...this.host.fields(), kind: UpdateKind.UPDATE, parents: [] }, this.host.model())
    return sealed.bytes
  }

  /** Checks the answers and adopts the robust choice among the valid ones (see the module comment). */
  async adopt (responses: readonly StateResponse[], options: AbortOptions = {}): Promise<StateSyncResult> {
    if (!this.wanted) return { adopted: false, reason: 'not-wanted', valid: 0, refused: 0 }
    const bySender = new Map<PeerKey, { round: number, weights: Float32Array }>()
    let refused = 0
    for (const r of responses) {
      options.signal?.throwIfAborted()
      const o = await this.host.open(r)
      if (!o.ok) {
        refused++
        this.host.refused(o.reason, o.sender ?? r.from, `state answer: ${o.detail ?? o.reason}`)
        continue
      }
      // one answer per member counts (a member cannot vote twice through two connections)
      if (!bySender.has(o.sender)) bySender.set(o.sender, { round: o.round, weights: o.weights })
    }
    if (bySender.size === 0) return { adopted: false, reason: 'no-valid-answer', valid: 0, refused }
    const chosen = chooseState([...bySender.values()])
    const previousRound = this.host.round()
    if (chosen.round < (this.behindSince ?? previousRound) + Math.max(1, this.minLeadRounds)) {
      // the members are not ahead of where this peer fell behind: its own state is as good as theirs
      this.clear()
      return { adopted: false, reason: 'not-ahead', valid: bySender.size, refused, networkRound: chosen.round }
    }
    this.host.setModel(chosen.weights)
    if (chosen.round > previousRound) this.host.setRound(chosen.round)
    await this.host.commit(options)
    this.clear()
    this.adoptions++
    const result = { adopted: true as const, round: this.host.round(), previousRound, from: [...bySender.keys()], refused }
    this.host.logger?.warn({ round: result.round, previous: previousRound, members: result.from.length, refused, why: this.why },
      `adopted the network's state from ${result.from.length} member(s) at round ${result.round}`)
    this.host.adopted(result)
    return result
  }

  private clear (): void {
    this.fresh = false
    this.behindSince = null
  }
}
