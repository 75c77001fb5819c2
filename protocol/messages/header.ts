/**
 * Deterministic binary encoding of the update header (format version 3). Integers are unsigned big-endian,
 * the push-sum weight an IEEE 754 float64 big-endian; every field has a fixed width except the codec
 * parameters (fixed by the codec id) and the parent list (count-prefixed, at most MAX_PARENTS).
 * Any byte string decodes to at most one header, and that header encodes back to the same bytes.
 */
import type { PeerKey } from '../interfaces.js'
import { type CodecDescriptor, CODEC_IDS, codecParamBytes, readCodec, writeCodec } from '../codecs/index.js'
import { writeHex32 } from '../../crypto/hex.js'
import { HEADER_FIXED_BYTES, MAX_PARENTS, MAX_SEQ, MIN_HEADER_BYTES, SENDER_OFFSET } from './constants.js'
import { InvalidUpdateFieldError } from './errors.js'

/** The signed header of an update envelope. Hex strings are lowercase. */
export interface UpdateHeader {
  /** Envelope format version (FORMAT_VERSION). */
  version: number
  /** Message kind, assigned by the engine: 0 update, 1 pairwise request, 2 pairwise reply. */
  kind: number
  /** Network id (64 hex: 32 bytes). */
  networkId: string
  manifestVersion: number
  keyEpoch: number
  /** Model schema hash (64 hex). */
  schemaHash: string
  round: number
  /** Per-sender sequence number (u64 on the wire, at most MAX_SEQ). */
  seq: number
  /** Sender's ed25519 public key (64 hex) = its PeerKey. */
  sender: PeerKey
  exampleCount: number
  /** Push-sum weight (float64). */
  pushSumWeight: number
  /** Length of the dense weight vector. */
  numParams: number
  codec: CodecDescriptor
  /** Bytes of the encoded payload (plaintext). */
  payloadLength: number
  /** BLAKE3-256 (64 hex) of the ciphertext section (nonce || mac || ciphertext) as carried in the envelope. */
  payloadHash: string
  /** Ids (64 hex) of the updates this one was merged from (lineage), at most MAX_PARENTS. */
  parents: string[]
}

const U32_MAX = 0xffffffff
/** The payload hash of a header before sealing fills it in. */
export const ZERO_HASH_HEX = '0'.repeat(64)

function u32 (name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > U32_MAX) throw new InvalidUpdateFieldError(`${name} must be an integer in 0..${U32_MAX}, got ${v}`)
  return v
}

function seqField (v: number): number {
  if (!Number.isSafeInteger(v) || v < 0 || v > MAX_SEQ) throw new InvalidUpdateFieldError(`seq must be an integer in 0..${MAX_SEQ}, got ${v}`)
  return v
}

/** Writes a 64-hex field into the header. */
function hex32 (bytes: Uint8Array, offset: number, name: string, v: string): void {
  if (!writeHex32(bytes, offset, v)) throw new InvalidUpdateFieldError(`${name} must be 64 hex characters`)
}

export function headerLength (codec: CodecDescriptor, parents: number): number {
  return payloadHashOffset(codec) + 32 + 1 + 32 * parents
}

/** Offset of the payload-hash field inside a header with this codec: fixed part, codec id and params, payload length. */
export function payloadHashOffset (codec: CodecDescriptor): number {
  return HEADER_FIXED_BYTES + 1 + (codecParamBytes(CODEC_IDS[codec.name]) ?? 0) + 4
}

