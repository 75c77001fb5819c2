/** Storage defaults: what a daemon keeps when its operator sets nothing (docs/operations.md, "Retention"). */
import type { LogRetention } from './update-log.js'

const MiB = 1024 * 1024
const DAY_MS = 24 * 60 * 60 * 1000

export const DEFAULT_RETENTION: LogRetention = {
  /** The update log's stored bytes: about 3 days of a 4-peer network at 1 s rounds with a 10k-parameter model. */
  maxBytes: 256 * MiB,
  maxAgeMs: 90 * DAY_MS,
  /** Crash recovery replays at most the newest 10,000 entries; a tenth of that is always kept. */
  minEntries: 1_000
}

/** Metrics-history rows kept (one per round): the operator page and `murmur status --history` read the newest. */
export const DEFAULT_METRICS_KEEP = 20_000

/** Equivocation evidence records kept (each holds two envelopes); later ones are counted, not stored. */
export const DEFAULT_EVIDENCE_KEEP = 1_000
