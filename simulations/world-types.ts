/** The types a World exchanges with its peers and the coordinator (structured-clone friendly where they cross threads). */
import type { Clock, Incoming, MetricValues, PeerKey, RefusalReason, Transport } from '../protocol/interfaces.js'
import type { Rng } from '../protocol/rng.js'
import type { AttackSpec, Scenario } from './scenario.js'

/** A message in flight between peers (structured-clone friendly). */
export interface WireMessage {
  to: number
  from: number
  /** Per-sender message counter (total order of a sender's messages). */
  seq: number
  /** Virtual arrival time (ms). */
  at: number
  /** 0 = direct, 1 = announce. */
  via: 0 | 1
  bytes: Uint8Array
  /** Set once the receiver's downlink has taken it (it may then be due later than `at` first said). */
  ready?: boolean
  /**
   * What the sending world's environment knows about `bytes` (`WorldNotes`), for the receiving world's
   * environment: opaque to the world and the coordinator, which only carry it along.
   */
  note?: unknown
}

/**
 * A copy of `a` in shared memory: any number of worlds (worker threads) read it without a copy each or a transfer
 * (nothing is detached, so the coordinator can hand it to every world). For data every receiver only reads (the
 * decoded weights in the envelope memo's notes). Not for envelope bytes: sodium-native cannot read shared memory.
 */
export function sharedCopy<T extends Uint8Array | Float32Array | Uint32Array> (a: T): T {
  const Ctor = a.constructor as new (buffer: SharedArrayBuffer) => T
  const copy = new Ctor(new SharedArrayBuffer(a.byteLength))
  copy.set(a as never)
  return copy
}


/** One honest or adversarial peer as the world drives it (implemented over PeerEngine by the harness). */
export interface SimPeer {
  /** Round `round` begins (the global round; a straggler skips some). */
  beginRound: (round: number) => Promise<void>
  endRound: () => Promise<void>
  handle: (incoming: Incoming) => Promise<RefusalReason | null>
  weights: () => Float32Array
  /**
   * Whether `handle` may send (pairwise answers a request). False lets the scheduler deliver the rest of a round
   * in one window; undefined counts as true (always safe).
   */
  sendsOnReceive?: boolean
  /** Main metric values on the held-out test split (`curve`: the first curveRows rows; `final`: all). */
  evaluate: (which: 'curve' | 'final') => Promise<MetricValues>
  dispose?: () => void
}

export interface PeerContext {
  index: number
  key: PeerKey
  keys: readonly PeerKey[]
  /** SimTransport in the virtual network; a libp2p transport in `--transport libp2p` mode. */
  transport: Transport
  clock: Clock
  /** The peer's own stream (`fork('peer:i')` of the scenario seed). */
  rng: Rng
  /** The attack this peer runs, or null for an honest peer. */
  attack: AttackSpec | null
  scenario: Scenario
}

export type PeerFactory = (context: PeerContext) => Promise<SimPeer>

/** Per-peer counters (index = position in `owned`). */
export interface PeerCounters {
  bytesSent: number
  bytesReceived: number
  messagesSent: number
  messagesLost: number
  messagesUnreachable: number
  messagesDropped: number
}

export interface StepResult {
  outbox: WireMessage[]
  /** Earliest pending event (ms) in this world, or Infinity. */
  next: number
  /**
   * Earliest virtual time at which a peer of this world may send from now on, given what is queued here
   * (Infinity: not before the next round). Messages the coordinator still holds for this world count when
   * `reactive` is true.
   */
  sendFrom: number
  /** Whether some peer of this world may send when it receives (then any delivery here may send). */
  reactive: boolean
  /** Wall milliseconds spent in engine calls, by phase. */
  busyMs: number
}

export interface RoundEndResult {
  /** Per peer evaluated: [index, metrics]. */
  evaluations: Array<[number, MetricValues]>
  /**
   * With `evaluate: 'final'` only: the same peers on the curve rows (the subset every earlier `'curve'` round
   * used), so the last point of the per-round curve is comparable with the others. Empty otherwise.
   */
  curveEvaluations?: Array<[number, MetricValues]>
  /** Honest peers' weights (for the global consensus distance), when asked. */
  weights: Array<[number, Float32Array]>
  /** Bytes sent and received in this round by this world's peers (totals). */
  bytesSent: number
  bytesReceived: number
  refused: Record<string, number>
  messagesLost: number
  messagesUnreachable: number
  messagesDropped: number
  peersActive: number
  busyMs: number
}

/** A peer that promised not to send on receive did (the scheduler's horizon would be wrong): a bug, not input. */
export class SchedulerInvariantError extends Error {
  static override name = 'SchedulerInvariantError'
  override name = 'SchedulerInvariantError'
}

/**
 * Notes a world's peer environment attaches to envelope bytes that leave for another world, and reads from bytes
 * that arrive from one (the harness carries its envelope memo across worker threads with them:
 * harness/envelopes.ts). `send` runs when the outbox is taken, once per distinct byte array leaving this world,
 * with the copy that stays for this world's own receivers of the same envelope (if any); its time counts as busy
 * (engine) time. `receive` runs once per inbound message that carries a note, before it is queued.
 */
export interface WorldNotes {
  send: (outgoing: Uint8Array, local: Uint8Array | undefined) => unknown
  receive: (bytes: Uint8Array, note: unknown) => void
}

export interface WorldOptions {
  scenario: Scenario
  keys: PeerKey[]
  owned: number[]
  adversaries: number[]
  createPeer: PeerFactory
  notes?: WorldNotes
}
