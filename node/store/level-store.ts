/**
 * Typed repositories over ONE LevelDB (prefix table in buckets.ts), implementing the engine's `Store`
 * (protocol/engine/store.ts). Every state change is one atomic LevelDB batch, serialized with every other
 * commit, so after a crash the database holds exactly the last committed batch.
 *
 * The update log (update-log.ts) is hash-chained and bounded by retention; metrics history and evidence are
 * bounded by count. A store opened for reading (read-only.ts) refuses every commit.
 *
 * Opening never turns a damaged database into an empty one: an existing `db/` folder is opened with
 * create-if-missing off, and a database LevelDB reports as corrupt or incomplete is a StoreDamagedError that
 * names the folder and the repair command.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Level } from 'level'
import type { AbortOptions, PeerKey } from '../../protocol/interfaces.js'
import type {
  Checkpoint, EquivocationEvidence, MetricsSnapshot, ReplayMark, Store, StoreBatch, UpdateLogEntry, UpdateLogQuery
} from '../../protocol/engine/store.js'
import {
  Bucket, bucketRange, CorruptRecordError, key, packJsonAndBytes, readU64, STORE_SCHEMA_VERSION, u32, u64,
  unpackJsonAndBytes, utf8
} from './buckets.js'
import { DEFAULT_EVIDENCE_KEEP, DEFAULT_METRICS_KEEP } from './constants.js'
import { decodeKnownPeer, encodeKnownPeer, type KnownPeer } from './known-peers.js'
import { decodePrivacyRecord, encodePrivacyRecord, type PrivacyRecord } from './privacy-state.js'
import { DAMAGED_HINT, DatadirMissingError, StoreClosedError, StoreDamagedError, StoreOpenError, StoreReadOnlyError, StoreVersionError } from './errors.js'
import { UpdateLog, type LogHead, type LogRetention, type LogStats, type Op, type StoredLogEntry } from './update-log.js'

export * from './errors.js'

type Bytes = Uint8Array

export interface IdentityReference { peerKey: string, keyFile?: string, createdAt: number }

interface Counters { metrics: number, evidence: number, evidenceDropped?: number }

/** Extra, daemon-only writes that ride in the same atomic batch as an engine commit. */
export interface DaemonBatch extends StoreBatch {
  identity?: IdentityReference
  manifests?: Array<{ version: number, bytes: Bytes }>
  keyEpochs?: Array<{ epoch: number, bytes: Bytes }>
  /** Named JSON records in the meta bucket (e.g. 'daemon': the data file and network file last used). */
  meta?: Record<string, unknown>
  /** Known peers to add or refresh (bounded by boundKnownPeer). */
  knownPeers?: KnownPeer[]
  /** Known peers to forget, by peer id. */
  forgetPeers?: string[]
  /** This peer's privacy accountant (privacy-state.ts). */
  privacy?: PrivacyRecord
}

export interface LevelStoreOptions {
  /** How many checkpoints to keep (older ones are deleted in the same batch as a new one). */
  keepCheckpoints?: number
  /** Update-log retention (defaults in constants.ts). */
  retention?: Partial<LogRetention>
  /** Metrics-history rows kept. */
  metricsKeep?: number
  /** Equivocation evidence records kept. */
  evidenceKeep?: number
  /** Refuse every commit and write nothing at open (used on a snapshot by read-only commands). */
  readOnly?: boolean
  /** Run after the database is closed (a read-only snapshot removes itself). */
  onClose?: () => Promise<void>
  /** The datadir's db folder as the operator knows it, for messages (a snapshot's own path is meaningless). */
  displayPath?: string
}

/** Where the database is and how big, for /status and metrics. */
export interface StoreSize {
  /** Bytes of the database folder's files. */
  diskBytes: number
  log: LogStats & { count: number, retention: LogRetention }
  metricsRows: number
  evidence: number
  evidenceDropped: number
}

export class LevelStore implements Store {
  readonly db: Level<Bytes, Bytes>
  private readonly updateLog_: UpdateLog
  private counters: Counters = { metrics: 0, evidence: 0 }
  private queue: Promise<unknown> = Promise.resolve()
  private closed = false
  private readonly keepCheckpoints: number
  private readonly metricsKeep: number
  private readonly evidenceKeep: number
  readonly readOnly: boolean
  /** Whether open made a new, empty database (the folder did not exist or was empty). */
  created = false
  /** A write failed: the database is reopened before the next commit. */
  private writeFailed = false
  /** Successful commits since open. */
  commits = 0
  /** The error of the last commit when it failed (null once a later commit succeeds): the store is not writable. */
  lastCommitError: { message: string, at: number } | null = null

