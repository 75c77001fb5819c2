/**
 * Sealing and parsing update envelopes.
 *
 * Envelope = u16 headerLength (big-endian) || header || signature (64) || nonce (24) || mac (16) || box
 *   signature = ed25519(SIGNATURE_DOMAIN || header)            the header holds BLAKE3(nonce || mac || box),
 *                                                              so the signature covers the ciphertext
 *   mac || box = secretbox(binding || payload, nonce, epochKey)  XSalsa20-Poly1305 under the key epoch's key
 *   binding = SHA-256(BINDING_DOMAIN || header with its payloadHash field zeroed)
 *   id = SHA-256(header) (hex): names the update; the header commits to everything else
 */
import type { Signer, RefusalReason } from '../interfaces.js'
import type { CodecDescriptor } from '../codecs/index.js'
import { expectedPayloadLength } from '../codecs/index.js'
import { fast, allocWritable } from '../../crypto/fast.js'
import type { CryptoProvider } from '../../crypto/provider.js'
import { toHex, bytesEqual } from '../../crypto/hex.js'
import { type UpdateHeader, ZERO_HASH_HEX, headerLength, payloadHashOffset, writeHeader, decodeHeader } from './header.js'
import {
  BINDING_BYTES, BINDING_DOMAIN, FORMAT_VERSION, MAC_BYTES, MAX_HEADER_BYTES, MIN_HEADER_BYTES, NONCE_BYTES,
  SENDER_OFFSET, SIGNATURE_BYTES, SIGNATURE_DOMAIN
} from './constants.js'
import { InvalidUpdateFieldError } from './errors.js'

const SIGNATURE_DOMAIN_BYTES = new TextEncoder().encode(SIGNATURE_DOMAIN)
const BINDING_DOMAIN_BYTES = new TextEncoder().encode(BINDING_DOMAIN)
/** Offset of the sender key inside every header (fixed part). */

/** `domain || headerBytes` in a fresh array of its own (from node's small-buffer pool: a few hundred bytes). */
function withDomain (domain: Uint8Array, headerBytes: Uint8Array): Uint8Array {
  const m = Buffer.allocUnsafe(domain.length + headerBytes.length)
  m.set(domain, 0)
  m.set(headerBytes, domain.length)
  return m
}

/**
 * Header fields the caller chooses (`numParams`: the dense vector length the payload decodes to); version,
 * sender, codec, payload length and hash are filled in; `kind` defaults to 0 and `parents` to none.
 */
export interface UpdateFields extends Pick<UpdateHeader, 'networkId' | 'manifestVersion' | 'keyEpoch' | 'schemaHash' |
'round' | 'seq' | 'exampleCount' | 'pushSumWeight' | 'numParams'>, Partial<Pick<UpdateHeader, 'kind' | 'parents'>> {}

export interface SealOptions {
  signer: Signer
  /** 32-byte group key of `fields.keyEpoch`. */
  epochKey: Uint8Array
  /** Source of the nonce (default: the OS CSPRNG). Inject a deterministic one only for test vectors. */
  randomBytes?: (n: number) => Uint8Array
  /** The primitives to seal with (default: this process's fast provider). */
  crypto?: CryptoProvider
}

export interface SealedUpdate {
  bytes: Uint8Array
  /** Hex SHA-256 of the header. */
  id: string
  header: UpdateHeader
}

/** The bytes a sender signs (and a verifier checks): domain tag || header, a fresh array the caller may keep. */
export function signedMessage (headerBytes: Uint8Array): Uint8Array {
  return withDomain(SIGNATURE_DOMAIN_BYTES, headerBytes)
}

/** The header binding sealed inside the ciphertext (header with the payloadHash field zeroed). */
export function headerBinding (headerBytes: Uint8Array, codec: CodecDescriptor, crypto: CryptoProvider = fast): Uint8Array {
  return headerBindingAt(headerBytes, payloadHashOffset(codec), crypto)
}

/**
 * The header binding of a header whose payloadHash field starts at `o` (a fresh array): SHA-256 of
 * BINDING_DOMAIN || header with the 32 bytes at `o` zeroed (as far as the header reaches).
 */
export function headerBindingAt (headerBytes: Uint8Array, o: number, crypto: CryptoProvider = fast): Uint8Array {
  const d = BINDING_DOMAIN_BYTES.length
  const m = withDomain(BINDING_DOMAIN_BYTES, headerBytes)
  const end = Math.min(m.length, d + o + 32)
  if (d + o < end) m.fill(0, d + o, end)
  const out = new Uint8Array(32)
  crypto.sha256Into(out, m)
  return out
}

