/**
 * Every metric the daemon exports, declared up front with its help text, type, labels and unit suffix
 * (`_total` for counters, `_bytes`, `_seconds`), on one prom-client Registry. The engine reports through the
 * `Metrics` interface (protocol/interfaces.ts) by name: its names (ENGINE_METRICS) are declared here too, and a
 * name nobody declared is dropped (reported once), never created on the fly. libp2p's own metrics
 * (@libp2p/prometheus-metrics) and Node's process metrics share the registry.
 *
 * A gauge without a scrape-time source is exported from its first value on.
 *
 * Values the node already counts elsewhere (transport statistics, examples, the manifest version) are read when
 * Prometheus scrapes, from the sources given to `collectFrom`, rather than copied in at every round.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Metrics } from '../protocol/interfaces.js'
import { ENGINE_METRICS } from '../protocol/engine/index.js'
import type { TransportStats } from './transport/index.js'
import type { StoreSize } from './store/index.js'

export type MetricKind = 'counter' | 'gauge' | 'histogram'

/** What the scrape-time values are read from (set by the node once its modules exist). */
export interface MetricSources {
  transport: () => { stats: TransportStats, neighbours: number, connections: number }
  examples: () => number
  /** Bad appended rows skipped so far (the data feed's count). */
  badRows: () => number
  manifest: () => { version: number, epoch: number }
  store: () => StoreSize
  /** This peer's differential-privacy budget (absent or null without a privacy block: no samples). */
  privacy?: () => { epsilon: number, delta: number, remainingEpsilon: number, exhausted: boolean } | null
}

type Reading = number | Array<[Record<string, string>, number]>

export interface MetricDeclaration {
  name: string
  kind: MetricKind
  help: string
  labels?: readonly string[]
  buckets?: readonly number[]
  /** Scrape-time value (a counter read this way mirrors a running total kept elsewhere). */
  read?: (sources: MetricSources) => Reading
}

type EngineDeclarations = { [K in keyof typeof ENGINE_METRICS]: Omit<MetricDeclaration, 'name' | 'read'> }

/** The engine's metrics (names from protocol/engine ENGINE_METRICS). */
export const ENGINE_METRIC_DECLARATIONS: EngineDeclarations = {
  rounds: { kind: 'counter', help: 'Local rounds completed' },
  round: { kind: 'gauge', help: 'The current local round' },
  trainLoss: { kind: 'gauge', help: 'Training loss of the last local round' },
  evaluation: { kind: 'gauge', help: 'Local validation metrics at the last evaluation, by metric', labels: ['metric'] },
  bytesSent: { kind: 'counter', help: 'Bytes of sealed updates sent' },
  bytesReceived: { kind: 'counter', help: 'Bytes of updates received' },
  updatesSent: { kind: 'counter', help: 'Updates sent, by kind', labels: ['kind'] },
  updatesMerged: { kind: 'counter', help: 'Updates merged into the local model' },
  updatesRefused: { kind: 'counter', help: 'Updates refused, by reason', labels: ['reason'] },
  updatesBounded: { kind: 'counter', help: 'Accepted updates clipped or clamped before merging, by reason', labels: ['reason'] },
  sendFailures: { kind: 'counter', help: 'Sends that failed (peer unreachable, timeout)' },
  consensusDistance: { kind: 'gauge', help: 'Estimated distance between this model and its neighbours\' models' },
  roundCatchUps: { kind: 'counter', help: 'Times this peer was behind the network and adopted its round' },
  stateAdoptions: { kind: 'counter', help: 'Times this peer was behind and adopted the state (model and round) its members sent it' },
  pushSumWeight: { kind: 'gauge', help: 'Push-sum weight of this peer' }
}

const perReason = (counts: Partial<Record<string, number>>): Array<[Record<string, string>, number]> =>
  Object.entries(counts).map(([reason, n]) => [{ reason }, n ?? 0])

type PrivacySource = NonNullable<ReturnType<NonNullable<MetricSources['privacy']>>>
const privacyReading = (s: MetricSources, pick: (p: PrivacySource) => number): Array<[Record<string, string>, number]> => {
  const p = s.privacy?.()
  return p == null ? [] : [[{ delta: String(p.delta) }, pick(p)]]
}

