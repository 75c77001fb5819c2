/**
 * The update-log repository (bucket 0x06): a hash chain of every envelope this peer received, with its
 * verdict, bounded by retention.
 *
 * Each entry's hash covers the previous entry's hash, its own fields and the SHA-256 of the envelope as
 * received, so `verify()` detects any edit, reorder or deletion inside what is kept. Retention deletes the
 * oldest entries (by age and by total size) and records the hash of the last deleted one as the anchor: the
 * chain is verified from the anchor, so `murmur log --verify` stays meaningful over what is retained.
 * Envelopes are kept whole only when accepted; a refused one is logged as verdict, reason and hash (a flood of
 * junk grows the log by the verdict records only).
 */
import { createHash } from 'node:crypto'
import type { Level } from 'level'
import type { UpdateLogEntry } from '../../protocol/engine/store.js'
import { Bucket, bucketRange, key, packJsonAndBytes, u64, unpackJsonAndBytes, utf8 } from './buckets.js'
import { DEFAULT_RETENTION } from './constants.js'

type Bytes = Uint8Array
export type Op = { type: 'put', key: Bytes, value: Bytes } | { type: 'del', key: Bytes }

export const ZERO_HASH = '0'.repeat(64)

/** An update-log entry as stored: the engine's entry (bytes apart) plus its place in the hash chain. */
export interface StoredLogEntry extends Omit<UpdateLogEntry, 'bytes'> {
  index: number
  envelopeHash: string
  envelopeBytes: number
  prevHash: string
  hash: string
}

export interface LogHead { count: number, hash: string }

/** What is retained: entries `first .. head.count-1`; `anchorHash` is the hash of entry `first - 1` (zero at 0). */
export interface LogStats { first: number, anchorHash: string, bytes: number, firstReceivedAt: number | null }

export interface LogRetention {
  /** Stored bytes of the retained entries (keys and values); the oldest go first beyond it. */
  maxBytes: number
  /** Entries received longer ago than this are deleted. */
  maxAgeMs: number
  /** The newest entries always kept, whatever the limits (crash recovery reads them). */
  minEntries: number
}

export function sha256Hex (...parts: Bytes[]): string {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest('hex')
}

/** Canonical bytes the chain hash covers (fixed field order). */
export function chainHash (e: Omit<StoredLogEntry, 'hash'>): string {
  return sha256Hex(utf8(JSON.stringify([e.index, e.id, e.sender, e.round, e.seq, e.kind, e.verdict, e.reason, e.merged,
    e.receivedAt, e.parents, e.envelopeHash, e.envelopeBytes, e.prevHash])))
}

const ENTRY_KEY_BYTES = 9

export class UpdateLog {
  head: LogHead = { count: 0, hash: ZERO_HASH }
  stats: LogStats = { first: 0, anchorHash: ZERO_HASH, bytes: 0, firstReceivedAt: null }
  readonly retention: LogRetention

  constructor (private readonly db: Level<Bytes, Bytes>, retention: Partial<LogRetention> = {}) {
    this.retention = { ...DEFAULT_RETENTION, ...retention }
  }

  /** Reads the head and the retention stats; a log written before retention existed is measured once. */
  async load (getMeta: <T>(name: string) => Promise<T | undefined>): Promise<{ statsMissing: boolean }> {
    this.head = (await getMeta<LogHead>('logHead')) ?? { count: 0, hash: ZERO_HASH }
    const stats = await getMeta<LogStats>('logStats')
    if (stats != null) { this.stats = stats; return { statsMissing: false } }
    let bytes = 0
    let firstReceivedAt: number | null = null
    for await (const [k, v] of this.db.iterator(bucketRange(Bucket.UPDATE_LOG))) {
      bytes += k.length + v.length
      if (firstReceivedAt == null) firstReceivedAt = unpackJsonAndBytes<StoredLogEntry>(v).json.receivedAt
    }
    this.stats = { first: 0, anchorHash: ZERO_HASH, bytes, firstReceivedAt }
    return { statsMissing: this.head.count > 0 }
  }

  /** The puts that append `inputs` after `head`; returns the stored entries and the new head and stats. */
  append (inputs: readonly UpdateLogEntry[], put: (k: Bytes, v: Bytes) => void): { entries: StoredLogEntry[], head: LogHead, stats: LogStats } {
    let head = { ...this.head }
    const stats = { ...this.stats }
    const entries: StoredLogEntry[] = []
    for (const input of inputs) {
      const { bytes, ...rest } = input
      const base: Omit<StoredLogEntry, 'hash'> = {
        ...rest, parents: [...rest.parents], index: head.count, envelopeHash: sha256Hex(bytes), envelopeBytes: bytes.length, prevHash: head.hash
      }
      const entry: StoredLogEntry = { ...base, hash: chainHash(base) }
      const value = packJsonAndBytes(entry, entry.verdict === 'accepted' ? bytes : new Uint8Array(0))
      put(key(Bucket.UPDATE_LOG, u64(entry.index)), value)
      stats.bytes += ENTRY_KEY_BYTES + value.length
      if (stats.firstReceivedAt == null) stats.firstReceivedAt = entry.receivedAt
      head = { count: head.count + 1, hash: entry.hash }
      entries.push(entry)
    }
    if (entries.length > 0) {
      put(key(Bucket.META, utf8('logHead')), utf8(JSON.stringify(head)))
      put(key(Bucket.META, utf8('logStats')), utf8(JSON.stringify(stats)))
    }
    return { entries, head, stats }
  }

