/** Defaults of the bootstrap dialer. */

/** How often the dialer checks whether this peer has no connection left (then dials the bootstrap peers again). */
export const BOOTSTRAP_CHECK_MS = 5000

/** How long one dial of a bootstrap address may take. */
export const BOOTSTRAP_DIAL_TIMEOUT_MS = 10_000