  private constructor (readonly path: string, private readonly options: LevelStoreOptions) {
    this.db = new Level<Bytes, Bytes>(path, { keyEncoding: 'view', valueEncoding: 'view' })
    this.keepCheckpoints = Math.max(1, options.keepCheckpoints ?? 3)
    this.metricsKeep = Math.max(1, options.metricsKeep ?? DEFAULT_METRICS_KEEP)
    this.evidenceKeep = Math.max(0, options.evidenceKeep ?? DEFAULT_EVIDENCE_KEEP)
    this.readOnly = options.readOnly === true
    this.updateLog_ = new UpdateLog(this.db, options.retention)
  }

  /**
   * Opens (creating only a folder that does not exist yet) the database at `path`. An existing folder that
   * LevelDB cannot open as a database is StoreDamagedError, never a fresh empty store.
   */
  static async open (path: string, options: LevelStoreOptions = {}): Promise<LevelStore> {
    const shown = options.displayPath ?? path
    // a folder that does not exist or is empty is a new database; anything else must open as one
    const fresh = !existsSync(path) || readdirSync(path).length === 0
    if (!fresh && !existsSync(join(path, 'CURRENT'))) {
      throw new StoreDamagedError(`the database at ${shown} is damaged: its CURRENT file is missing. Nothing was changed; ${DAMAGED_HINT}`)
    }
    if (fresh) {
      if (options.readOnly === true) throw new DatadirMissingError(`no database at ${shown}: no daemon has run on this datadir yet`)
      mkdirSync(path, { recursive: true })
    }
    const store = new LevelStore(path, options)
    store.created = fresh
    try {
      await store.db.open({ createIfMissing: fresh })
    } catch (err) {
      const cause = (err as { cause?: Error & { code?: string } }).cause ?? err as Error & { code?: string }
      if (cause.code === 'LEVEL_CORRUPTION' || /corrupt|does not exist|No such file/i.test(cause.message)) {
        throw new StoreDamagedError(`the database at ${shown} is damaged (${cause.message}). Nothing was changed; ${DAMAGED_HINT}`)
      }
      throw new StoreOpenError(`cannot open the database at ${shown}: ${cause.message}` +
        (/lock/i.test(cause.message) ? ' (is another murmur daemon using this datadir?)' : ''))
    }
    try {
      const meta = await store.getMeta<{ schemaVersion: number }>('schema')
      if (meta == null) {
        if (!store.readOnly) await store.db.put(key(Bucket.META, utf8('schema')), utf8(JSON.stringify({ schemaVersion: STORE_SCHEMA_VERSION })))
      } else if (meta.schemaVersion > STORE_SCHEMA_VERSION) {
        throw new StoreVersionError(`database at ${shown} has schema version ${meta.schemaVersion}; this murmur reads up to ${STORE_SCHEMA_VERSION}`)
      }
      const { statsMissing } = await store.updateLog_.load(async (name) => await store.getMeta(name))
      if (statsMissing && !store.readOnly) await store.db.put(key(Bucket.META, utf8('logStats')), utf8(JSON.stringify(store.updateLog_.stats)))
      store.counters = (await store.getMeta<Counters>('counters')) ?? { metrics: 0, evidence: 0 }
    } catch (err) {
      await store.db.close()
      await options.onClose?.()
      throw err
    }
    return store
  }

  /** One atomic batch (serialized with every other commit). */
  async commit (batch: DaemonBatch, options?: AbortOptions): Promise<void> {
    options?.signal?.throwIfAborted()
    await this.commitWithLog(batch)
  }

