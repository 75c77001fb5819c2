/**
 * Types of the peer engine: its components (everything injected), the envelope seam, the behaviour seam for
 * simulated adversaries, events and reports.
 */
import type {
  AbortOptions, Clock, Incoming, Learner, MetricValues, Metrics, PeerKey, RefusalReason, Rng, Transport
} from '../interfaces.js'
import type { AveragingParams } from './rules/index.js'
import type { PeerEngineOptions } from './constants.js'
import type { Store } from './store.js'
import type { ReplayGuard } from '../messages/replay.js'
import type { StateResponse, StateSyncResult } from './state-sync.js'
import { UpdateKind as EnvelopeKind } from '../messages/constants.js'

/**
 * The header `kind` byte: what an envelope is for. Assigned by the engine; the envelope layer only carries it.
 * - UPDATE (0): a model for epidemic / push-sum merging (`weight` = merge mass: example count or 1 for epidemic,
 *   the push-sum weight share for push-sum).
 * - PAIRWISE_REQUEST (1): opens a pairwise exchange (`weight` = initiator's merge mass).
 * - PAIRWISE_REPLY (2): the responder's PRE-merge model (`weight` = its merge mass; `parents[0]` = request id).
 * - DPSGD (= 0, the UPDATE kind under rule `dpsgd`): a synchronous D-PSGD round's model (`weight` = the sender's
 *   degree in the graph, for Metropolis-Hastings weights). The rule is network-wide, so kind 0 is unambiguous.
 * The values are protocol/messages' UpdateKind (the envelope accepts kinds 0..2) plus the DPSGD alias.
 */
export const UpdateKind = { ...EnvelopeKind, DPSGD: EnvelopeKind.UPDATE } as const
export type UpdateKind = typeof UpdateKind[keyof typeof UpdateKind]
export const UPDATE_KIND_NAMES: Record<number, string> = { 0: 'update', 1: 'pairwise-request', 2: 'pairwise-reply' }

/** The header fields the engine chooses; the envelope layer adds network, epoch, schema, sender, codec, hashes. */
export interface UpdateFields {
  kind: UpdateKind
  round: number
  seq: number
  /** The sender's local example count. */
  examples: number
  /** Rule-specific mass (see UpdateKind). float64 on the wire. */
  weight: number
  /** Parent update ids (lineage): the updates merged into this model since the last send, or the request id. */
  parents: string[]
}

export interface UpdateHeader extends UpdateFields {
  /** Signer of the envelope. */
  sender: PeerKey
}

export type OpenResult =
  | {
    ok: true
    id: string
    header: UpdateHeader
    /**
     * The decoded model. Read-only to the engine: merges, pairwise exchanges, push-sum, behaviours and
     * consensus estimates only read it (they write new arrays), so an Envelopes implementation may hand one
     * array to several engines (the simulator's envelope memo does).
     */
    weights: Float32Array
    /** Sparse codecs (top-k): the coordinates that were sent; the engine fills the others with its own values. */
    indices?: Uint32Array | null
  }
  | {
    ok: false
    reason: RefusalReason
    detail?: string
    header?: Partial<UpdateHeader>
    id?: string
    /** EQUIVOCATION: the id of the other envelope with the same sender and seq. */
    previousId?: string
  }

/** What the engine tells the envelope layer when it opens an envelope. */
export interface OpenContext {
  /** The receiver's current round. */
  round: number
  /** Who delivered it. */
  from: PeerKey
  /**
   * The engine's replay guard (restored from the store): the one replay check. `open` must refuse REPLAYED and
   * EQUIVOCATION against it (check only; the engine commits after accepting).
   */
  replay: ReplayGuard
}

/**
 * The envelope seam: encode + seal outgoing models, decode + validate incoming ones. The production
 * implementation (`sealedEnvelopes` in envelopes.ts) uses protocol/messages and protocol/codecs: size, decode
 * with limits, network and schema, membership and epoch, signature, decryption, finite values and shape, norm
 * bound, replay and equivocation against the engine's guard (`OpenContext.replay`). The round window and the
 * kinds are the averaging rule's, checked by the engine, which also commits and persists the replay marks.
 */
export interface Envelopes {
  /** Seals this peer's update. `id` is the update id receivers will compute. */
  seal: (fields: UpdateFields, weights: Float32Array) => { bytes: Uint8Array, id: string } | Promise<{ bytes: Uint8Array, id: string }>
  /**
   * Validates an arriving envelope, including replay and equivocation with `context.replay` (check only, no
   * commit): the engine does not check them again. EQUIVOCATION only once the signature proves the sender.
   */
  open: (bytes: Uint8Array, context: OpenContext) => OpenResult | Promise<OpenResult>
}