/** The validator's name for `headerBindingAt`. */
export const headerBindingScratch = headerBindingAt

/** Builds, encrypts and signs an envelope. Throws InvalidUpdateFieldError on bad fields (our own input). */
export function sealUpdate (fields: UpdateFields, encoded: { codec: CodecDescriptor, payload: Uint8Array }, options: SealOptions): SealedUpdate {
  const { codec, payload } = encoded
  const crypto = options.crypto ?? fast
  const expected = expectedPayloadLength(codec, fields.numParams)
  if (expected == null || expected !== payload.length) {
    throw new InvalidUpdateFieldError(`payload of ${payload.length} bytes does not fit codec ${codec.name} with ${fields.numParams} params (expected ${String(expected)})`)
  }
  if (options.epochKey.length !== 32) throw new InvalidUpdateFieldError('epochKey must be 32 bytes')
  if (options.signer.publicKey.length !== 32) throw new InvalidUpdateFieldError('signer public key must be 32 bytes')
  const header: UpdateHeader = {
    version: FORMAT_VERSION,
    kind: fields.kind ?? 0,
    networkId: fields.networkId,
    manifestVersion: fields.manifestVersion,
    keyEpoch: fields.keyEpoch,
    schemaHash: fields.schemaHash,
    round: fields.round,
    seq: fields.seq,
    sender: toHex(options.signer.publicKey),
    exampleCount: fields.exampleCount,
    pushSumWeight: fields.pushSumWeight,
    numParams: fields.numParams,
    codec,
    payloadLength: payload.length,
    payloadHash: ZERO_HASH_HEX,
    parents: fields.parents ?? []
  }
  const hl = headerLength(codec, header.parents.length)
  const ctStart = 2 + hl + SIGNATURE_BYTES
  const total = ctStart + NONCE_BYTES + MAC_BYTES + BINDING_BYTES + payload.length
  const out = allocWritable(total) // every byte is written below
  out[0] = hl >>> 8
  out[1] = hl & 0xff
  writeHeader(out, 2, header)
  const headerBytes = out.subarray(2, 2 + hl)
  // secretbox(binding || payload): the binding is exactly keystream block 0's second half, so the payload is
  // encrypted straight from the encoder's buffer into the envelope (no plaintext copy, no extra buffer).
  // The binding is SHA-256 of the header as written so far: its payloadHash field is still zero.
  const boxStart = ctStart + NONCE_BYTES
  const nonce = out.subarray(ctStart, boxStart)
  if (options.randomBytes != null) {
    const injected = options.randomBytes(NONCE_BYTES)
    if (injected.length !== NONCE_BYTES) throw new InvalidUpdateFieldError('randomBytes returned the wrong length')
    nonce.set(injected)
  } else {
    crypto.randomPublicBytesInto(nonce)
  }
  const binding = new Uint8Array(32)
  crypto.sha256Into(binding, withDomain(BINDING_DOMAIN_BYTES, headerBytes))
  crypto.secretboxPrefixedInto(out.subarray(boxStart), binding, payload, nonce, options.epochKey)
  const payloadHash = crypto.blake3(out.subarray(ctStart))
  const hashOffset = payloadHashOffset(codec)
  headerBytes.set(payloadHash, hashOffset)
  header.payloadHash = toHex(payloadHash)
  // a fresh copy for the Signer (it may keep what it signs)
  const signature = options.signer.sign(signedMessage(headerBytes))
  if (signature.length !== SIGNATURE_BYTES) throw new InvalidUpdateFieldError('signer returned a signature that is not 64 bytes')
  out.set(signature, 2 + hl)
  return { bytes: out, id: crypto.sha256Hex(headerBytes), header }
}

/** An envelope split into its parts (views into the original bytes). */
export interface ParsedEnvelope {
  header: UpdateHeader
  headerBytes: Uint8Array
  signature: Uint8Array
  /** nonce || mac || box: what `header.payloadHash` hashes. */
  ciphertext: Uint8Array
  id: string
}

export type ParseResult =
  | { ok: true, envelope: ParsedEnvelope }
  | { ok: false, reason: RefusalReason, detail: string, header?: UpdateHeader }

/**
 * Splits and decodes an envelope with limits; never throws. Checks structure only (sizes, version, codec,
 * lengths consistent with each other), not network, membership, signature or content.
 */
