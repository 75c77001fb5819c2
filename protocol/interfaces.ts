/**
 * The small interfaces through which the peer engine sees the world. The daemon (node/) implements them
 * with libp2p, LevelDB and the wall clock; the simulator (simulations/) with a virtual network, memory and
 * a virtual clock. Nothing here imports libp2p, level, sockets, node/ or simulations/.
 *
 * Peers are named by the lowercase hex of their 32-byte ed25519 signing public key (`PeerKey`). The libp2p
 * transport maps libp2p PeerIds to and from these; the simulator uses them directly.
 */

import type { Rng } from './rng.js'

export type { Rng }

/** Lowercase hex of a peer's 32-byte ed25519 public key. */
export type PeerKey = string

export interface AbortOptions { signal?: AbortSignal }

/**
 * Every reason an update can be refused. One enum, counted in metrics and shown to operators.
 * The libp2p transport maps each reason to gossipsub's Accept / Ignore / Reject with `gossipVerdict`.
 */
export const RefusalReason = {
  OVERSIZED: 'OVERSIZED',
  MALFORMED: 'MALFORMED',
  UNSUPPORTED_VERSION: 'UNSUPPORTED_VERSION',
  WRONG_NETWORK: 'WRONG_NETWORK',
  SCHEMA_MISMATCH: 'SCHEMA_MISMATCH',
  LENGTH_MISMATCH: 'LENGTH_MISMATCH',
  STALE_MANIFEST: 'STALE_MANIFEST',
  NOT_A_MEMBER: 'NOT_A_MEMBER',
  UNKNOWN_EPOCH: 'UNKNOWN_EPOCH',
  STALE_ROUND: 'STALE_ROUND',
  FUTURE_ROUND: 'FUTURE_ROUND',
  /** STALE_ROUND beyond the window plus `roundRefusalMargin`: costs gossip score. */
  FAR_STALE_ROUND: 'FAR_STALE_ROUND',
  /** FUTURE_ROUND beyond the network's round plus the window plus `roundRefusalMargin`: costs gossip score. */
  FAR_FUTURE_ROUND: 'FAR_FUTURE_ROUND',
  REPLAYED: 'REPLAYED',
  EQUIVOCATION: 'EQUIVOCATION',
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  DECRYPTION_FAILED: 'DECRYPTION_FAILED',
  BAD_PAYLOAD_HASH: 'BAD_PAYLOAD_HASH',
  NON_FINITE: 'NON_FINITE',
  NORM_BOUND: 'NORM_BOUND',
  /** Statistics no honest peer could have sent (rule glm-newton: learning/glm/share-bound.ts). */
  IMPLAUSIBLE_STATISTICS: 'IMPLAUSIBLE_STATISTICS',
  SELF: 'SELF',
  BUSY: 'BUSY',
  RATE_LIMITED: 'RATE_LIMITED'
} as const
export type RefusalReason = typeof RefusalReason[keyof typeof RefusalReason]
export const REFUSAL_REASONS: readonly RefusalReason[] = Object.values(RefusalReason)

/** gossipsub's three answers to a topic validator. */
export type GossipVerdict = 'accept' | 'ignore' | 'reject'

/**
 * How each refusal maps to gossipsub scoring: provable misbehaviour by the sender is `reject` (costs score);
 * things an honest but slow or out-of-date peer can trigger are `ignore`. A round just outside the window is
 * such a thing (STALE_ROUND / FUTURE_ROUND); one beyond the window plus a margin (FAR_*) is not: an honest
 * peer that far behind catches up on the first two members it hears (protocol/engine/round-clock.ts), and one
 * that far ahead of the network's median is claiming rounds nobody backs.
 */
export function gossipVerdict (reason: RefusalReason | null): GossipVerdict {
  if (reason == null) return 'accept'
  switch (reason) {
    case RefusalReason.STALE_MANIFEST:
    case RefusalReason.UNKNOWN_EPOCH:
    case RefusalReason.STALE_ROUND:
    case RefusalReason.FUTURE_ROUND:
    case RefusalReason.REPLAYED:
    case RefusalReason.SELF:
    case RefusalReason.BUSY:
    case RefusalReason.RATE_LIMITED:
      return 'ignore'
    default:
      return 'reject'
  }
}

/** A message as it arrives from the network. */
export interface Incoming {
  /** Who the transport says sent it (authenticated by the transport; the envelope signature is checked anyway). */
  from: PeerKey
  bytes: Uint8Array
  /** `direct` arrived on a point-to-point stream; `announce` arrived by broadcast (gossipsub). */
  via: 'direct' | 'announce'
}

export interface Transport {
  readonly self: PeerKey
  /** Peers this one may talk to now (its current neighbours in the topology or the libp2p mesh). */
  neighbours: () => PeerKey[]
  /** Sends bytes straight to one peer (weights, pairwise exchange). Rejects when the peer is unreachable. */
  send: (peer: PeerKey, bytes: Uint8Array, options?: AbortOptions) => Promise<void>
  /** Broadcasts a small message (at most `maxAnnounceBytes`) to the network. */
  announce: (bytes: Uint8Array, options?: AbortOptions) => Promise<void>
  /** Largest message `announce` accepts. */
  readonly maxAnnounceBytes: number
  /** Registers the one handler for arriving messages; returns the refusal reason (or null when accepted). */
  onMessage: (handler: (message: Incoming) => Promise<RefusalReason | null>) => void
}

/** What the trainer reports after local work. */
export interface TrainResult { steps: number, loss: number, examples: number }

/** Evaluation metrics by name (accuracy, logLoss, auc, poissonDeviance, devianceExplained, ...). */
export type MetricValues = Record<string, number>

/**
 * The seam between training and networking (disco's): the engine says "round begins" (`train`), then
 * "round ends with my weights" (`weights`) and hands back merged weights (`setWeights`).
 */
export interface Learner {
  /** Hex SHA-256 of layer names, shapes and dtypes: peers exchange only with the same schema. */
  readonly schemaHash: string
  /** Length of the flattened weight vector. */
  readonly numParams: number
  /** Local training examples available now (grows when the daemon's data file grows). */
  numExamples: () => number
  train: (steps: number, options?: AbortOptions) => Promise<TrainResult>
  weights: () => Float32Array
  setWeights: (weights: Float32Array) => void
  /** Evaluates on the peer's local validation rows, or on a given held-out split. */
  evaluate: (options?: AbortOptions & { split?: 'local' | 'test' }) => Promise<MetricValues>
  /** Frees tensors and any other resources. */
  dispose?: () => void
  /** True once a differentially private learner's budget is spent: the engine then sends no updates. */
  privacyExhausted?: () => boolean
}

export interface Clock {
  /** Milliseconds (wall or virtual). */
  now: () => number
  /** Resolves after `ms` (wall or virtual); rejects with the signal's reason when aborted. */
  sleep: (ms: number, options?: AbortOptions) => Promise<void>
}

/** Signs with the peer's ed25519 key. */
export interface Signer {
  readonly publicKey: Uint8Array
  sign: (message: Uint8Array) => Uint8Array
}

/** Counters and gauges the engine reports; `null` where no one collects them. */
export interface Metrics {
  increment: (name: string, labels?: Record<string, string>, by?: number) => void
  set: (name: string, value: number, labels?: Record<string, string>) => void
  observe: (name: string, value: number, labels?: Record<string, string>) => void
}
