/**
 * The Store in memory: for the simulator and tests. Commits are atomic by construction (synchronous apply
 * after validation). Bounded: keeps at most `maxLogEntries` update-log entries and `maxMetricsSnapshots`
 * snapshots (oldest dropped first).
 */
import type { AbortOptions } from '../interfaces.js'
import type {
  Checkpoint, EquivocationEvidence, MetricsSnapshot, ReplayMark, Store, StoreBatch, UpdateLogEntry, UpdateLogQuery
} from './store.js'

export interface MemoryStoreInit {
  maxLogEntries?: number
  maxMetricsSnapshots?: number
  maxEvidence?: number
}

export class StoreClosedError extends Error {
  static override name = 'StoreClosedError'
  override name = 'StoreClosedError'
}

export class MemoryStore implements Store {
  private checkpoint: Checkpoint | null = null
  private readonly marks = new Map<string, ReplayMark>()
  private log: UpdateLogEntry[] = []
  private readonly evidenceList: EquivocationEvidence[] = []
  private metrics: MetricsSnapshot[] = []
  private closed = false
  private readonly maxLog: number
  private readonly maxMetrics: number
  private readonly maxEvidence: number
  /** Number of successful commits (for tests). */
  commits = 0

  constructor (init: MemoryStoreInit = {}) {
    this.maxLog = init.maxLogEntries ?? 10_000
    this.maxMetrics = init.maxMetricsSnapshots ?? 10_000
    this.maxEvidence = init.maxEvidence ?? 1_000
  }

  async commit (batch: StoreBatch, options?: AbortOptions): Promise<void> {
    options?.signal?.throwIfAborted()
    if (this.closed) throw new StoreClosedError('store is closed')
    if (batch.checkpoint != null && !(batch.checkpoint.weights instanceof Float32Array)) {
      throw new TypeError('checkpoint.weights must be a Float32Array')
    }
    // apply (nothing above can fail half-way)
    if (batch.checkpoint != null) this.checkpoint = { ...batch.checkpoint }
    for (const m of batch.replay ?? []) this.marks.set(m.sender, { ...m, recent: m.recent.map(([s, id]) => [s, id]) })
    if (batch.log != null && batch.log.length > 0) {
      this.log.push(...batch.log)
      if (this.log.length > this.maxLog) this.log = this.log.slice(this.log.length - this.maxLog)
    }
    for (const e of batch.evidence ?? []) if (this.evidenceList.length < this.maxEvidence) this.evidenceList.push(e)
    if (batch.metrics != null && batch.metrics.length > 0) {
      this.metrics.push(...batch.metrics)
      if (this.metrics.length > this.maxMetrics) this.metrics = this.metrics.slice(this.metrics.length - this.maxMetrics)
    }
    this.commits++
  }

  async latestCheckpoint (): Promise<Checkpoint | null> {
    return this.checkpoint == null ? null : { ...this.checkpoint }
  }

  async replayMarks (): Promise<ReplayMark[]> {
    return [...this.marks.values()].map((m) => ({ ...m, recent: m.recent.map(([s, id]) => [s, id]) }))
  }

  async * updateLog (query: UpdateLogQuery = {}): AsyncIterable<UpdateLogEntry> {
    let entries = this.log.filter((e) => (query.sender == null || e.sender === query.sender) &&
      (query.since == null || e.receivedAt >= query.since))
    if (query.reverse === true) entries = entries.reverse()
    if (query.limit != null) entries = entries.slice(0, query.limit)
    yield * entries
  }

  async evidence (): Promise<EquivocationEvidence[]> { return [...this.evidenceList] }

  async metricsHistory (query: { limit?: number } = {}): Promise<MetricsSnapshot[]> {
    return query.limit == null ? [...this.metrics] : this.metrics.slice(Math.max(0, this.metrics.length - query.limit))
  }

  async close (): Promise<void> { this.closed = true }
}
