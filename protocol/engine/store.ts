/**
 * The storage the peer engine needs, as one small interface. `MemoryStore` (memory-store.ts) implements it for
 * the simulator and tests; the daemon implements it over LevelDB (node/store/).
 *
 * Contract:
 * - `commit(batch)` is ATOMIC: after a crash either everything in the batch is stored or nothing is. The engine
 *   commits, for every received envelope, its update-log entry together with the sender's new replay mark and,
 *   when the envelope was merged and a checkpoint is due, the checkpoint of the merged state. At the end of a
 *   round it commits the checkpoint (when due) and the round's metrics snapshot.
 * - Replay marks and checkpoints are "last write wins" per key (sender, resp. the single latest checkpoint);
 *   log entries, evidence and metrics snapshots are appended.
 * - Readers return what was committed; they never see half a batch.
 * - Stored arrays (weights, bytes) must not be mutated by the store after commit; the engine never mutates an
 *   array it has handed over.
 */
import type { AbortOptions, PeerKey, RefusalReason } from '../interfaces.js'

/** The engine state needed to resume after a restart. */
export interface Checkpoint {
  /** The local round the peer is in (the next `beginRound` trains round `round`). */
  round: number
  /** The next sequence number this peer will put on an envelope (strictly increasing across restarts). */
  seq: number
  /** The peer's model (de-biased estimate z for push-sum). */
  weights: Float32Array
  /** push-sum weight w (1 or the example count at start; 0 is never stored). Other rules store 1. */
  pushSumWeight: number
  /** Averaging rule the state belongs to (a checkpoint from another rule restarts the push-sum weight). */
  rule: string
  /** Schema hash of the learner the weights belong to. */
  schemaHash: string
  /** Clock time of the save (ms). */
  savedAt: number
}

/**
 * Per-sender replay state (protocol/messages/replay.ts): the highest sequence number accepted (`highWater`) and
 * the recent [seq, updateId] pairs within the replay window, ascending by seq.
 */
export type { ReplayMark } from '../messages/replay.js'
import type { ReplayMark } from '../messages/replay.js'

export type UpdateVerdict = 'accepted' | 'refused'

/** One envelope as received, with its verdict. */
export interface UpdateLogEntry {
  /** Update id (hex hash of the envelope from the validator), or '' when the envelope could not be decoded. */
  id: string
  /** Sender key from the header, or the transport's `from` when the header could not be decoded. */
  sender: PeerKey
  round: number
  seq: number
  /** Engine message kind (`UpdateKind`), -1 when undecodable. */
  kind: number
  verdict: UpdateVerdict
  reason: RefusalReason | null
  /** Whether the update changed this peer's model (accepted and merged). */
  merged: boolean
  receivedAt: number
  parents: string[]
  /** The envelope exactly as received (empty when the engine was told not to keep bytes). */
  bytes: Uint8Array
}

/** Two different envelopes signed by the same sender with the same sequence number. */
export interface EquivocationEvidence {
  sender: PeerKey
  seq: number
  firstId: string
  secondId: string
  /** Envelope bytes; `first` may be empty when it is no longer in the update log. */
  first: Uint8Array
  second: Uint8Array
  detectedAt: number
}

/** A round's figures, kept as history. */
export interface MetricsSnapshot {
  round: number
  at: number
  values: Record<string, number>
}

/** What one atomic `commit` writes. Any field may be absent. */
export interface StoreBatch {
  log?: UpdateLogEntry[]
  replay?: ReplayMark[]
  checkpoint?: Checkpoint
  evidence?: EquivocationEvidence[]
  metrics?: MetricsSnapshot[]
}

export interface UpdateLogQuery {
  sender?: PeerKey
  /** Entries with `receivedAt >= since`. */
  since?: number
  /** Most recent first when true (default false: oldest first). */
  reverse?: boolean
  limit?: number
}

export interface Store {
  /** Atomically writes the batch (see the contract above). */
  commit: (batch: StoreBatch, options?: AbortOptions) => Promise<void>
  /** The latest committed checkpoint, or null. */
  latestCheckpoint: (options?: AbortOptions) => Promise<Checkpoint | null>
  /** Every sender's replay mark (loaded once at start). */
  replayMarks: (options?: AbortOptions) => Promise<ReplayMark[]>
  /** Update log entries in order of arrival. */
  updateLog: (query?: UpdateLogQuery, options?: AbortOptions) => AsyncIterable<UpdateLogEntry>
  /** All equivocation evidence. */
  evidence: (options?: AbortOptions) => Promise<EquivocationEvidence[]>
  /** Metrics snapshots, oldest first (the last `limit` when given). */
  metricsHistory: (query?: { limit?: number }, options?: AbortOptions) => Promise<MetricsSnapshot[]>
  close?: () => Promise<void>
}
