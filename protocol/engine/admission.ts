/**
 * Admission of arriving envelopes, and the one owner of replay protection: the engine's replay guard (restored
 * from the store's marks) goes to the envelope seam with every `open`, whose validator checks it cheap-first
 * (REPLAYED before the signature is verified; EQUIVOCATION once the signature proves it). Then the engine's own
 * checks (sender, length, the rule's kinds and round window, weight, the sender's rate per round), then the
 * replay mark is committed.
 * Serialised: the check and the commit of one envelope are never interleaved with another's, so two copies of
 * an envelope arriving together cannot both pass.
 */
import { RefusalReason, type Incoming, type PeerKey } from '../interfaces.js'
import { createMemoryReplayGuard, type ReplayGuard } from '../messages/replay.js'
import type { PeerEngineOptions } from './constants.js'
import type { AveragingRule, RoundWindow } from './rules/types.js'
import type { RoundClock } from './round-clock.js'
import type { ReplayMark } from './store.js'
import type { PeerEngineComponents, UpdateHeader } from './types.js'
import type { StateOpened, StateResponse } from './state-sync.js'
import { SenderRate } from './sender-rate.js'

/** An envelope accepted (its replay mark committed, to be persisted with its log entry) or refused. */
export type Admitted =
  | { ok: true, id: string, header: UpdateHeader, weights: Float32Array, indices: Uint32Array | null | undefined, mark: ReplayMark }
  | { ok: false, reason: RefusalReason, id: string, header?: Partial<UpdateHeader>, detail?: string, previousId?: string }

export interface AdmissionHost {
  readonly self: PeerKey
  readonly ruleName: string
  round: () => number
  /** Records authenticated round claims, catches up and bounds how far accepted rounds move ours. */
  readonly clock: RoundClock
}

/**
 * The round window, with a margin for scoring: within `margin` beyond the window the refusal is one an honest
 * but late (or early) peer triggers and costs no gossip score; beyond it the FAR_ variant does. A lead is
 * measured against the network's round as this peer sees it (the clock's median of at least two senders, when
 * later than ours), and only once there is a median: a peer that is itself behind, or has heard one sender
 * only, never penalises an honest majority for being ahead of it.
 */
export function roundWindowRefusal (round: number, ours: number, median: number | null, window: RoundWindow, margin: number): RefusalReason | null {
  const lag = ours - round
  if (lag > window.maxLag) return lag > window.maxLag + margin ? RefusalReason.FAR_STALE_ROUND : RefusalReason.STALE_ROUND
  if (-lag <= window.maxLead) return null
  const far = median != null && round - Math.max(ours, median) > window.maxLead + margin
  return far ? RefusalReason.FAR_FUTURE_ROUND : RefusalReason.FUTURE_ROUND
}

export class Admission {
  private guard: ReplayGuard
  private lock: Promise<unknown> = Promise.resolve()
  private readonly rate: SenderRate
  constructor (
    private readonly c: PeerEngineComponents,
    private readonly options: Readonly<PeerEngineOptions>,
    private readonly rule: AveragingRule,
    private readonly host: AdmissionHost
  ) {
    this.guard = this.newGuard()
    this.rate = new SenderRate(options.senderUpdatesPerRound, options.senderUpdateBurst)
  }

  private newGuard (marks?: ReplayMark[]): ReplayGuard {
    return createMemoryReplayGuard({ window: Math.max(1, this.options.replayWindow), ...(marks != null ? { marks } : {}) })
  }

  /** Restores the replay marks persisted by earlier runs. */
  restore (marks: ReplayMark[]): void { this.guard = this.newGuard(marks) }

  async admit (incoming: Incoming): Promise<Admitted> {
    const run = this.lock.then(async () => await this.check(incoming))
    this.lock = run.catch(() => undefined)
    return await run
  }

  /**
   * Opens a member's answer to a state request (state-sync.ts): every check of the envelope layer and the
   * sender and length checks, but no round window, no round claim and no replay commit (it is not an update).
   */
  async openState (incoming: StateResponse): Promise<StateOpened> {
    const run = this.lock.then(async (): Promise<StateOpened> => {
      let opened
      try {
        opened = await this.c.envelopes.open(incoming.bytes, { round: this.host.round(), from: incoming.from, replay: this.guard })
      } catch (err) {
        return { ok: false, reason: RefusalReason.MALFORMED, detail: (err as Error).message }
      }
      if (!opened.ok) return { ok: false, reason: opened.reason, ...(opened.header?.sender != null ? { sender: opened.header.sender } : {}), ...(opened.detail != null ? { detail: opened.detail } : {}) }
      const { header, weights } = opened
      if (header.sender === this.host.self) return { ok: false, reason: RefusalReason.SELF, sender: header.sender, detail: 'own envelope' }
      if (opened.indices != null || weights.length !== this.c.learner.numParams) {
        return { ok: false, reason: RefusalReason.LENGTH_MISMATCH, sender: header.sender, detail: `a state must be the dense model of ${this.c.learner.numParams} weights` }
      }
      return { ok: true, sender: header.sender, round: header.round, weights }
    })
    this.lock = run.catch(() => undefined)
    return await run
  }

  private async check (incoming: Incoming): Promise<Admitted> {
    const round = this.host.round()
    let opened
    try {
      opened = await this.c.envelopes.open(incoming.bytes, { round, from: incoming.from, replay: this.guard })
    } catch (err) {
      return { ok: false, reason: RefusalReason.MALFORMED, id: '', detail: (err as Error).message }
    }
    if (!opened.ok) {
      const { reason, header, detail, previousId } = opened
      return { ok: false, reason, id: opened.id ?? '', ...(header != null ? { header } : {}), ...(detail != null ? { detail } : {}), ...(previousId != null ? { previousId } : {}) }
    }
    const { header, id, weights } = opened
    const refused = (reason: RefusalReason, detail: string): Admitted => ({ ok: false, reason, id, header, detail })
    if (header.sender === this.host.self) return refused(RefusalReason.SELF, 'own envelope')
    const numParams = this.c.learner.numParams
    if (weights.length !== numParams) return refused(RefusalReason.LENGTH_MISMATCH, `${weights.length} weights, expected ${numParams}`)
    if (!(this.rule.kinds as number[]).includes(header.kind)) return refused(RefusalReason.MALFORMED, `kind ${header.kind} is not used by rule ${this.host.ruleName}`)
    const window = this.rule.roundWindow(header.kind)
    // the signature is verified and the sender a member: its round claim may move our clock (catch-up)
    this.host.clock.observe(header.sender, header.round, window ?? { maxLag: this.options.maxRoundLag, maxLead: this.options.maxRoundLead })
    const ours = this.host.round()
    if (window != null) {
      const r = roundWindowRefusal(header.round, ours, this.host.clock.median(), window, this.options.roundRefusalMargin)
      if (r != null) return refused(r, `round ${header.round}, ours ${ours}`)
    }
    if (!(Number.isFinite(header.weight) && header.weight >= 0)) return refused(RefusalReason.MALFORMED, `weight ${header.weight}`)
    // last: only an update that would be accepted spends the sender's rate
    if (!this.rate.take(header.sender, ours)) return refused(RefusalReason.RATE_LIMITED, `more than ${this.rate.perRound} updates per round (burst ${this.rate.burst}) from this sender`)
    const mark = this.guard.commit(header.sender, header.seq, id)
    // Lamport rules follow a later accepted round, within the clock's bound (round-clock.ts)
    this.host.clock.follow(header.round)
    return { ok: true, id, header, weights, indices: opened.indices, mark }
  }
}
