/**
 * Validation of received envelopes, cheapest check first; never throws on hostile input, every refusal is a
 * named RefusalReason (protocol/interfaces.ts), which `gossipVerdict` maps to accept / ignore / reject.
 *
 * Order: size (OVERSIZED) -> structure with limits (MALFORMED, UNSUPPORTED_VERSION, LENGTH_MISMATCH) ->
 * kind -> network (WRONG_NETWORK) -> schema (SCHEMA_MISMATCH) -> lengths (LENGTH_MISMATCH) -> push-sum
 * weight (NON_FINITE, MALFORMED) -> manifest version (STALE_MANIFEST) -> self (SELF) -> membership
 * (NOT_A_MEMBER) -> key epoch (UNKNOWN_EPOCH) -> round window (STALE_ROUND, FUTURE_ROUND) -> sequence
 * (REPLAYED; a candidate EQUIVOCATION is only reported once the signature proves it) -> signature
 * (BAD_SIGNATURE) -> ciphertext hash (BAD_PAYLOAD_HASH) -> decryption and header binding (DECRYPTION_FAILED)
 * -> payload decode (MALFORMED, LENGTH_MISMATCH, NON_FINITE) -> norm bound (NORM_BOUND).
 *
 * Replay is checked here and only here (cheap first: a replayed envelope costs a parse, not a signature check
 * and a decryption), against the guard of the receiver: `context.replay` (the peer engine hands its own with
 * every envelope) or else `options.replay`. The validator does not record anything: after the engine accepts an
 * update it calls `replay.commit(header.sender, header.seq, id)` (and persists the returned mark).
 */
import type { PeerKey, RefusalReason } from '../interfaces.js'
import { decodePayload, expectedPayloadLength } from '../codecs/index.js'
import { fast } from '../../crypto/fast.js'
import type { CryptoProvider } from '../../crypto/provider.js'
import { bytesEqual } from '../../crypto/hex.js'
import { type UpdateHeader, payloadHashOffset } from './header.js'
import { parseEnvelope, headerBindingScratch, verifyHeaderSignature, signedPayloadHash } from './envelope.js'
import type { ReplayGuard } from './replay.js'
import { BINDING_BYTES, MAC_BYTES, MAX_KIND, NONCE_BYTES } from './constants.js'

/** What the validator needs to know about the network's membership (protocol/membership's keyring provides it). */
export interface MembershipView {
  /** Whether this signing key (hex) may send updates. Open networks answer true for everyone. */
  isMember: (sender: PeerKey) => boolean
  /** The 32-byte group key of a key epoch, or null when this peer does not have it. */
  epochKey: (epoch: number) => Uint8Array | null
  /** Updates made under an older manifest version are STALE_MANIFEST (default 0: accept all). */
  minManifestVersion?: number
}

export interface ValidatorOptions {
  networkId: string
  schemaHash: string
  numParams: number
  membership: MembershipView
  /** The replay guard to check against when the context brings none (standalone validators). */
  replay?: ReplayGuard
  /** Largest envelope accepted, in bytes. */
  maxBytes: number
  /** Rounds accepted around `context.round`: [round - past, round + future]. Unchecked without a context round. */
  roundWindow?: { past: number, future: number }
  /** Largest Euclidean norm of the decoded vector (null/undefined: unbounded). */
  normBound?: number | null
  /** This peer's own key: its own envelopes coming back are SELF. */
  self?: PeerKey
  /** The primitives to validate with (default: this process's fast provider). */
  crypto?: CryptoProvider
}

export interface ValidationContext {
  /** The receiver's current round (enables the round window). */
  round?: number
  /** Who delivered it (only reported back in `detail`; provenance comes from the signature). */
  from?: PeerKey
  /** The receiver's replay guard for this envelope (check only); overrides `options.replay`. */
  replay?: ReplayGuard
}

export type ValidationResult =
  | {
    ok: true
    header: UpdateHeader
    /** Dense decoded vector (length numParams). For top-k: zeros at coordinates not sent. */
    weights: Float32Array
    /** Top-k only: the coordinates that were sent (ascending); null for dense codecs. */
    indices: Uint32Array | null
    /** Euclidean norm of `weights`. */
    norm: number
    id: string
  }
  | {
    ok: false
    reason: RefusalReason
    detail: string
    header?: UpdateHeader
    id?: string
    /** EQUIVOCATION only: the id of the other update signed by the same sender at the same seq. */
    previousId?: string
  }

export interface Validator {
  validate: (bytes: Uint8Array, context?: ValidationContext) => ValidationResult
}

/** A refusal after the header decoded (a top-level function: no closure per validated envelope). */
function refusal (context: ValidationContext, header: UpdateHeader, id: string, reason: RefusalReason, detail: string,
  extra: { previousId?: string } = {}): ValidationResult {
  return { ok: false, reason, detail: context.from != null ? `${detail} (delivered by ${context.from})` : detail, header, id, ...extra }
}