export function parseEnvelope (bytes: Uint8Array, options: { maxBytes?: number, crypto?: CryptoProvider } = {}): ParseResult {
  if (!(bytes instanceof Uint8Array)) return { ok: false, reason: 'MALFORMED', detail: 'not a byte array' }
  if (options.maxBytes != null && bytes.length > options.maxBytes) {
    return { ok: false, reason: 'OVERSIZED', detail: `${bytes.length} bytes exceeds the limit of ${options.maxBytes}` }
  }
  if (bytes.length < 2 + MIN_HEADER_BYTES + SIGNATURE_BYTES + NONCE_BYTES + MAC_BYTES + BINDING_BYTES) {
    return { ok: false, reason: 'MALFORMED', detail: `${bytes.length} bytes is shorter than any envelope` }
  }
  const hl = (bytes[0] << 8) | bytes[1]
  if (hl < MIN_HEADER_BYTES || hl > MAX_HEADER_BYTES) return { ok: false, reason: 'MALFORMED', detail: `header length ${hl} out of range` }
  if (bytes[2] !== FORMAT_VERSION) return { ok: false, reason: 'UNSUPPORTED_VERSION', detail: `format version ${bytes[2]} (this peer reads ${FORMAT_VERSION})` }
  const ctStart = 2 + hl + SIGNATURE_BYTES
  if (bytes.length < ctStart + NONCE_BYTES + MAC_BYTES + BINDING_BYTES) {
    return { ok: false, reason: 'MALFORMED', detail: 'envelope truncated before the ciphertext' }
  }
  const headerBytes = bytes.subarray(2, 2 + hl)
  const decoded = decodeHeader(headerBytes)
  if (!decoded.ok) return decoded
  const header = decoded.header
  const ctLength = bytes.length - ctStart
  const expectedCt = NONCE_BYTES + MAC_BYTES + BINDING_BYTES + header.payloadLength
  if (ctLength !== expectedCt) {
    return { ok: false, reason: 'LENGTH_MISMATCH', detail: `ciphertext is ${ctLength} bytes, header says payload ${header.payloadLength} (expected ${expectedCt})`, header }
  }
  return {
    ok: true,
    envelope: {
      header,
      headerBytes,
      signature: bytes.subarray(2 + hl, ctStart),
      ciphertext: bytes.subarray(ctStart),
      id: (options.crypto ?? fast).sha256Hex(headerBytes)
    }
  }
}

/** ed25519 check of `signature` over domain || header by the header's own sender key (read from its bytes). */
export function verifyHeaderSignature (headerBytes: Uint8Array, signature: Uint8Array, crypto: CryptoProvider = fast): boolean {
  return crypto.verify(signedMessage(headerBytes), signature, headerBytes.subarray(SENDER_OFFSET, SENDER_OFFSET + 32))
}

/** The payload hash field of a decoded header, as the bytes it was decoded from (a view). */
export function signedPayloadHash (headerBytes: Uint8Array, codec: CodecDescriptor): Uint8Array {
  const o = payloadHashOffset(codec)
  return headerBytes.subarray(o, o + 32)
}

/** Header JSON as operators see it (`murmur update inspect`). */
export function headerToJson (header: UpdateHeader): Record<string, unknown> {
  return { ...header, codec: { ...header.codec } }
}

export type SignatureCheck =
  | { ok: true, header: UpdateHeader, id: string }
  | { ok: false, reason: RefusalReason, detail: string, header?: UpdateHeader, id?: string }

/**
 * Re-checks an envelope's provenance WITHOUT the group key (auditors, `murmur log --verify`): structure,
 * the sender's signature over domain || header, and the ciphertext against the signed payload hash.
 * Never throws. Membership is the caller's check (`header.sender` against the manifest).
 */
export function verifyEnvelopeSignature (bytes: Uint8Array, options: { maxBytes?: number, crypto?: CryptoProvider } = {}): SignatureCheck {
  const crypto = options.crypto ?? fast
  try {
    const parsed = parseEnvelope(bytes, options)
    if (!parsed.ok) return parsed
    const { header, headerBytes, signature, ciphertext, id } = parsed.envelope
    if (!verifyHeaderSignature(headerBytes, signature, crypto)) {
      return { ok: false, reason: 'BAD_SIGNATURE', detail: 'signature does not verify', header, id }
    }
    if (!bytesEqual(crypto.blake3(ciphertext), signedPayloadHash(headerBytes, header.codec))) {
      return { ok: false, reason: 'BAD_PAYLOAD_HASH', detail: 'ciphertext does not match the signed payload hash', header, id }
    }
    return { ok: true, header, id }
  } catch (err) {
    return { ok: false, reason: 'MALFORMED', detail: (err as Error).message }
  }
}
