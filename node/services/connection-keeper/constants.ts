/** Defaults of the connection keeper. */

/** How often the keeper compares the connections with the target (and records who is connected). */
export const KEEPER_CHECK_MS = 2000

/** How long one dial of one peer (all its addresses in turn) may take. */
export const KEEPER_DIAL_TIMEOUT_MS = 10_000

/** First wait after a failed dial of a peer; it doubles with every further failure. */
export const KEEPER_BACKOFF_BASE_MS = 1000

/** Longest wait between dials of one unreachable peer: a link that returns is used again within about this long. */
export const KEEPER_BACKOFF_MAX_MS = 30_000

/** Share of each wait drawn at random (0: none, 1: anywhere from 0 to the full wait), so peers do not redial in step. */
export const KEEPER_BACKOFF_JITTER = 0.5

/** Known peers kept in the store (the least recently seen are forgotten first). */
export const KEEPER_MAX_KNOWN_PEERS = 256

/** A connected peer's record is rewritten (last seen, addresses) at most this often. */
export const KEEPER_REFRESH_KNOWN_MS = 60_000

/** No connection at all for longer than this: a warning, a metric and an unhealthy /health. */
export const KEEPER_ISOLATED_LIMIT_MS = 60_000

/** Every arriving update refused for this many rounds in a row: a warning and a metric. */
export const KEEPER_REFUSED_ROUNDS_LIMIT = 5

/** A known peer seen within this long (ms) that fails this many dials in a row counts as unreachable; when at
 * least half of the recently seen peers are unreachable while others are connected, a split is suspected. */
export const KEEPER_SPLIT_RECENT_MS = 600_000
export const KEEPER_SPLIT_FAILURES = 2
