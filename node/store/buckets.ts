/**
 * One LevelDB, one byte of prefix per repository. A prefix is NEVER reused, even after a repository is
 * retired: old databases must never be misread. Keys are `[prefix, ...key bytes]`; numbers big-endian so
 * LevelDB's byte order is numeric order.
 *
 * | prefix | repository      | key                         | value                                          |
 * |--------|-----------------|-----------------------------|------------------------------------------------|
 * | 0x01   | meta            | utf8 name                   | JSON (schema version, update-log head)         |
 * | 0x02   | identity        | 'self'                      | JSON reference: peer key, key file, created    |
 * | 0x03   | manifests       | u32 version                 | manifest bytes as received (JSON)              |
 * | 0x04   | key epochs      | u32 epoch                   | epoch record bytes as received                 |
 * | 0x05   | checkpoints     | u64 round                   | u32 len, JSON state, float32 weights           |
 * | 0x06   | update log      | u64 index                   | u32 len, JSON entry (hash-chained), envelope   |
 * | 0x07   | replay marks    | 32-byte sender key          | JSON { sender, highestSeq, recent }            |
 * | 0x08   | metrics history | u64 index                   | JSON { round, at, values }                     |
 * | 0x09   | evidence        | u64 index                   | u32 len, JSON, first envelope, second envelope |
 * | 0x0a   | engine kv       | utf8 key                    | bytes (free-form engine state, e.g. push-sum)  |
 * | 0x0b   | known peers     | utf8 libp2p peer id         | JSON { peerId, addrs, lastSeen }               |
 * | 0x0c   | privacy         | 'accountant'                | JSON { version, networkId, accountant, at }    |
 */
export const Bucket = {
  META: 0x01,
  IDENTITY: 0x02,
  MANIFESTS: 0x03,
  KEY_EPOCHS: 0x04,
  CHECKPOINTS: 0x05,
  UPDATE_LOG: 0x06,
  REPLAY_MARKS: 0x07,
  METRICS: 0x08,
  EVIDENCE: 0x09,
  ENGINE_KV: 0x0a,
  KNOWN_PEERS: 0x0b,
  PRIVACY: 0x0c
} as const
export type Bucket = typeof Bucket[keyof typeof Bucket]

/** Bumped on an incompatible layout change; the store refuses to open a newer one. */
export const STORE_SCHEMA_VERSION = 1

export function key (bucket: Bucket, ...parts: Uint8Array[]): Uint8Array {
  let len = 1
  for (const p of parts) len += p.length
  const out = new Uint8Array(len)
  out[0] = bucket
  let off = 1
  for (const p of parts) { out.set(p, off); off += p.length }
  return out
}

export function u32 (n: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, false)
  return b
}

export function u64 (n: number | bigint): Uint8Array {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, BigInt(n), false)
  return b
}

export function readU32 (b: Uint8Array, off = 0): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, false)
}

export function readU64 (b: Uint8Array, off = 0): number {
  return Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, false))
}

export function utf8 (s: string): Uint8Array { return new TextEncoder().encode(s) }

/** Range bounds covering one bucket (optionally narrowed to a key prefix inside it). */
export function bucketRange (bucket: Bucket, prefix: Uint8Array = new Uint8Array(0)): { gte: Uint8Array, lt: Uint8Array } {
  const gte = key(bucket, prefix)
  const lt = Uint8Array.from(gte)
  // increment the last byte that is not 0xff
  let i = lt.length - 1
  while (i >= 0 && lt[i] === 0xff) { lt[i] = 0; i-- }
  if (i < 0) return { gte, lt: new Uint8Array([bucket + 1]) }
  lt[i]++
  return { gte, lt: lt.subarray(0, i + 1) }
}

/** value = u32 JSON length, JSON, then raw bytes. */
export function packJsonAndBytes (json: unknown, bytes: Uint8Array): Uint8Array {
  const j = utf8(JSON.stringify(json))
  const out = new Uint8Array(4 + j.length + bytes.length)
  out.set(u32(j.length), 0)
  out.set(j, 4)
  out.set(bytes, 4 + j.length)
  return out
}

export function unpackJsonAndBytes<T> (value: Uint8Array): { json: T, bytes: Uint8Array } {
  if (value.length < 4) throw new CorruptRecordError('record shorter than its length prefix')
  const n = readU32(value)
  if (4 + n > value.length) throw new CorruptRecordError('record length prefix past its end')
  const json = JSON.parse(new TextDecoder().decode(value.subarray(4, 4 + n))) as T
  return { json, bytes: value.subarray(4 + n) }
}

export class CorruptRecordError extends Error {
  static override name = 'CorruptRecordError'
  override name = 'CorruptRecordError'
}
