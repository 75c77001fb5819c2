/**
 * The portable reference implementation: tweetnacl (pure JS, audited, slow). The fast path in `fast.ts`
 * must produce byte-identical output; tests prove it against this module.
 */
import nacl from 'tweetnacl'
import { createHash } from 'node:crypto'
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js'

export const reference = {
  /** Ed25519 key pair from a 32-byte seed; secret key in NaCl layout (seed || public key). */
  signKeyPairFromSeed (seed: Uint8Array): { publicKey: Uint8Array, secretKey: Uint8Array } {
    return nacl.sign.keyPair.fromSeed(seed)
  },
  sign (message: Uint8Array, secretKey: Uint8Array): Uint8Array {
    return nacl.sign.detached(message, secretKey)
  },
  verify (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
    if (signature.length !== 64 || publicKey.length !== 32) return false
    return nacl.sign.detached.verify(message, signature, publicKey)
  },
  /** XSalsa20-Poly1305; output is mac(16) || ciphertext. */
  secretbox (message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
    return nacl.secretbox(message, nonce, key)
  },
  secretboxOpen (box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null {
    return nacl.secretbox.open(box, nonce, key)
  },
  /** X25519 secret key from an ed25519 seed: the standard conversion (SHA-512 of the seed, first 32 bytes, clamped). */
  boxSecretKeyFromSeed (seed: Uint8Array): Uint8Array {
    const h = createHash('sha512').update(seed).digest()
    const sk = new Uint8Array(h.subarray(0, 32))
    sk[0] &= 248
    sk[31] &= 127
    sk[31] |= 64
    return sk
  },
  boxPublicKey (secretKey: Uint8Array): Uint8Array {
    return nacl.scalarMult.base(secretKey)
  },
  box (message: Uint8Array, nonce: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array {
    return nacl.box(message, nonce, publicKey, secretKey)
  },
  boxOpen (box: Uint8Array, nonce: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array | null {
    return nacl.box.open(box, nonce, publicKey, secretKey)
  },
  /** BLAKE3-256 of the concatenation of `parts` (@noble/hashes, pure JS, audited). */
  blake3 (...parts: Uint8Array[]): Uint8Array {
    const h = nobleBlake3.create()
    for (const p of parts) h.update(p)
    return h.digest()
  }
}
