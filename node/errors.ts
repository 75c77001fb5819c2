/** Errors of the daemon's configuration (bad files, flags, datadir), named so that callers and tests can tell them apart. */
export class PeerNodeConfigError extends Error {
  static override name = 'PeerNodeConfigError'
  override name = 'PeerNodeConfigError'
}