/** pino-compatible subset. */
export interface EngineLogger {
  debug: (obj: object, msg?: string) => void
  info: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
  error: (obj: object, msg?: string) => void
}

/** A model this peer is about to seal and send. A behaviour may rewrite any field. */
export interface OutgoingUpdate extends UpdateFields {
  /** The recipients of this envelope. */
  to: PeerKey[]
  weights: Float32Array
}

/** A model received from a neighbour (kept when a behaviour is installed or `keepLastReceived` is on). */
export interface ReceivedModel {
  sender: PeerKey
  round: number
  kind: UpdateKind
  examples: number
  weight: number
  weights: Float32Array
  receivedAt: number
}

/** An envelope this peer sent (most recent first in `BehaviourContext.sentLog`). */
export interface SentEnvelope { id: string, seq: number, round: number, kind: UpdateKind, to: PeerKey[], bytes: Uint8Array }

/** What a behaviour sees and may do. */
export interface BehaviourContext {
  readonly self: PeerKey
  readonly round: number
  readonly rule: AveragingParams['rule']
  /** A stream for the behaviour's own random choices (forked from the engine's rng with label 'behaviour'). */
  readonly rng: Rng
  /** This peer's honest model for this round (do not mutate). */
  readonly honest: Float32Array
  /** The last model received from each neighbour. */
  readonly received: ReadonlyMap<PeerKey, ReceivedModel>
  /** Current neighbours. */
  readonly neighbours: readonly PeerKey[]
  /** This peer's recent envelopes, most recent first (for replay). */
  readonly sentLog: readonly SentEnvelope[]
  /** Takes a fresh sequence number (for extra envelopes). */
  nextSeq: () => number
  /** Seals arbitrary fields and weights as this peer (e.g. a second envelope with the same seq: equivocation). */
  seal: (fields: UpdateFields, weights: Float32Array) => Promise<{ bytes: Uint8Array, id: string }>
  /** Sends raw bytes (e.g. an old envelope: replay). Counted in bytes sent. */
  send: (peer: PeerKey, bytes: Uint8Array, options?: AbortOptions) => Promise<void>
}

/**
 * The behaviour seam (adversaries live in simulations/attacks). Every hook is optional; an honest peer has none.
 */
export interface Behaviour {
  /** A label for reports. */
  readonly name?: string
  /**
   * Rewrites an outgoing update before it is sealed. Return the update (modified or not), several (e.g. the same
   * seq with different weights to different recipients: equivocation), or an empty array to send nothing.
   */
  outgoing?: (update: OutgoingUpdate, context: BehaviourContext) => OutgoingUpdate | OutgoingUpdate[] | Promise<OutgoingUpdate | OutgoingUpdate[]>
  /** Runs after the round's sends; may send extra envelopes through the context. */
  afterSend?: (context: BehaviourContext, options?: AbortOptions) => void | Promise<void>
  /** Whether this peer merges what it receives (default true; a free-riding or static attacker may not). */
  merges?: (context: BehaviourContext) => boolean
}

export interface PeerEngineComponents {
  transport: Transport
  learner: Learner
  store: Store
  clock: Clock
  /** The peer's seeded stream; the engine forks 'partners', 'behaviour' from it. */
  rng: Rng
  envelopes: Envelopes
  metrics?: Metrics | null
  logger?: EngineLogger
  behaviour?: Behaviour | null
}

export interface PeerEngineInit extends Partial<Omit<PeerEngineOptions, 'averaging'>> {
  /** Averaging rule and parameters (validated with zod against the rule registry, rules/index.ts). */
  averaging?: unknown
}

/**
 * Why an accepted update was bounded before merging (protocol/engine/bound.ts): its model clipped to the
 * radius around ours, its mass / push-sum weight or its example count clamped.
 */
export const BOUND_REASONS = ['CLIPPED', 'WEIGHT_CLAMPED', 'EXAMPLES_CLAMPED'] as const
export type BoundReason = typeof BOUND_REASONS[number]

