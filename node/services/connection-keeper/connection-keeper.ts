/**
 * Keeps this peer connected: every `checkMs` it records who it is connected to (peer id and the addresses
 * identify told us, in the store's known-peers repository), and while it has fewer connections than
 * `targetPeers` it dials known peers and bootstrap addresses it is not connected to, each peer on its own
 * exponential backoff with seeded jitter. So a partition heals by itself once links return, and a restarted
 * peer without --bootstrap rejoins from the peers it knew.
 *
 * It also watches the two symptoms of a peer that is running but cut off: no connection at all for longer than
 * `isolatedLimitMs`, and every arriving update refused for `refusedRoundsLimit` rounds in a row (a wrong key, a
 * stale manifest). Each is a warning once per episode and a metric; the first is also a /health reason.
 */
import type { PeerId } from '@libp2p/interface'
import type { ServiceNetwork, ServiceConnection } from '../../transport/service-network.js'
import type { Logger } from '../../logger.js'
import type { PromMetrics } from '../../metrics.js'
import type { LevelStore, KnownPeer } from '../../store/index.js'
import { boundKnownPeer } from '../../store/index.js'
import type { PeerEngine, RoundReport } from '../../../protocol/engine/index.js'
import { createRng } from '../../../protocol/rng.js'
import type { Startable } from '../types.js'
import { DialBackoff } from './backoff.js'
import {
  KEEPER_BACKOFF_BASE_MS, KEEPER_BACKOFF_JITTER, KEEPER_BACKOFF_MAX_MS, KEEPER_CHECK_MS, KEEPER_DIAL_TIMEOUT_MS,
  KEEPER_ISOLATED_LIMIT_MS, KEEPER_MAX_KNOWN_PEERS, KEEPER_REFRESH_KNOWN_MS, KEEPER_REFUSED_ROUNDS_LIMIT, KEEPER_SPLIT_FAILURES, KEEPER_SPLIT_RECENT_MS
} from './constants.js'

export interface ConnectionKeeperInit {
  /** Multiaddrs with their /p2p/ id, dialled like known peers (and first, at start). */
  bootstrap?: string[]
  /** Below this many connections the keeper dials. */
  targetPeers?: number
  checkMs?: number
  dialTimeoutMs?: number
  backoffBaseMs?: number
  backoffMaxMs?: number
  backoffJitter?: number
  maxKnownPeers?: number
  refreshKnownMs?: number
  isolatedLimitMs?: number
  refusedRoundsLimit?: number
  /** Seed of the backoff jitter. */
  seed?: number
  /** Time source (ms); the wall clock by default. */
  now?: () => number
}

export interface ConnectionKeeperComponents {
  network: Pick<ServiceNetwork, 'dial' | 'connections' | 'peerAddresses'>
  store: Pick<LevelStore, 'knownPeers' | 'commit'>
  engine: Pick<PeerEngine, 'addEventListener' | 'removeEventListener'>
  metrics: Pick<PromMetrics, 'node'>
  logger: Logger
}

export interface ConnectionKeeperStats {
  dialsOk: number
  dialsFailed: number
  /** Successful dials of peers known from the store (not from --bootstrap). */
  knownPeerDialsOk: number
  knownPeers: number
  /** Known-peer records skipped at start because they failed their checks. */
  corruptKnownPeers: number
  isolatedEpisodes: number
  /** Recently seen known peers this keeper cannot reach now, and the times a split was suspected. */
  unreachableKnownPeers: number
  splitEpisodes: number
  refusedRoundsInARow: number
  allRefusedEpisodes: number
}

interface Candidate { peerId: string, addrs: string[], fromStore: boolean }

const P2P = /\/p2p\/([^/]+)$/