  /** Whether retention has work to do now. */
  due (now: number): boolean {
    const retained = this.head.count - this.stats.first
    if (retained <= this.retention.minEntries) return false
    if (this.stats.bytes > this.retention.maxBytes) return true
    return this.stats.firstReceivedAt != null && now - this.stats.firstReceivedAt > this.retention.maxAgeMs
  }

  /**
   * The deletes (at most `maxEntries`) that bring the log within retention, oldest first, down to 90% of
   * `maxBytes` so that pruning is not done at every commit; with the new stats (anchor = last deleted hash).
   */
  async pruneOps (now: number, maxEntries = 5_000): Promise<{ ops: Op[], stats: LogStats, deleted: number }> {
    const ops: Op[] = []
    const stats = { ...this.stats }
    const target = Math.floor(this.retention.maxBytes * 0.9)
    const lastDeletable = this.head.count - this.retention.minEntries
    let deleted = 0
    for await (const [k, v] of this.db.iterator({ gte: key(Bucket.UPDATE_LOG, u64(stats.first)), lt: bucketRange(Bucket.UPDATE_LOG).lt })) {
      const { json } = unpackJsonAndBytes<StoredLogEntry>(v)
      const old = now - json.receivedAt > this.retention.maxAgeMs
      if (json.index >= lastDeletable || deleted >= maxEntries || (!old && stats.bytes <= target)) {
        stats.firstReceivedAt = json.receivedAt
        break
      }
      ops.push({ type: 'del', key: k })
      stats.bytes -= k.length + v.length
      stats.first = json.index + 1
      stats.anchorHash = json.hash
      stats.firstReceivedAt = null
      deleted++
    }
    if (deleted > 0) ops.push({ type: 'put', key: key(Bucket.META, utf8('logStats')), value: utf8(JSON.stringify(stats)) })
    return { ops, stats, deleted }
  }

  /** Stored entries in index order (or reverse), optionally with the envelope bytes. */
  async * entries (options: { from?: number, limit?: number, withEnvelope?: boolean, reverse?: boolean } = {}): AsyncGenerator<StoredLogEntry & { envelope?: Bytes }> {
    const range = bucketRange(Bucket.UPDATE_LOG)
    for await (const [, v] of this.db.iterator({ gte: key(Bucket.UPDATE_LOG, u64(options.from ?? 0)), lt: range.lt, limit: options.limit ?? -1, reverse: options.reverse === true })) {
      const { json, bytes } = unpackJsonAndBytes<StoredLogEntry>(v)
      yield options.withEnvelope === true ? { ...json, envelope: bytes } : json
    }
  }

  /**
   * Re-checks the retained chain: indices contiguous from the anchor, each prevHash equal to the previous hash
   * (the first one to the anchor), each hash recomputed, each kept envelope's SHA-256 recomputed (a refused
   * entry keeps only its hash), and the head equal to the last entry. `checkEnvelope` (optional) re-verifies
   * each envelope; it returns a problem string or null.
   */
  async verify (checkEnvelope?: (entry: StoredLogEntry, envelope: Bytes) => string | null | Promise<string | null>): Promise<{ entries: number, retainedFrom: number, errors: string[] }> {
    // entries are append-only and the head moves only after its batch is written: everything below the head
    // taken now is stable while a running daemon keeps appending
    const head = { ...this.head }
    const { first, anchorHash } = this.stats
    const errors: string[] = []
    let prev = anchorHash
    let expected = first
    for await (const e of this.entries({ from: first, withEnvelope: true, limit: head.count - first })) {
      const { envelope, hash, ...rest } = e
      const env = envelope ?? new Uint8Array(0)
      if (e.index !== expected) errors.push(`entry ${expected}: missing (next stored entry is ${e.index})`)
      if (e.prevHash !== prev) errors.push(`entry ${e.index}: prevHash does not match the ${e.index === first ? 'retention anchor' : 'previous entry\'s hash'}`)
      if (chainHash(rest) !== hash) errors.push(`entry ${e.index}: hash does not match its contents`)
      const kept = env.length > 0 || e.envelopeBytes === 0
      if (kept && (sha256Hex(env) !== e.envelopeHash || env.length !== e.envelopeBytes)) errors.push(`entry ${e.index}: envelope bytes do not match envelopeHash`)
      if (!kept && e.verdict === 'accepted') errors.push(`entry ${e.index}: accepted, but its envelope is missing`)
      if (checkEnvelope != null && kept) {
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
    return { entries: expected - first, retainedFrom: first, errors }
  }
}
