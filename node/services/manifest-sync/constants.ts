/** Defaults of the manifest-sync service. */

/** Direct stream serving this peer's current manifest (for versions too large to announce on gossipsub). */
export const MANIFEST_PROTOCOL = '/murmur/manifest/1.0.0'

/** How long fetching (or serving) one manifest over MANIFEST_PROTOCOL may take. */
export const MANIFEST_FETCH_TIMEOUT_MS = 10_000

/** Streams of MANIFEST_PROTOCOL open at once, each way. */
export const MANIFEST_MAX_STREAMS = 8

/** Chunk size when serving a manifest on MANIFEST_PROTOCOL. */
export const MANIFEST_SERVE_CHUNK_BYTES = 256 * 1024

/** Default poll interval of the `--network` file (a newer, valid version in it is adopted live). */
export const WATCH_NETWORK_MS = 2000

/** At most one re-announcement (to a peer that newly subscribed) per this interval. */
export const REANNOUNCE_INTERVAL_MS = 5000
