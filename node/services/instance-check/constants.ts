/** Defaults of the instance check (one identity, one process). */

export const INSTANCE_PROTOCOL = '/murmur/instance/1.0.0'

/** How often every connection is asked which process answers on it. */
export const INSTANCE_CHECK_MS = 10_000

/** Largest request or answer (JSON), bytes. */
export const INSTANCE_MAX_BYTES = 1_024

/** One exchange must finish within this, ms. */
export const INSTANCE_TIMEOUT_MS = 5_000

/** Instances remembered per peer, and how long one counts after it last answered (ms). */
export const INSTANCE_MAX_PER_PEER = 8
export const INSTANCE_SEEN_MS = 60_000

/** /health says IDENTITY_IN_USE for this long after the last evidence (ms). */
export const INSTANCE_CLASH_HEALTH_MS = 600_000