/** The node's own metrics (the keys name the typed handles in `PromMetrics.node`). */
export const NODE_METRICS = {
  manifestAdopted: { name: 'murmur_manifest_adopted_total', kind: 'counter', help: 'Manifest versions adopted, by where they came from (api, gossip, file)', labels: ['source'] },
  manifestRefused: { name: 'murmur_manifest_refused_total', kind: 'counter', help: 'Manifest versions refused, by reason', labels: ['reason'] },
  manifestVersion: { name: 'murmur_manifest_version', kind: 'gauge', help: 'Version of the manifest this peer holds', read: (s) => s.manifest().version },
  keyEpoch: { name: 'murmur_key_epoch', kind: 'gauge', help: 'Current key epoch of the network', read: (s) => s.manifest().epoch },
  dataRowsAppended: { name: 'murmur_data_rows_appended_total', kind: 'counter', help: 'Rows appended to the local data while the daemon runs' },
  dataBadRows: { name: 'murmur_data_bad_rows_total', kind: 'counter', help: 'Appended rows skipped as bad (--on-bad-row skip); /status lists their lines', read: (s) => s.badRows() },
  dataExamples: { name: 'murmur_data_examples', kind: 'gauge', help: 'Local training examples', read: (s) => s.examples() },
  transportSent: { name: 'murmur_transport_sent_bytes_total', kind: 'counter', help: 'Bytes sent on the update stream', read: (s) => s.transport().stats.bytesSent },
  transportReceived: { name: 'murmur_transport_received_bytes_total', kind: 'counter', help: 'Bytes received on the update stream and the announcement topic', read: (s) => s.transport().stats.bytesReceived },
  transportAnnouncements: { name: 'murmur_transport_announcements_received_total', kind: 'counter', help: 'Announcements received on the network\'s topic', read: (s) => s.transport().stats.announcementsReceived },
  transportRefused: { name: 'murmur_transport_refused_total', kind: 'counter', help: 'Messages refused by the transport or the engine behind it, by reason', labels: ['reason'], read: (s) => perReason(s.transport().stats.refusedByReason) },
  transportLimited: { name: 'murmur_transport_limited_total', kind: 'counter', help: 'What the transport limits stopped: read timeouts, oversized gossip frames, inbound connections refused before authentication', labels: ['kind'], read: (s) => { const l = s.transport().stats.limits; return Object.entries({ readTimeouts: l.readTimeouts, gossipOversized: l.gossipOversized, ...l.preAuth }).map(([kind, n]) => [{ kind }, n]) } },
  transportNeighbours: { name: 'murmur_transport_neighbours', kind: 'gauge', help: 'Members subscribed to the network\'s topic', read: (s) => s.transport().neighbours },
  transportConnections: { name: 'murmur_transport_connections', kind: 'gauge', help: 'Open libp2p connections', read: (s) => s.transport().connections },
  storeBytes: { name: 'murmur_store_bytes', kind: 'gauge', help: 'Bytes of the database folder on disk', read: (s) => s.store().diskBytes },
  storeLogBytes: { name: 'murmur_store_log_bytes', kind: 'gauge', help: 'Stored bytes of the retained update log (retention deletes the oldest beyond --log-max-bytes)', read: (s) => s.store().log.bytes },
  storeLogEntries: { name: 'murmur_store_log_entries', kind: 'gauge', help: 'Update-log entries retained', read: (s) => { const l = s.store().log; return l.count - l.first } },
  privacySpent: { name: 'murmur_privacy_epsilon_spent', kind: 'gauge', help: 'Differential-privacy epsilon this peer has spent on its data, at the budget\'s delta (no sample without a privacy block)', labels: ['delta'], read: (s) => privacyReading(s, (p) => p.epsilon) },
  privacyRemaining: { name: 'murmur_privacy_epsilon_remaining', kind: 'gauge', help: 'Epsilon left of this peer\'s privacy budget', labels: ['delta'], read: (s) => privacyReading(s, (p) => p.remainingEpsilon) },
  privacyExhausted: { name: 'murmur_privacy_budget_spent', kind: 'gauge', help: '1 once the privacy budget is spent: the peer no longer trains on its data nor sends', labels: ['delta'], read: (s) => privacyReading(s, (p) => p.exhausted ? 1 : 0) },
  keeperDials: { name: 'murmur_keeper_dials_total', kind: 'counter', help: 'Dials the connection keeper made to known and bootstrap peers, by result (ok, failed)', labels: ['result'] },
  keeperKnownPeers: { name: 'murmur_keeper_known_peers', kind: 'gauge', help: 'Peers remembered in the store for redialling' },
  keeperWithoutConnections: { name: 'murmur_keeper_without_connections_seconds', kind: 'gauge', help: 'How long this peer has had no connection at all (0 while connected)' },
  keeperIsolated: { name: 'murmur_keeper_isolated_total', kind: 'counter', help: 'Times this peer stayed without any connection for longer than the limit' },
  keeperRefusedRounds: { name: 'murmur_keeper_refused_rounds', kind: 'gauge', help: 'Rounds in a row in which every update that arrived was refused' },
  keeperUnreachable: { name: 'murmur_keeper_unreachable_known_peers', kind: 'gauge', help: 'Known peers seen recently that failed their last dials (a split when half or more)' },
  keeperSplits: { name: 'murmur_keeper_splits_suspected_total', kind: 'counter', help: 'Times a network split was suspected (half or more of the recently seen peers unreachable while others are connected)' },
  keeperAllRefused: { name: 'murmur_keeper_all_refused_total', kind: 'counter', help: 'Times every arriving update was refused for the limit of rounds in a row' }
} as const satisfies Record<string, MetricDeclaration>