/** Traffic and merge counters, per round (RoundReport) and since start (EngineTotals). */
export interface TrafficCounters {
  bytesSent: number
  bytesReceived: number
  updatesSent: number
  updatesMerged: number
  sendFailures: number
  /** Refused updates by reason. */
  refused: Partial<Record<RefusalReason, number>>
  /** Accepted updates bounded before merging, by reason (one update may count under several). */
  bounded: Partial<Record<BoundReason, number>>
}

/** What one local round did. */
export interface RoundReport extends TrafficCounters {
  round: number
  rule: AveragingParams['rule']
  /** Local training steps and mean loss (NaN when no step ran). */
  steps: number
  loss: number
  examples: number
  trainMs: number
  /** Mean L2 distance between this peer's model and the models received this round (null: none received). */
  consensusDistance: number | null
  /** consensusDistance / |own model| (null: none received or own norm 0). */
  relativeConsensusDistance: number | null
  pushSumWeight: number
  /** Present on evaluation rounds. */
  evaluation?: MetricValues
}

export interface MergeEvent { from: PeerKey, id: string, kind: UpdateKind, round: number }
export interface RefusedEvent { from: PeerKey, reason: RefusalReason, detail?: string, id?: string }
export interface SentEvent { to: PeerKey, id: string, kind: UpdateKind, bytes: number, ok: boolean }

export interface PeerEngineEvents {
  round: CustomEvent<RoundReport>
  merged: CustomEvent<MergeEvent>
  refused: CustomEvent<RefusedEvent>
  sent: CustomEvent<SentEvent>
  error: CustomEvent<Error>
  /** This peer adopted the network's state from members (state-sync.ts). */
  state: CustomEvent<Extract<StateSyncResult, { adopted: true }>>
}

/** Running totals since the engine was created. */
export interface EngineTotals extends TrafficCounters {
  rounds: number
}

/** A typed EventTarget (the engine is a Node EventTarget dispatching CustomEvents). */
export interface TypedEventTarget<M extends { [K in keyof M]: Event }> {
  addEventListener: <K extends keyof M & string>(type: K, listener: (event: M[K]) => void, options?: { once?: boolean, signal?: AbortSignal }) => void
  removeEventListener: <K extends keyof M & string>(type: K, listener: (event: M[K]) => void) => void
  dispatchEvent: (event: Event) => boolean
}

export interface PeerEngine extends TypedEventTarget<PeerEngineEvents> {
  readonly self: PeerKey
  readonly params: AveragingParams
  readonly options: Readonly<PeerEngineOptions>
  /** The current local round (the round `beginRound` trains). */
  readonly round: number
  /** The next sequence number. */
  readonly seq: number
  readonly pushSumWeight: number
  readonly running: boolean
  /** Whether this peer is behind and wants the network's state (a fresh start, or its round clock caught up). */
  readonly wantsState: boolean
  /** This peer's current model, sealed and signed: its answer to a member's state request. */
  stateEnvelope: (options?: AbortOptions) => Promise<Uint8Array>
  /** Checks members' answers to a state request and adopts their robust choice when this peer wants state. */
  adoptState: (responses: readonly StateResponse[], options?: AbortOptions) => Promise<StateSyncResult>
  /** Loads checkpoint and replay marks from the store and registers with the transport. Idempotent. */
  init: (options?: AbortOptions) => Promise<void>
  /** Round begins: merges nothing; trains `localSteps`, then builds, seals and sends per the rule. */
  beginRound: (options?: AbortOptions) => Promise<void>
  /** Round ends: merges what was buffered (epidemic, dpsgd), evaluates and checkpoints when due, emits 'round'. */
  endRound: (options?: AbortOptions) => Promise<RoundReport>
  /** beginRound + endRound (for dpsgd, the caller must deliver neighbours' messages in between). */
  runRound: (options?: AbortOptions) => Promise<RoundReport>
  /**
   * Validates and handles one arriving envelope: returns the refusal reason or null. Merges at once for
   * push-sum and pairwise; buffers for epidemic (merged at endRound) and dpsgd (by round).
   */
  handleMessage: (incoming: Incoming, options?: AbortOptions) => Promise<RefusalReason | null>
  /** dpsgd: true when every current neighbour's update for this round has arrived. Others: true. */
  roundComplete: () => boolean
  /** Daemon mode: loops rounds on the injected Clock until `stop()` or the signal aborts. Resolves once started. */
  start: (options?: AbortOptions) => Promise<void>
  /** Stops the loop, waits for it, and writes a final checkpoint. */
  stop: () => Promise<void>
  /** A copy of the current model. */
  weights: () => Float32Array
  totals: () => EngineTotals
}