export class ConnectionKeeper implements Startable {
  readonly stats: ConnectionKeeperStats = { dialsOk: 0, dialsFailed: 0, knownPeerDialsOk: 0, knownPeers: 0, corruptKnownPeers: 0, isolatedEpisodes: 0, unreachableKnownPeers: 0, splitEpisodes: 0, refusedRoundsInARow: 0, allRefusedEpisodes: 0 }
  private readonly known = new Map<string, KnownPeer>()
  private readonly bootstrap: Array<{ peerId: string, addr: string }> = []
  private readonly backoff: DialBackoff
  private readonly now: () => number
  private controller = new AbortController()
  private loop: Promise<void> | null = null
  private lastConnectedAt = 0
  private isolatedWarned = false
  private splitWarned = false

  constructor (private readonly init: ConnectionKeeperInit, private readonly c: ConnectionKeeperComponents) {
    for (const addr of init.bootstrap ?? []) {
      const id = P2P.exec(addr)?.[1]
      if (id == null) throw new RangeError(`bootstrap address ${addr} has no /p2p/<peer id>`)
      this.bootstrap.push({ peerId: id, addr: addr.replace(P2P, '') })
    }
    const rng = createRng(init.seed ?? 0).fork('connection-keeper')
    this.backoff = new DialBackoff({
      baseMs: init.backoffBaseMs ?? KEEPER_BACKOFF_BASE_MS,
      maxMs: init.backoffMaxMs ?? KEEPER_BACKOFF_MAX_MS,
      jitter: init.backoffJitter ?? KEEPER_BACKOFF_JITTER,
      random: () => rng.next()
    })
    this.now = init.now ?? Date.now
  }

  get targetPeers (): number { return this.init.targetPeers ?? 8 }
  get isolatedLimitMs (): number { return this.init.isolatedLimitMs ?? KEEPER_ISOLATED_LIMIT_MS }

  /** Loads the known peers, then checks (and dials) at once and every `checkMs`. */
  async start (options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    if (this.loop != null) return
    this.controller = new AbortController()
    const { peers, corrupt } = await this.c.store.knownPeers()
    for (const p of peers) this.known.set(p.peerId, p)
    this.stats.knownPeers = this.known.size
    this.stats.corruptKnownPeers = corrupt.length
    this.c.metrics.node.keeperKnownPeers.set(this.known.size)
    if (corrupt.length > 0) this.c.logger.warn({ records: corrupt.length, peers: corrupt.slice(0, 5) }, 'skipped known-peer records that fail their checks')
    this.lastConnectedAt = this.now()
    this.c.engine.addEventListener('round', this.onRound)
    this.loop = this.run(this.controller.signal)
  }

  /** Stops checking; waits for the check in progress (its store write included). */
  async stop (): Promise<void> {
    this.controller.abort(new Error('connection keeper stopped'))
    this.c.engine.removeEventListener('round', this.onRound)
    const loop = this.loop
    this.loop = null
    await loop
  }

  /** How long this peer has had no connection at all (0 while it has one), as of now. */
  withoutConnectionsMs (): number {
    const now = this.now()
    if (this.c.network.connections().length > 0) this.lastConnectedAt = now
    return now - this.lastConnectedAt
  }

  /** The known peers as held in memory (the store has the same after each check). */
  knownPeers (): KnownPeer[] { return [...this.known.values()].map((p) => ({ ...p, addrs: [...p.addrs] })) }