type NodeMetricKey = keyof typeof NODE_METRICS
type Handle<D> = D extends { kind: 'counter' } ? Counter : D extends { kind: 'gauge' } ? Gauge : Histogram
export type NodeMetricHandles = { [K in NodeMetricKey]: Handle<(typeof NODE_METRICS)[K]> }

/** Every declaration: the engine's, then the node's. */
export function metricDeclarations (): MetricDeclaration[] {
  const engine = (Object.keys(ENGINE_METRIC_DECLARATIONS) as Array<keyof typeof ENGINE_METRICS>)
    .map((k) => ({ name: ENGINE_METRICS[k], ...ENGINE_METRIC_DECLARATIONS[k] }))
  return [...engine, ...Object.values(NODE_METRICS)]
}

export class UndeclaredMetricError extends Error {
  static override name = 'UndeclaredMetricError'
  override name = 'UndeclaredMetricError'
}

export interface PromMetricsInit {
  registry?: Registry
  /** Throw on a metric name that is not declared, or used as another kind (tests); default: drop it, report once. */
  strict?: boolean
  /** Told once per undeclared or misused name. */
  onUndeclared?: (name: string, detail: string) => void
}

type AnyMetric = Counter | Gauge | Histogram

export class PromMetrics implements Metrics {
  readonly registry: Registry
  /** Typed handles of the node's own metrics. */
  readonly node: NodeMetricHandles
  private readonly byName = new Map<string, { kind: MetricKind, metric: AnyMetric }>()
  private readonly reported = new Set<string>()
  /** Gauges not registered yet because nothing has set them. */
  private readonly unset = new Set<string>()
  private sources: MetricSources | null = null

  constructor (private readonly init: PromMetricsInit = {}) {
    this.registry = init.registry ?? new Registry()
    for (const d of metricDeclarations()) this.declare(d)
    const node: Partial<Record<NodeMetricKey, AnyMetric>> = {}
    for (const [key, d] of Object.entries(NODE_METRICS) as Array<[NodeMetricKey, MetricDeclaration]>) node[key] = this.byName.get(d.name)?.metric
    this.node = node as NodeMetricHandles
  }

  /** Names every declared metric (for the docs and tests). */
  names (): string[] { return [...this.byName.keys()] }

