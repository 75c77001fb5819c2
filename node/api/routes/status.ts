/** `GET /health`, `GET /status` (peer, network, rounds, refusals, traffic) and `GET /peers` (connections). */
import { resolve } from 'node:path'
import { toHex } from '../../../crypto/index.js'
import type { RefusalReason } from '../../../protocol/interfaces.js'
import type { PeerEngine, RoundReport } from '../../../protocol/engine/index.js'
import type { Libp2pTransport } from '../../transport/index.js'
import type { ServiceNetwork } from '../../transport/service-network.js'
import type { DaemonLearner, LiveKeyring } from '../../wiring.js'
import type { LevelStore } from '../../store/index.js'
import type { ManifestSync } from '../../services/manifest-sync/index.js'
import type { DataFeed } from '../../data-feed.js'
import type { ConnectionKeeper } from '../../services/connection-keeper/index.js'
import { getJson, type Route } from '../route.js'
import { health, type HealthModules } from '../../health.js'

/** What the node has seen of its own rounds and data (updated as rounds end and rows arrive). */
export interface NodeProgress {
  lastReport: RoundReport | null
  lastEvaluation: Record<string, number> | null
  rowsAppended: number
  /** When the last local round completed (ms since the epoch). */
  lastRoundAt: number | null
}
import type { StateSyncService } from '../../services/state-sync/index.js'
import type { InstanceCheckService } from '../../services/instance-check/index.js'
import type { DaemonPersonal } from '../../personal.js'

export interface StatusModules {
  peerKey: string
  startedAt: number
  dataFile: string
  network: Pick<ServiceNetwork, 'peerId' | 'connections'>
  transport: Pick<Libp2pTransport, 'stats' | 'neighbours' | 'connectedPeers' | 'addresses'>
  engine: Pick<PeerEngine, 'totals' | 'round' | 'running'>
  learner: Pick<DaemonLearner, 'numExamples' | 'primaryMetric' | 'loadBadRows' | 'privacy'>
  keyring: Pick<LiveKeyring, 'manifest' | 'currentEpoch' | 'epochKey'>
  store: Pick<LevelStore, 'logHead' | 'size'>
  manifestSync: Pick<ManifestSync, 'stats' | 'removedAtVersion'>
  progress: NodeProgress
  feed: Pick<DataFeed, 'badRows' | 'stopped'>
  stateSync?: Pick<StateSyncService, 'status'>
  /** What /health judges (the keeper, the stall limit; the store, progress and manifest sync above). */
  health: HealthModules
  keeper: Pick<ConnectionKeeper, 'stats' | 'targetPeers' | 'withoutConnectionsMs'>
  instanceCheck?: Pick<InstanceCheckService, 'stats' | 'clashAt'>
  /** The personal model (`daemon --personal`; node/personal.ts), else null. */
  personal?: Pick<DaemonPersonal, 'status'> | null
}

export function status (m: StatusModules): Record<string, unknown> {
  const totals = m.engine.totals()
  const manifest = m.keyring.manifest
  const refused: Partial<Record<RefusalReason, number>> = { ...totals.refused }
  // stream-level refusals the engine never saw (oversized, malformed framing)
  for (const [k, v] of Object.entries(m.transport.stats.refusedByReason) as Array<[RefusalReason, number]>) refused[k] = Math.max(refused[k] ?? 0, v)
  const last = m.progress.lastReport
  const h = health(m.health)
  return {
    healthy: h.ok,
    healthReasons: h.reasons,
    peerId: m.network.peerId.toString(),
    peerKey: m.peerKey,
    addresses: m.transport.addresses(),
    network: {
      id: manifest.id,
      name: manifest.name,
      version: manifest.version,
      open: manifest.open != null,
      epoch: m.keyring.currentEpoch,
      members: manifest.open != null ? null : manifest.members.length,
      member: m.manifestSync.removedAtVersion == null,
      epochKey: m.keyring.epochKey(m.keyring.currentEpoch) != null,
      manifestsAdopted: m.manifestSync.stats.adopted,
      manifestRefusedByReason: { ...m.manifestSync.stats.refusedByReason }
    },
    rule: manifest.rule.name,
    round: m.engine.round,
    running: m.engine.running,
    examples: m.learner.numExamples(),
    rowsAppended: m.progress.rowsAppended,
    // appended rows the feed skipped (--on-bad-row skip) and files it stopped reading (error), with their lines;
    // `load`: the rows the initial load of the data file skipped
    badRows: { ...m.feed.badRows, stoppedFiles: m.feed.stopped, load: m.learner.loadBadRows ?? null },
    localMetric: m.progress.lastEvaluation,
    // the personal model's choice on the validation rows, against the network and local-only models
    personal: m.personal?.status() ?? null,
    primaryMetric: m.learner.primaryMetric ?? null,
    // differential privacy: spent and remaining epsilon of this peer's budget; once spent it sends nothing
    privacy: m.learner.privacy == null ? null : { ...m.learner.privacy.status(), sending: !m.learner.privacy.exhausted },
    lastRound: last == null ? null : { ...last, evaluation: undefined },
    neighbours: m.transport.neighbours(),
    connections: m.transport.connectedPeers().length,
    keeper: { targetPeers: m.keeper.targetPeers, withoutConnectionsMs: m.keeper.withoutConnectionsMs(), ...m.keeper.stats },
    refusedByReason: refused,
    totals: { ...totals, refused: undefined },
    transport: { ...m.transport.stats, refusedByReason: undefined },
    updateLog: m.store.logHead(),
    // the database's bytes on disk and what each bounded repository holds (retention in docs/operations.md)
    database: m.store.size(),
    // whether this peer wants the network's state (behind), and the last state download's outcome
    stateSync: m.stateSync?.status() ?? null,
    // one identity, one process: exchanges on /murmur/instance/1.0.0 and the last sign of a copy of this identity
    instanceCheck: m.instanceCheck == null ? null : { ...m.instanceCheck.stats, clashAt: m.instanceCheck.clashAt == null ? null : new Date(m.instanceCheck.clashAt).toISOString() },
    uptimeSeconds: Math.round((Date.now() - m.startedAt) / 1000),
    dataFile: resolve(m.dataFile)
  }
}

export function peers (m: Pick<StatusModules, 'peerKey' | 'network' | 'transport'>): Record<string, unknown> {
  const neighbours = new Set(m.transport.neighbours())
  const connections = m.network.connections().map((c) => {
    const key = c.remotePeer.publicKey != null ? toHex(c.remotePeer.publicKey.raw) : null
    return { peerId: c.remotePeer.toString(), peerKey: key, address: c.remoteAddr, direction: c.direction, neighbour: key != null && neighbours.has(key) }
  })
  return { self: m.peerKey, neighbours: [...neighbours], connections }
}

export function statusRoutes (m: StatusModules): Route[] {
  return [
    {
      method: 'GET',
      path: '/health',
      handler: () => {
        const h = health(m.health)
        return h.ok ? { text: 'ok', contentType: 'text/plain' } : { status: 503, json: h }
      }
    },
    getJson('/status', () => status(m)),
    getJson('/peers', () => peers(m))
  ]
}