export function createValidator (options: ValidatorOptions): Validator {
  const networkId = options.networkId.toLowerCase()
  const schemaHash = options.schemaHash.toLowerCase()
  const { membership, maxBytes, numParams } = options
  const normBound = options.normBound ?? null
  const self = options.self?.toLowerCase()
  const crypto = options.crypto ?? fast

  function validate (bytes: Uint8Array, context: ValidationContext = {}): ValidationResult {
    try {
      return run(bytes, context)
    } catch (err) {
      // Defence in depth: a bug must not let an exception escape into the transport.
      return { ok: false, reason: 'MALFORMED', detail: `validator error: ${(err as Error).message}` }
    }
  }

  function run (bytes: Uint8Array, context: ValidationContext): ValidationResult {
    const parsed = parseEnvelope(bytes, { maxBytes, crypto })
    if (!parsed.ok) return parsed
    const { header, headerBytes, signature, ciphertext, id } = parsed.envelope

    if (header.kind > MAX_KIND) return refusal(context, header, id, 'UNSUPPORTED_VERSION', `message kind ${header.kind} is reserved`)
    if (header.networkId !== networkId) return refusal(context, header, id, 'WRONG_NETWORK', `network ${header.networkId}`)
    if (header.schemaHash !== schemaHash) return refusal(context, header, id, 'SCHEMA_MISMATCH', `schema ${header.schemaHash}, expected ${schemaHash}`)
    if (header.numParams !== numParams) return refusal(context, header, id, 'LENGTH_MISMATCH', `${header.numParams} params, expected ${numParams}`)
    const expected = expectedPayloadLength(header.codec, numParams)
    if (expected == null) return refusal(context, header, id, 'MALFORMED', `invalid parameters for codec ${header.codec.name}`)
    if (expected !== header.payloadLength) return refusal(context, header, id, 'LENGTH_MISMATCH', `payload ${header.payloadLength} bytes, codec needs ${expected}`)
    if (!Number.isFinite(header.pushSumWeight)) return refusal(context, header, id, 'NON_FINITE', `push-sum weight ${header.pushSumWeight}`)
    if (header.pushSumWeight < 0 || Object.is(header.pushSumWeight, -0)) return refusal(context, header, id, 'MALFORMED', 'negative push-sum weight')
    if (header.manifestVersion < (membership.minManifestVersion ?? 0)) {
      return refusal(context, header, id, 'STALE_MANIFEST', `manifest version ${header.manifestVersion} < ${String(membership.minManifestVersion)}`)
    }
    if (self != null && header.sender === self) return refusal(context, header, id, 'SELF', 'own update')
    if (!membership.isMember(header.sender)) return refusal(context, header, id, 'NOT_A_MEMBER', `sender ${header.sender} is not a member`)
    const key = membership.epochKey(header.keyEpoch)
    if (key == null) return refusal(context, header, id, 'UNKNOWN_EPOCH', `key epoch ${header.keyEpoch} unknown here`)
    if (options.roundWindow != null && context.round != null) {
      if (header.round < context.round - options.roundWindow.past) return refusal(context, header, id, 'STALE_ROUND', `round ${header.round}, current ${context.round}`)
      if (header.round > context.round + options.roundWindow.future) return refusal(context, header, id, 'FUTURE_ROUND', `round ${header.round}, current ${context.round}`)
    }
    const replay = context.replay ?? options.replay
    if (replay == null) return refusal(context, header, id, 'MALFORMED', 'validator has no replay guard (options.replay or context.replay)')
    const seen = replay.check(header.sender, header.seq, id)
    if (!seen.ok && seen.reason === 'REPLAYED') return refusal(context, header, id, 'REPLAYED', seen.detail)
    if (!verifyHeaderSignature(headerBytes, signature, crypto)) return refusal(context, header, id, 'BAD_SIGNATURE', 'signature does not verify')
    if (!seen.ok) return refusal(context, header, id, 'EQUIVOCATION', seen.detail, { previousId: seen.previousId })
    if (!bytesEqual(crypto.blake3(ciphertext), signedPayloadHash(headerBytes, header.codec))) return refusal(context, header, id, 'BAD_PAYLOAD_HASH', 'ciphertext does not match the signed payload hash')
    const plaintext = crypto.secretboxOpen(ciphertext.subarray(NONCE_BYTES), ciphertext.subarray(0, NONCE_BYTES), key)
    if (plaintext == null) return refusal(context, header, id, 'DECRYPTION_FAILED', `does not open under key epoch ${header.keyEpoch}`)
    if (plaintext.length !== BINDING_BYTES + header.payloadLength || ciphertext.length !== NONCE_BYTES + MAC_BYTES + plaintext.length) {
      return refusal(context, header, id, 'LENGTH_MISMATCH', 'plaintext length')
    }
    if (!bytesEqual(plaintext.subarray(0, BINDING_BYTES), headerBindingScratch(headerBytes, payloadHashOffset(header.codec), crypto))) {
      return refusal(context, header, id, 'DECRYPTION_FAILED', 'sealed header binding does not match the header')
    }
    const decoded = decodePayload(header.codec, plaintext.subarray(BINDING_BYTES), numParams, { maxBytes, shareBuffer: true })
    if (!decoded.ok) return refusal(context, header, id, decoded.reason, decoded.detail)
    const norm = Math.sqrt(decoded.sumSquares)
    if (normBound != null && !(norm <= normBound)) return refusal(context, header, id, 'NORM_BOUND', `norm ${norm} exceeds ${normBound}`)
    return { ok: true, header, weights: decoded.values, indices: decoded.indices, norm, id }
  }

  return { validate }
}