  /** Like commit, and returns the log entries as stored (with their chain hashes). */
  async commitWithLog (batch: DaemonBatch): Promise<StoredLogEntry[]> {
    const run = async (): Promise<StoredLogEntry[]> => {
      if (this.closed) throw new StoreClosedError('the store is closed')
      // after a failed write (disk full) LevelDB's write-ahead log may end in a torn record: anything appended
      // after it would be acknowledged and then dropped by the next open's recovery. Reopen first (recovery
      // now, a fresh log), so that no commit after the episode is acknowledged and lost.
      if (this.writeFailed) {
        await this.db.close()
        await this.db.open({ createIfMissing: false }).catch((err: Error & { cause?: Error }) => {
          throw new Error(`the database at ${this.options.displayPath ?? this.path} cannot be reopened after a failed write: ${err.cause?.message ?? err.message}`)
        })
        this.writeFailed = false
      }
      if (this.readOnly) throw new StoreReadOnlyError(`the database at ${this.options.displayPath ?? this.path} is open for reading only`)
      const ops: Op[] = []
      const put = (k: Bytes, v: Bytes): void => { ops.push({ type: 'put', key: k, value: v }) }
      if (batch.identity != null) put(key(Bucket.IDENTITY, utf8('self')), utf8(JSON.stringify(batch.identity)))
      for (const [name, value] of Object.entries(batch.meta ?? {})) {
        if (name === 'schema' || name === 'logHead' || name === 'counters') throw new Error(`meta record '${name}' is reserved`)
        put(key(Bucket.META, utf8(name)), utf8(JSON.stringify(value)))
      }
      for (const m of batch.manifests ?? []) put(key(Bucket.MANIFESTS, u32(m.version)), m.bytes)
      for (const e of batch.keyEpochs ?? []) put(key(Bucket.KEY_EPOCHS, u32(e.epoch)), e.bytes)
      for (const id of batch.forgetPeers ?? []) ops.push({ type: 'del', key: key(Bucket.KNOWN_PEERS, utf8(id)) })
      for (const p of batch.knownPeers ?? []) put(key(Bucket.KNOWN_PEERS, utf8(p.peerId)), encodeKnownPeer(p))
      if (batch.privacy != null) put(key(Bucket.PRIVACY, utf8('accountant')), encodePrivacyRecord(batch.privacy))
      for (const m of batch.replay ?? []) put(key(Bucket.REPLAY_MARKS, Buffer.from(m.sender, 'hex')), utf8(JSON.stringify(m)))
      const counters = { ...this.counters }
      for (const m of batch.metrics ?? []) {
        if (counters.metrics >= this.metricsKeep) ops.push({ type: 'del', key: key(Bucket.METRICS, u64(counters.metrics - this.metricsKeep)) })
        put(key(Bucket.METRICS, u64(counters.metrics++)), utf8(JSON.stringify(m)))
      }
      for (const e of batch.evidence ?? []) {
        if (counters.evidence >= this.evidenceKeep) { counters.evidenceDropped = (counters.evidenceDropped ?? 0) + 1; continue }
        const { first, second, ...rest } = e
        const both = new Uint8Array(first.length + second.length)
        both.set(first, 0); both.set(second, first.length)
        put(key(Bucket.EVIDENCE, u64(counters.evidence++)), packJsonAndBytes({ ...rest, firstBytes: first.length }, both))
      }
      if (counters.metrics !== this.counters.metrics || counters.evidence !== this.counters.evidence || counters.evidenceDropped !== this.counters.evidenceDropped) {
        put(key(Bucket.META, utf8('counters')), utf8(JSON.stringify(counters)))
      }
      const { entries, head, stats } = this.updateLog_.append(batch.log ?? [], put)
      if (batch.checkpoint != null) {
        const c = batch.checkpoint
        if (!(c.weights instanceof Float32Array)) throw new TypeError('checkpoint.weights must be a Float32Array')
        const { weights, ...state } = c
        put(key(Bucket.CHECKPOINTS, u64(c.round)), packJsonAndBytes({ ...state, n: weights.length },
          new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength)))
        // the newest checkpoint is the one written last: any of a later round is obsolete (the round clock fell
        // back to the network's), then the oldest beyond keepCheckpoints go
        const existing = await this.checkpointRounds()
        for (const r of existing) if (r > c.round) ops.push({ type: 'del', key: key(Bucket.CHECKPOINTS, u64(r)) })
        const rounds = [...new Set([...existing.filter((r) => r <= c.round), c.round])].sort((a, b) => a - b)
        for (const r of rounds.slice(0, Math.max(0, rounds.length - this.keepCheckpoints))) {
          if (r !== c.round) ops.push({ type: 'del', key: key(Bucket.CHECKPOINTS, u64(r)) })
        }
      }
      if (ops.length > 0) {
        try { await this.db.batch(ops) } catch (err) { this.writeFailed = true; throw err }
      }
      this.updateLog_.head = head
      this.updateLog_.stats = stats
      this.counters = counters
      this.commits++
      const now = Date.now()
      if (this.updateLog_.due(now)) {
        // the commit is written: a failed prune is retried at the next one, never reported as a failed commit
        await this.prune(now).catch(() => { this.writeFailed = true })
      }
      return entries
    }
    const tracked = async (): Promise<StoredLogEntry[]> => {
      try {
        const out = await run()
        this.lastCommitError = null
        return out
      } catch (err) {
        // a closed store is shutting down, not failing
        if (!(err instanceof StoreClosedError) && !(err instanceof StoreReadOnlyError)) this.lastCommitError = { message: (err as Error).message, at: Date.now() }
        throw err
      }
    }
    const p = this.queue.then(tracked, tracked)
    this.queue = p.catch(() => {})
    return await p
  }

  // --- engine Store reads ---

  async latestCheckpoint (): Promise<Checkpoint | null> {
    for await (const [, v] of this.db.iterator({ ...bucketRange(Bucket.CHECKPOINTS), reverse: true, limit: 1 })) return decodeCheckpoint(v)
    return null
  }

  async checkpointRounds (): Promise<number[]> {
    const out: number[] = []
    for await (const k of this.db.keys(bucketRange(Bucket.CHECKPOINTS))) out.push(readU64(k, 1))
    return out
  }

  async replayMarks (): Promise<ReplayMark[]> {
    const out: ReplayMark[] = []
    for await (const v of this.db.values(bucketRange(Bucket.REPLAY_MARKS))) out.push(JSON.parse(new TextDecoder().decode(v)) as ReplayMark)
    return out
  }

  async replayMark (sender: PeerKey): Promise<ReplayMark | undefined> {
    const v = await this.db.get(key(Bucket.REPLAY_MARKS, Buffer.from(sender, 'hex')))
    return v == null ? undefined : JSON.parse(new TextDecoder().decode(v)) as ReplayMark
  }

  async * updateLog (query: UpdateLogQuery = {}): AsyncIterable<UpdateLogEntry> {
    let n = 0
    for await (const e of this.log({ withEnvelope: true, reverse: query.reverse })) {
      if (query.sender != null && e.sender !== query.sender) continue
      if (query.since != null && e.receivedAt < query.since) continue
      if (query.limit != null && n >= query.limit) return
      n++
      const { index, envelopeHash, envelopeBytes, prevHash, hash, envelope, ...entry } = e
      yield { ...entry, bytes: envelope ?? new Uint8Array(0) }
    }
  }

  async evidence (): Promise<EquivocationEvidence[]> {
    const out: EquivocationEvidence[] = []
    for await (const v of this.db.values(bucketRange(Bucket.EVIDENCE))) {
      const { json, bytes } = unpackJsonAndBytes<Omit<EquivocationEvidence, 'first' | 'second'> & { firstBytes: number }>(v)
      const { firstBytes, ...rest } = json
      out.push({ ...rest, first: bytes.slice(0, firstBytes), second: bytes.slice(firstBytes) })
    }
    return out
  }

  async metricsHistory (query: { limit?: number } = {}): Promise<MetricsSnapshot[]> {
    const out: MetricsSnapshot[] = []
    for await (const v of this.db.values({ ...bucketRange(Bucket.METRICS), reverse: query.limit != null, limit: query.limit ?? -1 })) {
      out.push(JSON.parse(new TextDecoder().decode(v)) as MetricsSnapshot)
    }
    return query.limit != null ? out.reverse() : out
  }

  // --- daemon repositories ---

  async getMeta<T> (name: string): Promise<T | undefined> {
    const v = await this.db.get(key(Bucket.META, utf8(name)))
    return v == null ? undefined : JSON.parse(new TextDecoder().decode(v)) as T
  }

  async identity (): Promise<IdentityReference | undefined> {
    const v = await this.db.get(key(Bucket.IDENTITY, utf8('self')))
    return v == null ? undefined : JSON.parse(new TextDecoder().decode(v)) as IdentityReference
  }

  /** The stored privacy accountant, if any (a damaged record throws). */
  async privacyRecord (): Promise<PrivacyRecord | undefined> { const v = await this.db.get(key(Bucket.PRIVACY, utf8('accountant'))); return v == null ? undefined : decodePrivacyRecord(v) }
  async manifest (version: number): Promise<Bytes | undefined> { return await this.db.get(key(Bucket.MANIFESTS, u32(version))) }

  async latestManifest (): Promise<{ version: number, bytes: Bytes } | undefined> {
    for await (const [k, v] of this.db.iterator({ ...bucketRange(Bucket.MANIFESTS), reverse: true, limit: 1 })) {
      return { version: new DataView(k.buffer, k.byteOffset + 1, 4).getUint32(0), bytes: v }
    }
    return undefined
  }

  async keyEpochs (): Promise<Array<{ epoch: number, bytes: Bytes }>> {
    const out: Array<{ epoch: number, bytes: Bytes }> = []
    for await (const [k, v] of this.db.iterator(bucketRange(Bucket.KEY_EPOCHS))) out.push({ epoch: new DataView(k.buffer, k.byteOffset + 1, 4).getUint32(0), bytes: v })
    return out
  }

  /** Every known peer whose record passes its checks; the ids of records that do not are listed in `corrupt`. */
  async knownPeers (): Promise<{ peers: KnownPeer[], corrupt: string[] }> {
    const peers: KnownPeer[] = []
    const corrupt: string[] = []
    for await (const [k, v] of this.db.iterator(bucketRange(Bucket.KNOWN_PEERS))) {
      const id = new TextDecoder().decode(k.subarray(1))
      try { peers.push(decodeKnownPeer(id, v)) } catch { corrupt.push(id.slice(0, 64)) }
    }
    return { peers, corrupt }
  }

  logHead (): LogHead { return { ...this.updateLog_.head } }

  /** What the log retains (entries from `first`, the anchor hash, stored bytes). */
  logStats (): LogStats { return { ...this.updateLog_.stats } }

  /** Stored log entries in index order (or reverse), optionally with the envelope bytes. */
  log (options: { from?: number, limit?: number, withEnvelope?: boolean, reverse?: boolean } = {}): AsyncGenerator<StoredLogEntry & { envelope?: Bytes }> {
    return this.updateLog_.entries(options)
  }

  /** Applies retention now (inside the commit queue's turn): oldest log entries past the limits go, in chunks. */
  private async prune (now: number): Promise<void> {
    for (let i = 0; i < 100 && this.updateLog_.due(now); i++) {
      const { ops, stats, deleted } = await this.updateLog_.pruneOps(now)
      if (deleted === 0) return
      await this.db.batch(ops)
      this.updateLog_.stats = stats
    }
  }

  /** Sizes for /status and metrics: the folder's bytes on disk and what each bounded repository holds. */
  size (): StoreSize {
    let diskBytes = 0
    try {
      for (const f of readdirSync(this.path)) { try { diskBytes += statSync(join(this.path, f)).size } catch { /* deleted by a compaction meanwhile */ } }
    } catch { /* closed or removed: 0 */ }
    return {
      diskBytes,
      log: { ...this.updateLog_.stats, count: this.updateLog_.head.count, retention: { ...this.updateLog_.retention } },
      metricsRows: Math.min(this.counters.metrics, this.metricsKeep),
      evidence: Math.min(this.counters.evidence, this.evidenceKeep),
      evidenceDropped: this.counters.evidenceDropped ?? 0
    }
  }

  /** Re-checks the retained chain from its anchor (update-log.ts `verify`). */
  async verifyLog (checkEnvelope?: (entry: StoredLogEntry, envelope: Bytes) => string | null | Promise<string | null>): Promise<{ entries: number, retainedFrom: number, errors: string[] }> {
    return await this.updateLog_.verify(checkEnvelope)
  }

  async close (): Promise<void> {
    if (this.closed) return
    await this.queue
    this.closed = true
    await this.db.close()
    await this.options.onClose?.()
  }
}

function decodeCheckpoint (v: Bytes): Checkpoint {
  const { json, bytes } = unpackJsonAndBytes<Omit<Checkpoint, 'weights'> & { n: number }>(v)
  if (bytes.length !== json.n * 4) throw new CorruptRecordError(`checkpoint of round ${json.round}: ${bytes.length} weight bytes for ${json.n} parameters`)
  const weights = new Float32Array(json.n)
  new Uint8Array(weights.buffer).set(bytes)
  const { n: _n, ...rest } = json
  return { ...rest, weights }
}
