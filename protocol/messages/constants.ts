/**
 * Wire constants of the update envelope (format version 3: the header signs BLAKE3-256 of the ciphertext and
 * carries a 64-bit sequence number; docs/design-notes.md says why versions 1 and 2 were replaced).
 */
import { HASH_BYTES, SECRETBOX_MAC_BYTES, SECRETBOX_NONCE_BYTES, SIGNATURE_BYTES } from '../../crypto/constants.js'

export const FORMAT_VERSION = 3
/** Domain tag prepended to the header before signing. */
export const SIGNATURE_DOMAIN = 'murmur/update/v3\0'
/** Domain tag of the header binding hash sealed inside the ciphertext. */
export const BINDING_DOMAIN = 'murmur/update-binding/v3\0'
/** Most parent update ids a header may carry (lineage). */
export const MAX_PARENTS = 16
/** Message kinds (the engine assigns their meaning; 3..255 reserved and refused). */
export const UpdateKind = { UPDATE: 0, PAIRWISE_REQUEST: 1, PAIRWISE_REPLY: 2 } as const
export const MAX_KIND = 2
/** Fixed part of the header before the codec (see docs/security.md for the table). */
export const HEADER_FIXED_BYTES = 134
/** Offset of the sender's public key in the header (read before decoding, to verify the signature). */
export const SENDER_OFFSET = 86
/** Smallest possible header: fixed part, codec id, payload length, payload hash, parent count. */
export const MIN_HEADER_BYTES = HEADER_FIXED_BYTES + 1 + 4 + 32 + 1
export const MAX_HEADER_BYTES = MIN_HEADER_BYTES + 4 + 32 * MAX_PARENTS
/** The NaCl sizes on the wire: one definition, in crypto/constants.ts. */
export { SIGNATURE_BYTES } from '../../crypto/constants.js'
export const NONCE_BYTES = SECRETBOX_NONCE_BYTES
export const MAC_BYTES = SECRETBOX_MAC_BYTES
/** The header binding is a SHA-256 digest. */
export const BINDING_BYTES = HASH_BYTES
/** Envelope bytes besides the header and payload: header length prefix, signature, nonce, mac, binding. */
export const ENVELOPE_OVERHEAD = 2 + SIGNATURE_BYTES + NONCE_BYTES + MAC_BYTES + BINDING_BYTES
/** Largest sequence number (the header's u64 field is bounded to JavaScript's safe integers). */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER
/** Default replay window (sequence numbers) per sender. */
export const DEFAULT_REPLAY_WINDOW = 1024
