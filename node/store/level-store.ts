/**
 * Typed repositories over ONE LevelDB (prefix table in buckets.ts), implementing the engine's `Store`
 * (protocol/engine/store.ts). Every state change is one atomic LevelDB batch, serialized with every other
 * commit, so after a crash the database holds exactly the last committed batch.
 *
 * The update log is hash-chained: each entry's hash covers the previous entry's hash, its own fields and the
 * SHA-256 of the envelope as received, so `verifyLog()` (and `murmur log --verify`) detects any edit, reorder or
 * deletion; the chain head lives in the meta bucket, written in the same batch as the entries.
 */
import { createHash } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { Level } from 'level'
import type { AbortOptions, PeerKey } from '../../protocol/interfaces.js'
import type {
  Checkpoint, EquivocationEvidence, MetricsSnapshot, ReplayMark, Store, StoreBatch, UpdateLogEntry, UpdateLogQuery
} from '../../protocol/engine/store.js'
import {
  Bucket, bucketRange, CorruptRecordError, key, packJsonAndBytes, readU64, STORE_SCHEMA_VERSION, u32, u64,
  unpackJsonAndBytes, utf8
} from './buckets.js'
import { decodeKnownPeer, encodeKnownPeer, type KnownPeer } from './known-peers.js'

type Bytes = Uint8Array
type Op = { type: 'put', key: Bytes, value: Bytes } | { type: 'del', key: Bytes }

export class StoreVersionError extends Error {
  static override name = 'StoreVersionError'
  override name = 'StoreVersionError'
}

export class StoreClosedError extends Error {
  static override name = 'StoreClosedError'
  override name = 'StoreClosedError'
}

export class StoreOpenError extends Error {
  static override name = 'StoreOpenError'
  override name = 'StoreOpenError'
}

export const ZERO_HASH = '0'.repeat(64)

export interface IdentityReference { peerKey: string, keyFile?: string, createdAt: number }

/** An update-log entry as stored: the engine's entry (bytes apart) plus its place in the hash chain. */
export interface StoredLogEntry extends Omit<UpdateLogEntry, 'bytes'> {
  index: number
  envelopeHash: string
  envelopeBytes: number
  prevHash: string
  hash: string
}

export interface LogHead { count: number, hash: string }

interface Counters { metrics: number, evidence: number }

function sha256Hex (...parts: Bytes[]): string {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest('hex')
}

/** Canonical bytes the chain hash covers (fixed field order). */
export function chainHash (e: Omit<StoredLogEntry, 'hash'>): string {
  return sha256Hex(utf8(JSON.stringify([e.index, e.id, e.sender, e.round, e.seq, e.kind, e.verdict, e.reason, e.merged,
    e.receivedAt, e.parents, e.envelopeHash, e.envelopeBytes, e.prevHash])))
}

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
}

export interface LevelStoreOptions {
  /** How many checkpoints to keep (older ones are deleted in the same batch as a new one). */
  keepCheckpoints?: number
}

export class LevelStore implements Store {
  readonly db: Level<Bytes, Bytes>
  private head: LogHead = { count: 0, hash: ZERO_HASH }
  private counters: Counters = { metrics: 0, evidence: 0 }
  private queue: Promise<unknown> = Promise.resolve()
  private closed = false
  private readonly keepCheckpoints: number
  /** Successful commits since open. */
  commits = 0
  /** The error of the last commit when it failed (null once a later commit succeeds): the store is not writable. */
  lastCommitError: { message: string, at: number } | null = null

  private constructor (readonly path: string, options: LevelStoreOptions) {
    this.db = new Level<Bytes, Bytes>(path, { keyEncoding: 'view', valueEncoding: 'view' })
    this.keepCheckpoints = Math.max(1, options.keepCheckpoints ?? 3)
  }

