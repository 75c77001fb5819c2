/**
 * The averaging rule seam: what one rule decides (what it sends each round, what it accepts and in which round
 * window, how it merges, what it keeps across a restart) and what the engine core hands it. The core keeps
 * everything rules share: validation, replay, the update log and checkpoint batches, events, metrics, the loop.
 */
import type { z } from 'zod'
import type { AbortOptions, Learner, Metrics, PeerKey, RefusalReason, Rng } from '../../interfaces.js'
import type { PeerEngineOptions } from '../constants.js'
import type { Checkpoint } from '../store.js'
import type { UpdateFields, UpdateHeader, UpdateKind } from '../types.js'

/** An update that passed validation, the round window, the kind check and replay; its weights are dense. */
export interface AcceptedUpdate {
  id: string
  header: UpdateHeader
  /** Read-only (may be shared with other engines). */
  weights: Float32Array
}

/** What `receive` did: merged into the model now, and/or a refusal the core counts and logs. */
export interface ReceiveOutcome { merged: boolean, refusal: RefusalReason | null }

/** A model a buffering rule holds until the round ends (also re-created from the update log after a restart). */
export interface BufferedUpdate { id: string, sender: PeerKey, round: number, mass: number, weights: Float32Array }

/** The round window of one update kind: how many rounds behind / ahead of ours it may be. */
export interface RoundWindow { maxLag: number, maxLead: number }

/** What the core hands a rule. */
export interface RuleContext<P> {
  readonly self: PeerKey
  readonly params: P
  readonly options: Readonly<PeerEngineOptions>
  /** The peer's 'partners' stream: every random choice of the rule comes from it. */
  readonly rng: Rng
  /** The current local round. */
  readonly round: number
  readonly metrics: Metrics | null
  /** This peer's learner (read-only use: a rule may ask a learner it knows, e.g. glm-newton's GLM learner). */
  readonly learner: Learner
  /** The transport's current neighbours, without this peer. */
  neighbours: () => PeerKey[]
  /** This peer's merge mass under `params.weighting`: its example count (at least 1), or 1. */
  mass: () => number
  /** The current model (read-only; replace it with `setModel`). */
  model: () => Float32Array
  setModel: (weights: Float32Array) => void
  /** Serialises model read-modify-write sections (training, merges); run every merge inside it. */
  exclusive: <T>(fn: () => Promise<T> | T) => Promise<T>
  /** Header fields for a new envelope: takes the next seq, and the parents merged since the last send by default. */
  fields: (kind: UpdateKind, weight: number, parents?: string[]) => UpdateFields
  /** Seals and sends (through the behaviour when one is installed); the honest id and who the transport took. */
  send: (fields: UpdateFields, weights: Float32Array, to: PeerKey[], honest: Float32Array, options: AbortOptions) => Promise<{ id: string, delivered: PeerKey[] }>
  /** Counts a refusal decided outside `receive` (a share held for later and refused when it was due). */
  refuse: (reason: RefusalReason, from: PeerKey) => void
  /** Whether this peer merges what it receives (false for a free-riding behaviour). */
  merges: () => boolean
  /** Counts updates merged outside `receive` (a buffered merge) and records their ids as parents of the next send. */
  mergedBuffered: (ids: readonly string[]) => void
}

/** One averaging rule on one peer. Created by its definition's `create` for each engine. */
export interface AveragingRule {
  /** Update kinds this rule sends and accepts; others are refused MALFORMED. */
  readonly kinds: readonly UpdateKind[]
  /** How long the daemon loop waits for neighbours before ending a round; null: it does not wait. */
  readonly roundTimeoutMs: number | null
  /** The round window for an accepted kind, or null when the rule matches it otherwise (a reply to a request). */
  roundWindow: (kind: UpdateKind) => RoundWindow | null
  /** Round begins, after training: send `honest` (this round's model) per the rule. */
  send: (honest: Float32Array, options: AbortOptions) => Promise<void>
  /** An accepted update arrives: merge it now, buffer it, or refuse it. */
  receive: (update: AcceptedUpdate, options: AbortOptions) => Promise<ReceiveOutcome>
  /** Round `round` ends: merge what was buffered for it. */
  endRound: (round: number) => Promise<void>
  /** Synchronous rules: whether every neighbour's update for this round has arrived. Others: true. */
  roundComplete: () => boolean
  /** The push-sum weight (checkpointed and reported); 1 for rules without one. */
  weight: () => number
  /** Restores the rule's own state from a checkpoint (the core restores model, round and seq). */
  restore: (checkpoint: Checkpoint) => void
  /**
   * Buffering rules, after a restart: takes back an accepted update that was not merged before the checkpoint.
   * Returns whether it was buffered again. Only called when `traits.buffers` is true.
   */
  rebuffer: (update: BufferedUpdate) => boolean
  /** The core replaced the model from outside the rule (state adopted from members): drop state tied to the old one. */
  modelReplaced?: () => void
}

/** Properties of a rule that hold for every peer and parameter choice (the simulator's scheduler reads them). */
export interface RuleTraits {
  /** Whether handling an arriving update may send one (pairwise answers a request). */
  readonly sendsOnReceive: boolean
  /** Whether accepted updates wait in a buffer until the round ends (checkpoints then record when it was taken). */
  readonly buffers: boolean
  /** Whether the rule follows a Lamport round clock when `lamportRounds` is on (not for synchronous rules). */
  readonly lamportRounds: boolean
}

/** The zod schema of a rule's parameters: a strict object with a `rule` literal (the rule's name). */
export type RuleParamsSchema = z.ZodObject<{ rule: z.ZodLiteral<string> } & z.ZodRawShape>

/** A registry entry: the rule's name, parameter schema, traits and factory. */
export interface AveragingRuleDefinition<S extends RuleParamsSchema = RuleParamsSchema> {
  readonly name: z.output<S>['rule']
  readonly schema: S
  readonly traits: RuleTraits
  readonly create: (context: RuleContext<z.output<S>>) => AveragingRule
}

/** Typed identity for a rule definition (infers the parameter type from the schema). */
export function defineRule<S extends RuleParamsSchema> (definition: AveragingRuleDefinition<S>): AveragingRuleDefinition<S> {
  return definition
}