/** Writes a header into `out` at `offset` (throws InvalidUpdateFieldError on a bad field); returns its length. */
export function writeHeader (out: Uint8Array, offset: number, h: UpdateHeader): number {
  if (h.parents.length > MAX_PARENTS) throw new InvalidUpdateFieldError(`at most ${MAX_PARENTS} parents, got ${h.parents.length}`)
  if (!(h.version >= 0 && h.version <= 255 && Number.isInteger(h.version))) throw new InvalidUpdateFieldError('version must be 0..255')
  if (!(h.kind >= 0 && h.kind <= 255 && Number.isInteger(h.kind))) throw new InvalidUpdateFieldError('kind must be 0..255')
  if (!Number.isFinite(h.pushSumWeight) || h.pushSumWeight < 0) throw new InvalidUpdateFieldError(`pushSumWeight must be finite and >= 0, got ${h.pushSumWeight}`)
  const len = headerLength(h.codec, h.parents.length)
  const view = new DataView(out.buffer, out.byteOffset + offset, len)
  const bytes = out.subarray(offset, offset + len)
  view.setUint8(0, h.version)
  view.setUint8(1, h.kind)
  hex32(bytes, 2, 'networkId', h.networkId)
  view.setUint32(34, u32('manifestVersion', h.manifestVersion))
  view.setUint32(38, u32('keyEpoch', h.keyEpoch))
  hex32(bytes, 42, 'schemaHash', h.schemaHash)
  view.setUint32(74, u32('round', h.round))
  const seq = seqField(h.seq)
  view.setUint32(78, Math.floor(seq / 0x1_0000_0000))
  view.setUint32(82, seq >>> 0)
  hex32(bytes, SENDER_OFFSET, 'sender', h.sender)
  view.setUint32(118, u32('exampleCount', h.exampleCount))
  view.setFloat64(122, h.pushSumWeight)
  view.setUint32(130, u32('numParams', h.numParams))
  let o = writeCodec(view, HEADER_FIXED_BYTES, h.codec)
  view.setUint32(o, u32('payloadLength', h.payloadLength)); o += 4
  hex32(bytes, o, 'payloadHash', h.payloadHash); o += 32
  view.setUint8(o, h.parents.length); o += 1
  for (let i = 0; i < h.parents.length; i++) { hex32(bytes, o, `parents[${i}]`, h.parents[i]); o += 32 }
  return len
}

export function encodeHeader (h: UpdateHeader): Uint8Array {
  const out = new Uint8Array(headerLength(h.codec, h.parents.length))
  writeHeader(out, 0, h)
  return out
}

/** Lowercase hex of the 32 bytes at `start` (a top-level function: no closure per decoded header). */
function hex32At (buf: Buffer, start: number): string {
  return buf.toString('hex', start, start + 32)
}

export type HeaderDecode =
  | { ok: true, header: UpdateHeader }
  | { ok: false, reason: 'MALFORMED', detail: string }

/** Decodes exactly `bytes` as a header; never throws. Semantic checks (version, network...) are the validator's. */
export function decodeHeader (bytes: Uint8Array): HeaderDecode {
  if (bytes.length < MIN_HEADER_BYTES) return { ok: false, reason: 'MALFORMED', detail: `header of ${bytes.length} bytes is shorter than ${MIN_HEADER_BYTES}` }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) // one view for every hex field
  const codecId = view.getUint8(HEADER_FIXED_BYTES)
  const paramBytes = codecParamBytes(codecId)
  if (paramBytes == null) return { ok: false, reason: 'MALFORMED', detail: `unknown codec id ${codecId}` }
  let o = HEADER_FIXED_BYTES + 1 + paramBytes
  if (bytes.length < o + 4 + 32 + 1) return { ok: false, reason: 'MALFORMED', detail: 'header truncated in codec fields' }
  // a u64 sequence number beyond the safe integers would not decode back to the same bytes
  const seqHigh = view.getUint32(78)
  if (seqHigh > Math.floor(MAX_SEQ / 0x1_0000_0000)) return { ok: false, reason: 'MALFORMED', detail: 'seq beyond 2^53 - 1' }
  const codec = readCodec(view, HEADER_FIXED_BYTES)
  if (codec == null) return { ok: false, reason: 'MALFORMED', detail: `unknown codec id ${codecId}` }
  const payloadLength = view.getUint32(o); o += 4
  const payloadHash = hex32At(buf, o); o += 32
  const parentCount = view.getUint8(o); o += 1
  if (parentCount > MAX_PARENTS) return { ok: false, reason: 'MALFORMED', detail: `${parentCount} parents (at most ${MAX_PARENTS})` }
  if (bytes.length !== o + 32 * parentCount) {
    return { ok: false, reason: 'MALFORMED', detail: `header length ${bytes.length} does not match its ${parentCount} parents` }
  }
  const parents: string[] = []
  for (let i = 0; i < parentCount; i++) { parents.push(hex32At(buf, o)); o += 32 }
  return {
    ok: true,
    header: {
      version: view.getUint8(0),
      kind: view.getUint8(1),
      networkId: hex32At(buf, 2),
      manifestVersion: view.getUint32(34),
      keyEpoch: view.getUint32(38),
      schemaHash: hex32At(buf, 42),
      round: view.getUint32(74),
      seq: seqHigh * 0x1_0000_0000 + view.getUint32(82),
      sender: hex32At(buf, SENDER_OFFSET),
      exampleCount: view.getUint32(118),
      pushSumWeight: view.getFloat64(122),
      numParams: view.getUint32(130),
      codec,
      payloadLength,
      payloadHash,
      parents
    }
  }
}