  static async open (path: string, options: LevelStoreOptions = {}): Promise<LevelStore> {
    mkdirSync(path, { recursive: true })
    const store = new LevelStore(path, options)
    try {
      await store.db.open()
    } catch (err) {
      const cause = (err as { cause?: Error }).cause ?? err as Error
      throw new StoreOpenError(`cannot open the database at ${path}: ${cause.message}` +
        (/lock/i.test(cause.message) ? ' (is another murmur daemon using this datadir?)' : ''))
    }
    const meta = await store.getMeta<{ schemaVersion: number }>('schema')
    if (meta == null) {
      await store.db.put(key(Bucket.META, utf8('schema')), utf8(JSON.stringify({ schemaVersion: STORE_SCHEMA_VERSION })))
    } else if (meta.schemaVersion > STORE_SCHEMA_VERSION) {
      await store.db.close()
      throw new StoreVersionError(`database at ${path} has schema version ${meta.schemaVersion}; this murmur reads up to ${STORE_SCHEMA_VERSION}`)
    }
    store.head = (await store.getMeta<LogHead>('logHead')) ?? { count: 0, hash: ZERO_HASH }
    store.counters = (await store.getMeta<Counters>('counters')) ?? { metrics: 0, evidence: 0 }
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
      for (const m of batch.replay ?? []) put(key(Bucket.REPLAY_MARKS, Buffer.from(m.sender, 'hex')), utf8(JSON.stringify(m)))
      const counters = { ...this.counters }
      for (const m of batch.metrics ?? []) put(key(Bucket.METRICS, u64(counters.metrics++)), utf8(JSON.stringify(m)))
      for (const e of batch.evidence ?? []) {
        const { first, second, ...rest } = e
        const both = new Uint8Array(first.length + second.length)
        both.set(first, 0); both.set(second, first.length)
        put(key(Bucket.EVIDENCE, u64(counters.evidence++)), packJsonAndBytes({ ...rest, firstBytes: first.length }, both))
      }
      if (counters.metrics !== this.counters.metrics || counters.evidence !== this.counters.evidence) {
        put(key(Bucket.META, utf8('counters')), utf8(JSON.stringify(counters)))
      }
      let head = { ...this.head }
      const entries: StoredLogEntry[] = []
      for (const input of batch.log ?? []) {
        const { bytes, ...rest } = input
        const base: Omit<StoredLogEntry, 'hash'> = {
          ...rest, parents: [...rest.parents], index: head.count, envelopeHash: sha256Hex(bytes), envelopeBytes: bytes.length, prevHash: head.hash
        }
        const entry: StoredLogEntry = { ...base, hash: chainHash(base) }
        put(key(Bucket.UPDATE_LOG, u64(entry.index)), packJsonAndBytes(entry, bytes))
        head = { count: head.count + 1, hash: entry.hash }
        entries.push(entry)
      }
      if (entries.length > 0) put(key(Bucket.META, utf8('logHead')), utf8(JSON.stringify(head)))
      if (batch.checkpoint != null) {
        const c = batch.checkpoint
        if (!(c.weights instanceof Float32Array)) throw new TypeError('checkpoint.weights must be a Float32Array')
        const { weights, ...state } = c
        put(key(Bucket.CHECKPOINTS, u64(c.round)), packJsonAndBytes({ ...state, n: weights.length },
          new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength)))
        const rounds = [...new Set([...await this.checkpointRounds(), c.round])].sort((a, b) => a - b)
        for (const r of rounds.slice(0, Math.max(0, rounds.length - this.keepCheckpoints))) {
          if (r !== c.round) ops.push({ type: 'del', key: key(Bucket.CHECKPOINTS, u64(r)) })
        }
      }
      if (ops.length > 0) await this.db.batch(ops)
      this.head = head
      this.counters = counters
      this.commits++
      return entries
    }
    const tracked = async (): Promise<StoredLogEntry[]> => {
      try {
        const out = await run()
        this.lastCommitError = null
        return out
      } catch (err) {
        // a closed store is shutting down, not failing
        if (!(err instanceof StoreClosedError)) this.lastCommitError = { message: (err as Error).message, at: Date.now() }
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

  logHead (): LogHead { return { ...this.head } }

  /** Stored log entries in index order (or reverse), optionally with the envelope bytes. */
  async * log (options: { from?: number, limit?: number, withEnvelope?: boolean, reverse?: boolean } = {}): AsyncGenerator<StoredLogEntry & { envelope?: Bytes }> {
    const range = bucketRange(Bucket.UPDATE_LOG)
    for await (const [, v] of this.db.iterator({ gte: key(Bucket.UPDATE_LOG, u64(options.from ?? 0)), lt: range.lt, limit: options.limit ?? -1, reverse: options.reverse === true })) {
      const { json, bytes } = unpackJsonAndBytes<StoredLogEntry>(v)
      yield options.withEnvelope === true ? { ...json, envelope: bytes } : json
    }
  }

  /**
   * Re-checks the whole chain: indices contiguous from 0, each prevHash equal to the previous hash, each hash
   * recomputed, each envelope's SHA-256 recomputed, and the head equal to the last entry. `checkEnvelope`
   * (optional) re-verifies each envelope (e.g. its signature); it returns a problem string or null.
   */
  async verifyLog (checkEnvelope?: (entry: StoredLogEntry, envelope: Bytes) => string | null | Promise<string | null>): Promise<{ entries: number, errors: string[] }> {
    // entries are append-only and the head moves only after its batch is written: everything below the head
    // taken now is stable while a running daemon keeps appending
    const head = this.logHead()
    const errors: string[] = []
    let prev = ZERO_HASH
    let expected = 0
    for await (const e of this.log({ withEnvelope: true, limit: head.count })) {
      const { envelope, hash, ...rest } = e
      const env = envelope ?? new Uint8Array(0)
      if (e.index !== expected) errors.push(`entry ${expected}: missing (next stored entry is ${e.index})`)
      if (e.prevHash !== prev) errors.push(`entry ${e.index}: prevHash does not match the previous entry's hash`)
      if (chainHash(rest) !== hash) errors.push(`entry ${e.index}: hash does not match its contents`)
      if (sha256Hex(env) !== e.envelopeHash || env.length !== e.envelopeBytes) errors.push(`entry ${e.index}: envelope bytes do not match envelopeHash`)
      if (checkEnvelope != null) {
        const problem = await checkEnvelope(e, env)
        if (problem != null) errors.push(`entry ${e.index}: ${problem}`)
      }
      prev = hash
      expected = e.index + 1
      if (errors.length > 100) { errors.push('(stopping after 100 errors)'); break }
    }
    if (errors.length === 0 && (head.count !== expected || head.hash !== prev)) {
      errors.push(`log head says ${head.count} entries ending ${head.hash.slice(0, 12)}, found ${expected} ending ${prev.slice(0, 12)}`)
    }
    return { entries: expected, errors }
  }

  async close (): Promise<void> {
    if (this.closed) return
    await this.queue
    this.closed = true
    await this.db.close()
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
