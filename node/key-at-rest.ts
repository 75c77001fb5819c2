/**
 * Optional passphrase encryption of the identity seed at rest: scrypt (memory-hard; N=2^15, r=8, p=1 by default,
 * about 32 MiB) derives a 32-byte key from the passphrase and a random salt, and NaCl secretbox
 * (XSalsa20-Poly1305) seals the seed under it. The passphrase comes from the caller, else the environment
 * variable MURMUR_KEY_PASSPHRASE (MURMUR_PASSPHRASE is an open network's passphrase, a different secret).
 */
import { deriveKeyFromPassphrase, DEFAULT_PASSPHRASE_KDF, fromHexOrNull, randomBytes, secretbox, secretboxOpen, toHex } from '../crypto/index.js'

export const KEY_PASSPHRASE_ENV = 'MURMUR_KEY_PASSPHRASE'
/** Shortest passphrase accepted when encrypting. */
export const MIN_KEY_PASSPHRASE_LENGTH = 8

/** What identity.json holds in place of `seed` when encrypted. */
export interface SealedSeed {
  kdf: 'scrypt'
  salt: string
  N: number
  r: number
  p: number
  nonce: string
  /** secretbox(seed): mac (16) || ciphertext (32), hex. */
  box: string
}

/** The identity is encrypted and no passphrase was given (option or MURMUR_KEY_PASSPHRASE). */
export class IdentityPassphraseRequiredError extends Error {
  static override name = 'IdentityPassphraseRequiredError'
  override name = 'IdentityPassphraseRequiredError'
}

/** The passphrase does not open the identity (wrong passphrase, or the file was altered). */
export class IdentityPassphraseError extends Error {
  static override name = 'IdentityPassphraseError'
  override name = 'IdentityPassphraseError'
}

export interface SealOptions {
  /** scrypt cost (power of two; default 2^15). Tests use a small one. */
  N?: number
  r?: number
  p?: number
}

/** Seals a 32-byte seed under `passphrase`. */
export function sealSeed (seed: Uint8Array, passphrase: string, options: SealOptions = {}): SealedSeed {
  if (passphrase.length < MIN_KEY_PASSPHRASE_LENGTH) throw new RangeError(`the identity passphrase must have at least ${MIN_KEY_PASSPHRASE_LENGTH} characters`)
  const params = { kdf: 'scrypt' as const, salt: toHex(randomBytes(16)), N: options.N ?? DEFAULT_PASSPHRASE_KDF.N, r: options.r ?? DEFAULT_PASSPHRASE_KDF.r, p: options.p ?? DEFAULT_PASSPHRASE_KDF.p }
  const key = deriveKeyFromPassphrase(passphrase, params)
  const nonce = randomBytes(24)
  const box = secretbox(seed, nonce, key)
  key.fill(0)
  return { ...params, nonce: toHex(nonce), box: toHex(box) }
}

/** Opens a sealed seed; `path` names the file in errors. Throws the named errors above, or TypeError on a bad record. */
export function openSeed (sealed: Partial<SealedSeed>, path: string, passphrase: string | undefined = process.env[KEY_PASSPHRASE_ENV]): Uint8Array {
  if (passphrase == null || passphrase === '') {
    throw new IdentityPassphraseRequiredError(`${path} is encrypted: set ${KEY_PASSPHRASE_ENV} to its passphrase`)
  }
  const nonce = fromHexOrNull(String(sealed.nonce), 24)
  const box = fromHexOrNull(String(sealed.box), 48)
  if (sealed.kdf !== 'scrypt' || nonce == null || box == null || typeof sealed.salt !== 'string') {
    throw new TypeError(`${path}: field encrypted must hold kdf "scrypt", salt, N, r, p, a 24-byte nonce and a 48-byte box (hex)`)
  }
  let key: Uint8Array
  try {
    key = deriveKeyFromPassphrase(passphrase, { kdf: 'scrypt', salt: sealed.salt, N: Number(sealed.N), r: Number(sealed.r), p: Number(sealed.p) })
  } catch (err) {
    throw new TypeError(`${path}: field encrypted: ${(err as Error).message}`)
  }
  const seed = secretboxOpen(box, nonce, key)
  key.fill(0)
  if (seed == null || seed.length !== 32) throw new IdentityPassphraseError(`${path}: the passphrase does not open this identity (wrong passphrase, or the file was altered)`)
  return seed
}
