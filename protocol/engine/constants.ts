/** Defaults for `peerEngine(init)`: the single source for config and CLI defaults. */
import type { AveragingParamsInput } from './rules/index.js'
import { DEFAULT_REPLAY_WINDOW } from '../messages/constants.js'

export const defaultPeerEngineOptions = {
  /** Averaging rule and parameters (normally from the network manifest). */
  averaging: { rule: 'epidemic' } as AveragingParamsInput,
  /** Local training steps per round. */
  localSteps: 1,
  /** Evaluate on local validation rows every this many rounds (0: never). */
  evaluateEveryRounds: 10,
  /** Write a checkpoint every this many rounds (0: never at round ends). */
  checkpointEveryRounds: 1,
  /** Also checkpoint in the same atomic batch as every merged update (crash safety for async merges). */
  checkpointOnMerge: true,
  /** Daemon loop: pause between rounds (ms on the injected Clock). */
  roundIntervalMs: 1_000,
  /**
   * Asynchronous rules (epidemic, push-sum, pairwise): on accepting an update from a later round, jump to that round
   * (a Lamport clock), so daemons running at different speeds keep comparable rounds. Never for dpsgd.
   */
  lamportRounds: true,
  /** Accept updates at most this many rounds behind our round (STALE_ROUND beyond). */
  maxRoundLag: 100,
  /** Accept updates at most this many rounds ahead of our round (FUTURE_ROUND beyond). */
  maxRoundLead: 1_000,
  /**
   * Round clock (round-clock.ts): rounds one sender the others do not back may move this peer's round per local
   * round (Lamport rules); a median of at least two senders moves it further.
   */
  roundClockStep: 2,
  /** Round clock: a sender's claimed round counts this long (ms on the Clock) after it was heard. */
  roundClockHorizonMs: 600_000,
  /** Round clock: falling back to the network's round counts only the claims heard within this long (ms). */
  roundClockRecentMs: 5_000,
  /** Round clock: at most this many senders' claims are kept (the least recently heard is dropped). */
  roundClockMaxSenders: 256,
  /** STALE_ROUND / FUTURE_ROUND this many rounds beyond the window become FAR_* (gossipsub reject: costs score). */
  roundRefusalMargin: 100,
  /** Reordered envelopes from one sender are accepted within this many sequence numbers. */
  replayWindow: DEFAULT_REPLAY_WINDOW,
  /**
   * Updates one sender may have accepted per local round (sender-rate.ts): every rule needs at most one, pairwise
   * two (a request and a reply); beyond it RATE_LIMITED.
   */
  senderUpdatesPerRound: 2,
  /** Bucket depth of the per-sender rate: updates a sender may have accepted at once (a faster sender, a catch-up). */
  senderUpdateBurst: 4,
  /** Keep envelope bytes in the update log (the simulator turns this off to save memory). */
  logEnvelopeBytes: true,
  /** Record refused envelopes in the update log too. */
  logRefused: true,
  /** Keep the last model received from each neighbour (for the consensus estimate; needed by behaviours). */
  keepLastReceived: false,
  /**
   * Estimate consensus distance from what arrives (RoundReport.consensusDistance: mean distance between the own
   * model and each received one; one pass over the weights per update). The simulator turns this off: it
   * measures the network's consensus distance itself, over all peers.
   */
  consensusEstimate: true,
  /** Pairwise: an exchange not answered by the initiator's next round stops making it BUSY. */
  pairwiseReplyTimeoutRounds: 1,
  /** Pairwise: a reply arriving later than this many rounds after its request is refused (STALE_ROUND). */
  pairwiseMaxReplyAgeRounds: 5,
  /**
   * State sync (state-sync.ts): a peer that fell behind adopts the members' state only when their round is at
   * least this many rounds past the round it had then (members that start together keep their own models).
   */
  stateSyncMinLeadRounds: 10,
  /** Own envelopes kept (only when a behaviour is installed) for behaviours that re-send them (replay attack). */
  sentLogSize: 16
}

export type PeerEngineOptions = typeof defaultPeerEngineOptions

/** Sequence numbers skipped after a restart, so no seq sent after the last checkpoint is ever reused. */
export const SEQ_RESTART_GAP = 1024

/**
 * Sequence numbers per millisecond of the peer's clock reserved for each start: a start at time t sends from at
 * least t * SEQ_PER_MS, so a restart after any downtime, even with its database lost (no checkpoint to say how far
 * it got), never reuses a sequence number: it would take more than SEQ_PER_MS sends per millisecond to catch up
 * with the clock. (A clock set back across a lost database is the one case this cannot cover.)
 */
export const SEQ_PER_MS = 1000

/** The first sequence number a peer starting at `nowMs` may use. */
export function seqFloor (nowMs: number): number {
  const t = Number.isFinite(nowMs) && nowMs > 0 ? Math.floor(nowMs) : 0
  return Math.min(Number.MAX_SAFE_INTEGER, t * SEQ_PER_MS)
}

/** Metric names the engine reports (labels in comments). */
export const ENGINE_METRICS = {
  rounds: 'murmur_engine_rounds_total',
  round: 'murmur_engine_round',
  trainLoss: 'murmur_engine_train_loss',
  evaluation: 'murmur_engine_evaluation', // {metric}
  bytesSent: 'murmur_engine_bytes_sent_total',
  bytesReceived: 'murmur_engine_bytes_received_total',
  updatesSent: 'murmur_engine_updates_sent_total', // {kind}
  updatesMerged: 'murmur_engine_updates_merged_total',
  updatesRefused: 'murmur_engine_updates_refused_total', // {reason}
  updatesBounded: 'murmur_engine_updates_bounded_total', // {reason}: CLIPPED, WEIGHT_CLAMPED, EXAMPLES_CLAMPED
  sendFailures: 'murmur_engine_send_failures_total',
  consensusDistance: 'murmur_engine_consensus_distance',
  stateAdoptions: 'murmur_engine_state_adoptions_total',
  roundCatchUps: 'murmur_engine_round_catch_ups_total',
  pushSumWeight: 'murmur_engine_push_sum_weight'
} as const
