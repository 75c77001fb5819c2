/**
 * `defaultPeerNodeOptions`: the single source for the daemon's configuration and the CLI's defaults.
 */
export const defaultPeerNodeOptions = {
  /** Data directory: identity.json, the LevelDB (`db/`), api.json. */
  datadir: '.murmur',
  /** libp2p listen addresses. */
  listen: ['/ip4/0.0.0.0/tcp/4001'],
  /** Multiaddrs (with /p2p/ id) to join through. */
  bootstrap: [] as string[],
  /** Addresses told to peers instead of the listen addresses (port forward, proxy); empty: the listen addresses. */
  announce: [] as string[],
  /** Local IP that outbound TCP connections are made from (hosts with several addresses); default: the OS's choice. */
  dialFrom: undefined as string | undefined,
  /** HTTP API `HOST:PORT` (port 0: any free port; the daemon writes the bound URL to `<datadir>/api.json`). */
  api: '127.0.0.1:0',
  /** Token for the API; required when `api` is not a loopback address (env MURMUR_API_TOKEN). */
  apiToken: undefined as string | undefined,
  /** Pause between local rounds (ms). */
  roundIntervalMs: 1000,
  /** Local training steps per round. */
  localSteps: 5,
  /** Evaluate on local validation rows every this many rounds. */
  evaluateEveryRounds: 5,
  /** Keep a local-only model and a personal blend chosen on the validation rows (node/personal.ts). */
  personal: false,
  /** Checkpoint every this many rounds (and with every merged update). */
  checkpointEveryRounds: 1,
  /** Seed of this peer's random choices (partners, initialization); default: derived from the peer key. */
  seed: undefined as number | undefined,
  /** TF.js backend. */
  backend: 'wasm' as string,
  /** How often the data file (or directory) is checked for new rows (ms). */
  dataPollMs: 1000,
  /** Stop after this many local rounds (0: run until stopped). */
  maxRounds: 0,
  /** Largest message on the update stream (bytes). */
  maxMessageBytes: 64 * 1024 * 1024,
  /** Open networks: the passphrase (env MURMUR_PASSPHRASE). */
  passphrase: undefined as string | undefined,
  /** Peers to keep connections to: below it the connection keeper redials known peers; peer exchange stops asking above it. */
  targetPeers: 8,
  /** No connection at all for longer than this (ms): a warning, a metric, and /health answers 503. */
  isolatedLimitMs: 60_000,
  /** Wait until this many neighbours are connected before the first round (0: start at once). */
  waitForPeers: 0,
  /** Give up waiting for `waitForPeers` after this long and start anyway (ms). */
  waitForPeersTimeoutMs: 120_000,
  /** Checkpoints kept in the database. */
  keepCheckpoints: 3,
  /** Update-log retention: stored bytes kept (the oldest entries go first beyond it). */
  logMaxBytes: 256 * 1024 * 1024,
  /** Update-log retention: entries received longer ago than this go (ms; 90 days). */
  logMaxAgeMs: 90 * 24 * 60 * 60 * 1000,
  /** Metrics-history rows kept (one per round). */
  metricsKeep: 20_000,
  /** The operator's rule for bad rows of their own data file ('error' | 'skip'); default: the dataset spec's. */
  onBadRow: undefined as 'error' | 'skip' | undefined,
  /**
   * For testing only: run as a rogue member sending what this simulator attack sends (`kind[:key=value,...]`,
   * node/attack.ts), e.g. `scale:factor=1e29`. Unset: an honest daemon.
   */
  attack: undefined as string | undefined
}

export type PeerNodeOptions = typeof defaultPeerNodeOptions & {
  /** Path of network.json (the manifest). */
  network: string
  /** Local data: a CSV file (tailed for appended rows) or a directory (new files are read as they land). */
  data: string
}

export const API_FILE = 'api.json'
export const DB_DIR = 'db'
