/**
 * One interface for every implementation of the primitives Murmur puts on the wire: ed25519 signatures,
 * XSalsa20-Poly1305 secretbox, Curve25519 box, BLAKE3-256 and SHA-256, randomness. `reference` (reference.ts)
 * and `fast` (fast.ts) implement it byte-identically; test/crypto/conformance.test.ts runs both through one suite.
 *
 * Conventions every implementation keeps: opening and verifying never throw on bad input (null / false);
 * sealing throws RangeError on wrong sizes of our own buffers; `...Into` variants write exactly into `out`.
 */

/** The signing half of an identity, as the protocol's Signer interface expects it (structurally the same). */
export interface Signer {
  readonly publicKey: Uint8Array
  sign: (message: Uint8Array) => Uint8Array
}

export interface CryptoProvider {
  /** Which implementation this is, for logs and benchmarks ("reference", "sodium-native", "node:crypto"). */
  readonly name: string
  /** Ed25519 key pair from a 32-byte seed; secret key in NaCl layout (seed || public key). */
  signKeyPairFromSeed: (seed: Uint8Array) => { publicKey: Uint8Array, secretKey: Uint8Array }
  /** Ed25519 detached signature (64 bytes). */
  sign: (message: Uint8Array, secretKey: Uint8Array) => Uint8Array
  /** Ed25519 verification; false (never a throw) for any malformed key or signature. */
  verify: (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array) => boolean
  /** secretbox: mac (16) || ciphertext. */
  secretbox: (message: Uint8Array, nonce: Uint8Array, key: Uint8Array) => Uint8Array
  /**
   * secretbox written into `out` (length message.length + 16). In-place use is allowed when `message` starts
   * exactly 16 bytes into `out`.
   */
  secretboxInto: (out: Uint8Array, message: Uint8Array, nonce: Uint8Array, key: Uint8Array) => void
  /**
   * secretbox(prefix || message) (prefix: exactly 32 bytes) written into `out` (length 48 + message.length)
   * without the caller concatenating them; `prefix`, `message` and `nonce` must not overlap `out`.
   */
  secretboxPrefixedInto: (out: Uint8Array, prefix: Uint8Array, message: Uint8Array, nonce: Uint8Array, key: Uint8Array) => void
  /** Opens a secretbox; null when it does not authenticate or a size is wrong. */
  secretboxOpen: (box: Uint8Array, nonce: Uint8Array, key: Uint8Array) => Uint8Array | null
  /** Opens into `out` (exactly box.length - 16 bytes, not overlapping `box`); false when it does not authenticate. */
  secretboxOpenInto: (out: Uint8Array, box: Uint8Array, nonce: Uint8Array, key: Uint8Array) => boolean
  /** X25519 public key of a secret key. */
  boxPublicKey: (secretKey: Uint8Array) => Uint8Array
  /** X25519 secret key from an ed25519 seed (SHA-512 of the seed, first 32 bytes, clamped). */
  boxSecretKeyFromSeed: (seed: Uint8Array) => Uint8Array
  /** The birational map ed25519 public key -> X25519 public key; null for a key that does not decode. */
  boxPublicKeyFromSignPublicKey: (publicKey: Uint8Array) => Uint8Array | null
  /** Curve25519-XSalsa20-Poly1305 box: mac (16) || ciphertext. */
  box: (message: Uint8Array, nonce: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array) => Uint8Array
  /** Opens a box; null when it does not authenticate or a size is wrong. */
  boxOpen: (box: Uint8Array, nonce: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array) => Uint8Array | null
  /** BLAKE3-256 of the concatenation of `parts`. */
  blake3: (...parts: Uint8Array[]) => Uint8Array
  /** SHA-256 of the concatenation of `parts`. */
  sha256: (...parts: Uint8Array[]) => Uint8Array
  /** SHA-256 of `data` into `out` (32 bytes). */
  sha256Into: (out: Uint8Array, data: Uint8Array) => void
  /** Lowercase hex SHA-256 of `data`. */
  sha256Hex: (data: Uint8Array) => string
  /** `n` bytes from the OS CSPRNG (secrets: keys, seeds). */
  randomBytes: (n: number) => Uint8Array
  /** Fills `out` from the OS CSPRNG; for PUBLIC values only (nonces), which an implementation may draw in blocks. */
  randomPublicBytesInto: (out: Uint8Array) => void
}
