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
import { secretboxPrefixedInto, sha256, blake3, verify, allocWritable, randomBytes as cryptoRandomBytes } from '../../crypto/fast.js'
import { toHex, fromHex, bytesEqual } from '../../crypto/hex.js'
import { type UpdateHeader, headerLength, payloadHashOffset, writeHeader, decodeHeader } from './header.js'
import {
  BINDING_BYTES, BINDING_DOMAIN, FORMAT_VERSION, MAC_BYTES, MAX_HEADER_BYTES, MIN_HEADER_BYTES, NONCE_BYTES,
  SIGNATURE_BYTES, SIGNATURE_DOMAIN
} from './constants.js'
import { InvalidUpdateFieldError } from './errors.js'

const SIGNATURE_DOMAIN_BYTES = new TextEncoder().encode(SIGNATURE_DOMAIN)
const BINDING_DOMAIN_BYTES = new TextEncoder().encode(BINDING_DOMAIN)

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
}

export interface SealedUpdate {
  bytes: Uint8Array
  /** Hex SHA-256 of the header. */
  id: string
  header: UpdateHeader
}

/** The bytes a sender signs (and a verifier checks): domain tag || header. */
export function signedMessage (headerBytes: Uint8Array): Uint8Array {
  const m = new Uint8Array(SIGNATURE_DOMAIN_BYTES.length + headerBytes.length)
  m.set(SIGNATURE_DOMAIN_BYTES, 0)
  m.set(headerBytes, SIGNATURE_DOMAIN_BYTES.length)
  return m
}

/** The header binding sealed inside the ciphertext (header with the payloadHash field zeroed). */
export function headerBinding (headerBytes: Uint8Array, codec: CodecDescriptor): Uint8Array {
  const copy = new Uint8Array(headerBytes)
  const o = payloadHashOffset(codec)
  copy.fill(0, o, o + 32)
  return sha256(BINDING_DOMAIN_BYTES, copy)
}

/** Builds, encrypts and signs an envelope. Throws InvalidUpdateFieldError on bad fields (our own input). */
export function sealUpdate (fields: UpdateFields, encoded: { codec: CodecDescriptor, payload: Uint8Array }, options: SealOptions): SealedUpdate {
  const { codec, payload } = encoded
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
    payloadHash: '0'.repeat(64),
    parents: fields.parents ?? []
  }
  const hl = headerLength(codec, header.parents.length)
  const ctStart = 2 + hl + SIGNATURE_BYTES
  const total = ctStart + NONCE_BYTES + MAC_BYTES + BINDING_BYTES + payload.length
  const out = allocWritable(total) // every byte is written below
  new DataView(out.buffer, out.byteOffset).setUint16(0, hl)
  writeHeader(out, 2, header)
  const headerBytes = out.subarray(2, 2 + hl)
  // secretbox(binding || payload): the binding is exactly keystream block 0's second half, so the payload is
  // encrypted straight from the encoder's buffer into the envelope (no plaintext copy, no extra buffer)
  const boxStart = ctStart + NONCE_BYTES
  const nonce = (options.randomBytes ?? cryptoRandomBytes)(NONCE_BYTES)
  if (nonce.length !== NONCE_BYTES) throw new InvalidUpdateFieldError('randomBytes returned the wrong length')
  out.set(nonce, ctStart)
  secretboxPrefixedInto(out.subarray(boxStart), headerBinding(headerBytes, codec), payload, nonce, options.epochKey)
  const payloadHash = blake3(out.subarray(ctStart))
  headerBytes.set(payloadHash, payloadHashOffset(codec))
  header.payloadHash = toHex(payloadHash)
  const signature = options.signer.sign(signedMessage(headerBytes))
  if (signature.length !== SIGNATURE_BYTES) throw new InvalidUpdateFieldError('signer returned a signature that is not 64 bytes')
  out.set(signature, 2 + hl)
  return { bytes: out, id: toHex(sha256(headerBytes)), header }
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
export function parseEnvelope (bytes: Uint8Array, options: { maxBytes?: number } = {}): ParseResult {
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
      id: toHex(sha256(headerBytes))
    }
  }
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
export function verifyEnvelopeSignature (bytes: Uint8Array, options: { maxBytes?: number } = {}): SignatureCheck {
  try {
    const parsed = parseEnvelope(bytes, options)
    if (!parsed.ok) return parsed
    const { header, headerBytes, signature, ciphertext, id } = parsed.envelope
    if (!verify(signedMessage(headerBytes), signature, fromHex(header.sender, 32))) {
      return { ok: false, reason: 'BAD_SIGNATURE', detail: 'signature does not verify', header, id }
    }
    if (!bytesEqual(blake3(ciphertext), fromHex(header.payloadHash, 32))) {
      return { ok: false, reason: 'BAD_PAYLOAD_HASH', detail: 'ciphertext does not match the signed payload hash', header, id }
    }
    return { ok: true, header, id }
  } catch (err) {
    return { ok: false, reason: 'MALFORMED', detail: (err as Error).message }
  }
}
