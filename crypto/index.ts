/**
 * Keys, signatures and sealing for Murmur. NaCl primitives on the wire (ed25519, XSalsa20-Poly1305 secretbox,
 * Curve25519 box), computed by libsodium (`sodium-native`) when it loads, else node:crypto; byte-identical to
 * tweetnacl (`reference`), which stays as the portable reference implementation.
 *
 * @example
 * ```ts
 * import { generateIdentity, createSigner, verify, sealKeyToMember, openSealedKey } from './crypto/index.js'
 * const me = generateIdentity()                       // or generateIdentity(seed32) for a fixed identity
 * const signer = createSigner(me)
 * const sig = signer.sign(bytes)
 * verify(bytes, sig, me.signPublicKey)                 // true
 * const sealed = sealKeyToMember(groupKey, me.boxPublicKey)
 * openSealedKey(sealed, me)                            // groupKey
 * ```
 *
 * Key exchange key: the X25519 box key is derived from the same 32-byte seed by the standard conversion
 * (libsodium's crypto_sign_ed25519_sk_to_curve25519: SHA-512(seed)[0..32], clamped); its public half equals
 * crypto_sign_ed25519_pk_to_curve25519(signPublicKey), so a member is named by the signing key alone.
 */
import { scryptSync } from 'node:crypto'
/** The shape of protocol/interfaces.ts's `Signer`, restated here: crypto/ imports nothing of the project. */
export interface Signer { readonly publicKey: Uint8Array, sign: (message: Uint8Array) => Uint8Array }
import * as fast from './fast.js'
import { reference } from './reference.js'
import { InvalidKeyError, DecryptionError } from './errors.js'
import { toHex } from './hex.js'
import {
  BOX_NONCE_BYTES, BOX_MAC_BYTES, BOX_PUBLIC_KEY_BYTES, BOX_SECRET_KEY_BYTES, PASSPHRASE_KDF_LIMITS, SEALED_KEY_BYTES
} from './constants.js'

export * from './constants.js'
export { InvalidKeyError, DecryptionError } from './errors.js'
export { toHex, fromHex, fromHexOrNull, bytesEqual, concatBytes } from './hex.js'
export { reference } from './reference.js'
export {
  backend, sign, verify, secretbox, secretboxInto, secretboxOpen, secretboxOpenInto, box, boxOpen, boxPublicKey,
  boxPublicKeyFromSignPublicKey, sha256, blake3, hashBackend, randomBytes
} from './fast.js'

/** A peer's keys. `signSecretKey` uses the NaCl layout (seed || public key). Never log or send it. */
export interface Identity {
  /** The 32-byte ed25519 seed: the only secret stored on disk; also the libp2p PeerId key's seed. */
  seed: Uint8Array
  signPublicKey: Uint8Array
  signSecretKey: Uint8Array
  boxPublicKey: Uint8Array
  boxSecretKey: Uint8Array
}

/** A fresh random identity, or the identity fixed by a 32-byte seed. */
export function generateIdentity (seed?: Uint8Array): Identity {
  const s = seed ?? fast.randomBytes(32)
  if (!(s instanceof Uint8Array) || s.length !== 32) throw new InvalidKeyError('identity seed must be 32 bytes')
  const seedCopy = new Uint8Array(s)
  const { publicKey, secretKey } = fast.signKeyPairFromSeed(seedCopy)
  const boxSecretKey = reference.boxSecretKeyFromSeed(seedCopy)
  return { seed: seedCopy, signPublicKey: publicKey, signSecretKey: secretKey, boxPublicKey: fast.boxPublicKey(boxSecretKey), boxSecretKey }
}

/** A Signer (protocol/interfaces.ts) over an identity's ed25519 key. */
export function createSigner (identity: Pick<Identity, 'signPublicKey' | 'signSecretKey'>): Signer {
  const secretKey = identity.signSecretKey
  const publicKey = new Uint8Array(identity.signPublicKey)
  return {
    publicKey,
    sign: (message: Uint8Array) => fast.sign(message, secretKey)
  }
}

/** Ephemeral public key and nonce in front of a sealed key's box. */
const SEALED_HEADER_BYTES = BOX_PUBLIC_KEY_BYTES + BOX_NONCE_BYTES