  private async run (signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.check(signal)
      } catch (err) {
        if (!signal.aborted) this.c.logger.warn({ err: (err as Error).message }, 'connection check failed (will retry)')
      }
      await sleep(this.init.checkMs ?? KEEPER_CHECK_MS, signal)
    }
  }

  /** One check: record the connections, watch for isolation, and dial while below the target. */
  async check (signal: AbortSignal = this.controller.signal): Promise<void> {
    const now = this.now()
    const conns = this.c.network.connections()
    const connected = new Set(conns.map((c) => c.remotePeer.toString()))
    this.watchConnectivity(connected.size, now)
    await this.remember(conns, now)
    const missing = this.targetPeers - connected.size
    if (missing <= 0 || signal.aborted) return
    const due = this.candidates(connected).filter((c) => this.backoff.due(c.peerId, now)).slice(0, missing)
    await Promise.all(due.map(async (c) => { await this.dialOne(c, signal) }))
    this.watchSplit(connected, this.now())
  }

  /**
   * A split is suspected when at least half of the known peers seen in the last KEEPER_SPLIT_RECENT_MS failed
   * their last KEEPER_SPLIT_FAILURES dials while this peer is connected to others (isolation is its own warning).
   */
  private watchSplit (connected: Set<string>, now: number): void {
    const recent = [...this.known.values()].filter((p) => now - p.lastSeen <= KEEPER_SPLIT_RECENT_MS)
    const unreachable = recent.filter((p) => !connected.has(p.peerId) && this.backoff.failures(p.peerId) >= KEEPER_SPLIT_FAILURES)
    this.stats.unreachableKnownPeers = unreachable.length
    this.c.metrics.node.keeperUnreachable.set(unreachable.length)
    const suspected = connected.size > 0 && recent.length >= 2 && unreachable.length * 2 >= recent.length
    if (suspected && !this.splitWarned) {
      this.splitWarned = true
      this.stats.splitEpisodes++
      this.c.metrics.node.keeperSplits.inc()
      this.c.logger.warn({ unreachable: unreachable.length, recentlySeen: recent.length, connected: connected.size, peers: unreachable.slice(0, 5).map((p) => p.peerId) },
        'network split suspected: peers seen recently cannot be reached while others can (still redialling)')
    } else if (!suspected && this.splitWarned && unreachable.length === 0) {
      this.splitWarned = false
      this.c.logger.info({ connected: connected.size }, 'the suspected split is over: every recently seen peer is reachable again')
    }
  }

  /** Known peers (most recently seen first), then bootstrap peers, that are not connected. */
  private candidates (connected: Set<string>): Candidate[] {
    const out: Candidate[] = [...this.known.values()]
      .filter((p) => !connected.has(p.peerId) && p.addrs.length > 0)
      .sort((a, b) => b.lastSeen - a.lastSeen || (a.peerId < b.peerId ? -1 : 1))
      .map((p) => ({ peerId: p.peerId, addrs: [...p.addrs], fromStore: true }))
    for (const b of this.bootstrap) {
      if (connected.has(b.peerId)) continue
      const known = out.find((c) => c.peerId === b.peerId)
      if (known != null) { if (!known.addrs.includes(b.addr)) known.addrs.push(b.addr) } else out.push({ peerId: b.peerId, addrs: [b.addr], fromStore: false })
    }
    return out
  }

  /** Dials one peer's addresses in turn until one answers; a failure moves the peer's next dial back. */
  private async dialOne (c: Candidate, signal: AbortSignal): Promise<void> {
    const dialSignal = AbortSignal.any([signal, AbortSignal.timeout(this.init.dialTimeoutMs ?? KEEPER_DIAL_TIMEOUT_MS)])
    let lastErr: Error | null = null
    for (const addr of c.addrs) {
      try {
        await this.c.network.dial(`${addr}/p2p/${c.peerId}`, { signal: dialSignal })
        this.backoff.succeeded(c.peerId)
        this.stats.dialsOk++
        if (c.fromStore) this.stats.knownPeerDialsOk++
        this.c.metrics.node.keeperDials.inc({ result: 'ok' })
        this.c.logger.info({ peer: c.peerId, addr }, 'connected to a known peer')
        return
      } catch (err) {
        lastErr = err as Error
        if (dialSignal.aborted) break
      }
    }
    if (signal.aborted) return
    const waitMs = this.backoff.failed(c.peerId, this.now())
    this.stats.dialsFailed++
    this.c.metrics.node.keeperDials.inc({ result: 'failed' })
    this.c.logger.debug({ peer: c.peerId, err: lastErr?.message, failures: this.backoff.failures(c.peerId), retryInMs: waitMs }, 'cannot reach peer (will retry)')
  }

  /** Writes new and changed connected peers to the store (at most every `refreshKnownMs` per peer), bounded. */
  private async remember (conns: ServiceConnection[], now: number): Promise<void> {
    const changed = new Map<string, KnownPeer>()
    for (const conn of conns) {
      const id = conn.remotePeer.toString()
      this.backoff.succeeded(id)
      const addrs = await this.addressesOf(conn.remotePeer, conn)
      if (addrs.length === 0) continue
      const old = this.known.get(id)
      const sameAddrs = old != null && old.addrs.length === addrs.length && old.addrs.every((a, i) => a === addrs[i])
      if (old != null && sameAddrs && now - old.lastSeen < (this.init.refreshKnownMs ?? KEEPER_REFRESH_KNOWN_MS)) continue
      try {
        changed.set(id, boundKnownPeer({ peerId: id, addrs, lastSeen: now }))
      } catch (err) {
        this.c.logger.debug({ err: (err as Error).message }, 'peer not remembered')
      }
    }
    if (changed.size === 0) return
    for (const [id, p] of changed) this.known.set(id, p)
    const forget = [...this.known.values()].sort((a, b) => a.lastSeen - b.lastSeen)
      .slice(0, Math.max(0, this.known.size - (this.init.maxKnownPeers ?? KEEPER_MAX_KNOWN_PEERS))).map((p) => p.peerId)
    for (const id of forget) { this.known.delete(id); changed.delete(id) }
    this.stats.knownPeers = this.known.size
    this.c.metrics.node.keeperKnownPeers.set(this.known.size)
    await this.c.store.commit({ knownPeers: [...changed.values()], forgetPeers: forget })
  }

  /** The addresses a peer listens on (from identify), then the address we dialled it at; never an inbound port. */
  private async addressesOf (peer: PeerId, conn: ServiceConnection): Promise<string[]> {
    const addrs = (await this.c.network.peerAddresses(peer)).map((a) => a.replace(P2P, ''))
    if (conn.direction === 'outbound') addrs.push(conn.remoteAddr.replace(P2P, ''))
    return [...new Set(addrs.filter((a) => !a.includes('/p2p-circuit')))]
  }

  private watchConnectivity (connections: number, now: number): void {
    if (connections > 0) {
      if (this.isolatedWarned) this.c.logger.info({ connections, afterMs: now - this.lastConnectedAt }, 'connected again')
      this.lastConnectedAt = now
      this.isolatedWarned = false
      this.c.metrics.node.keeperWithoutConnections.set(0)
      return
    }
    const withoutMs = now - this.lastConnectedAt
    this.c.metrics.node.keeperWithoutConnections.set(withoutMs / 1000)
    if (withoutMs > this.isolatedLimitMs && !this.isolatedWarned) {
      this.isolatedWarned = true
      this.stats.isolatedEpisodes++
      this.c.metrics.node.keeperIsolated.inc()
      this.c.logger.warn({ withoutMs, limitMs: this.isolatedLimitMs, knownPeers: this.known.size, bootstrap: this.bootstrap.length }, 'no connection to any peer for longer than the limit (still redialling)')
    }
  }

  /** Counts rounds in which updates arrived and every one was refused; a merge ends the streak. */
  private readonly onRound = (e: CustomEvent<RoundReport>): void => {
    const r = e.detail
    const refused = Object.values(r.refused).reduce<number>((a, b) => a + (b ?? 0), 0)
    if (r.updatesMerged > 0) this.stats.refusedRoundsInARow = 0
    else if (refused > 0) this.stats.refusedRoundsInARow++
    else return
    this.c.metrics.node.keeperRefusedRounds.set(this.stats.refusedRoundsInARow)
    if (this.stats.refusedRoundsInARow === (this.init.refusedRoundsLimit ?? KEEPER_REFUSED_ROUNDS_LIMIT)) {
      this.stats.allRefusedEpisodes++
      this.c.metrics.node.keeperAllRefused.inc()
      this.c.logger.warn({ rounds: this.stats.refusedRoundsInARow, refusedByReason: r.refused }, 'every update that arrived was refused, round after round')
    }
  }
}

async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise<void>((resolve) => {
    const t = setTimeout(done, ms)
    function done (): void { clearTimeout(t); signal.removeEventListener('abort', done); resolve() }
    signal.addEventListener('abort', done, { once: true })
  })
}