  /** Where the scrape-time values come from. */
  collectFrom (sources: MetricSources): void { this.sources = sources }

  increment (name: string, labels: Record<string, string> = {}, by = 1): void {
    const m = this.lookup(name, 'counter')
    if (m != null) this.guard(name, () => { (m as Counter).inc(labels, by) })
  }

  set (name: string, value: number, labels: Record<string, string> = {}): void {
    if (!Number.isFinite(value)) return
    const m = this.lookup(name, 'gauge')
    if (m == null) return
    this.guard(name, () => {
      (m as Gauge).set(labels, value)
      if (this.unset.delete(name)) this.registry.registerMetric(m)
    })
  }

  observe (name: string, value: number, labels: Record<string, string> = {}): void {
    if (!Number.isFinite(value)) return
    const m = this.lookup(name, 'histogram')
    if (m != null) this.guard(name, () => { (m as Histogram).observe(labels, value) })
  }

  /** libp2p's own metrics (and Node's process metrics) on this registry; null when the module is missing. */
  async libp2pMetrics (): Promise<((components: any) => any) | null> {
    try {
      const { prometheusMetrics } = await import('@libp2p/prometheus-metrics')
      return prometheusMetrics({ registry: this.registry, preserveExistingMetrics: true, collectDefaultMetrics: true })
    } catch (err) {
      this.report('@libp2p/prometheus-metrics', (err as Error).message)
      return null
    }
  }

  async text (): Promise<string> { return await this.registry.metrics() }
  get contentType (): string { return this.registry.contentType }

  private declare (d: MetricDeclaration): void {
    if (this.byName.has(d.name)) throw new Error(`metric ${d.name} is declared twice`)
    const read = d.read
    const self = this
    const base = { name: d.name, help: d.help, labelNames: [...(d.labels ?? [])], registers: [this.registry] }
    let metric: AnyMetric
    if (d.kind === 'counter') {
      metric = new Counter({
        ...base,
        ...(read != null ? { collect (this: Counter) { self.mirror(this, read) } } : {})
      })
    } else if (d.kind === 'gauge' && read == null) {
      // exported from its first value: an unlabelled gauge would otherwise read 0 before anything measured it
      // (a training loss of 0, a push-sum weight under another rule)
      metric = new Gauge({ ...base, registers: [] })
      this.unset.add(d.name)
    } else if (d.kind === 'gauge') {
      metric = new Gauge({ ...base, collect (this: Gauge) { if (read != null) self.mirror(this, read) } })
    } else {
      metric = new Histogram({ ...base, ...(d.buckets != null ? { buckets: [...d.buckets] } : {}) })
    }
    this.byName.set(d.name, { kind: d.kind, metric })
  }

  /** Copies a scrape-time reading into a counter or gauge (a counter mirrors a running total kept elsewhere). */
  private mirror (metric: Counter | Gauge, read: (s: MetricSources) => Reading): void {
    if (this.sources == null) return
    const value = read(this.sources)
    const rows: Array<[Record<string, string>, number]> = typeof value === 'number' ? [[{}, value]] : value
    metric.reset()
    for (const [labels, v] of rows) {
      if (!Number.isFinite(v)) continue
      if (metric instanceof Gauge) metric.set(labels, v)
      else if (v > 0) metric.inc(labels, v)
      else metric.inc(labels, 0)
    }
  }

  private lookup (name: string, kind: MetricKind): AnyMetric | null {
    const m = this.byName.get(name)
    if (m == null) { this.report(name, 'not declared in node/metrics.ts'); return null }
    if (m.kind !== kind) { this.report(name, `declared as a ${m.kind}, used as a ${kind}`); return null }
    return m.metric
  }

  private guard (name: string, fn: () => void): void {
    try { fn() } catch (err) { this.report(name, (err as Error).message) }
  }

  private report (name: string, detail: string): void {
    if (this.init.strict === true) throw new UndeclaredMetricError(`metric ${name}: ${detail}`)
    if (this.reported.has(name)) return
    this.reported.add(name)
    this.init.onUndeclared?.(name, detail)
  }
}