/**
 * Seals a 32-byte group key (or any short secret) to one member: NaCl box from a fresh ephemeral X25519 key.
 * Layout: ephemeral public key (32) || nonce (24) || box (mac 16 || ciphertext). `randomBytes` is injectable
 * for deterministic test vectors.
 */
export function sealKeyToMember (secret: Uint8Array, recipientBoxPublicKey: Uint8Array,
  randomBytes: (n: number) => Uint8Array = fast.randomBytes): Uint8Array {
  if (recipientBoxPublicKey.length !== BOX_PUBLIC_KEY_BYTES) throw new InvalidKeyError('recipient box public key must be 32 bytes')
  const ephemeralSecret = randomBytes(BOX_SECRET_KEY_BYTES)
  const ephemeralPublic = fast.boxPublicKey(ephemeralSecret)
  const nonce = randomBytes(BOX_NONCE_BYTES)
  const boxed = fast.box(secret, nonce, recipientBoxPublicKey, ephemeralSecret)
  ephemeralSecret.fill(0)
  const out = new Uint8Array(SEALED_HEADER_BYTES + boxed.length)
  out.set(ephemeralPublic, 0)
  out.set(nonce, BOX_PUBLIC_KEY_BYTES)
  out.set(boxed, SEALED_HEADER_BYTES)
  return out
}

/** Opens what `sealKeyToMember` sealed; null when it is not for this key or was altered. */
export function openSealedKey (sealed: Uint8Array, recipient: Pick<Identity, 'boxSecretKey'>): Uint8Array | null {
  if (sealed.length < SEALED_HEADER_BYTES + BOX_MAC_BYTES) return null
  return fast.boxOpen(sealed.subarray(SEALED_HEADER_BYTES), sealed.subarray(BOX_PUBLIC_KEY_BYTES, SEALED_HEADER_BYTES),
    sealed.subarray(0, BOX_PUBLIC_KEY_BYTES), recipient.boxSecretKey)
}

/** Expected length of a sealed 32-byte group key. */
export const SEALED_GROUP_KEY_BYTES = SEALED_KEY_BYTES

/** Parameters of the passphrase key derivation for open networks (scrypt, RFC 7914). */
export interface PassphraseKdf {
  kdf: 'scrypt'
  /** Hex salt (16+ bytes), random per network. */
  salt: string
  /** CPU/memory cost (power of two). */
  N: number
  r: number
  p: number
}

export const DEFAULT_PASSPHRASE_KDF: Omit<PassphraseKdf, 'salt'> = { kdf: 'scrypt', N: 1 << 15, r: 8, p: 1 }

/** Derives a 32-byte key from a passphrase with scrypt (about 32 MiB and 0.1 s with the defaults). */
export function deriveKeyFromPassphrase (passphrase: string, params: PassphraseKdf): Uint8Array {
  if (params.kdf !== 'scrypt') throw new InvalidKeyError(`unknown kdf ${String(params.kdf)}`)
  const { minN, maxN, maxR, maxP } = PASSPHRASE_KDF_LIMITS
  if (!Number.isInteger(params.N) || params.N < minN || params.N > maxN || (params.N & (params.N - 1)) !== 0) {
    throw new InvalidKeyError(`scrypt N must be a power of two between ${minN} and ${maxN}`)
  }
  if (!Number.isInteger(params.r) || params.r < 1 || params.r > maxR) throw new InvalidKeyError(`scrypt r must be 1..${maxR}`)
  if (!Number.isInteger(params.p) || params.p < 1 || params.p > maxP) throw new InvalidKeyError(`scrypt p must be 1..${maxP}`)
  const salt = Buffer.from(params.salt, 'hex')
  if (salt.length < 16) throw new InvalidKeyError('scrypt salt must be at least 16 bytes of hex')
  return new Uint8Array(scryptSync(passphrase.normalize('NFKC'), salt, 32, {
    N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r * params.p + (1 << 20)
  }))
}

/** Throws DecryptionError unless `x` is non-null (helper for callers that want exceptions). */
export function mustOpen (x: Uint8Array | null, what: string): Uint8Array {
  if (x == null) throw new DecryptionError(`${what} could not be opened`)
  return x
}

/** A peer's PeerKey: lowercase hex of its ed25519 public key. */
export function peerKeyOf (identity: Pick<Identity, 'signPublicKey'>): string {
  return toHex(identity.signPublicKey)
}
