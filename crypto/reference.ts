/**
 * The portable reference implementation: tweetnacl (pure JS, audited, slow) for the NaCl primitives and
 * @noble/hashes (pure JS, audited) for BLAKE3, SHA-256 and SHA-512. The fast provider (fast.ts) must produce
 * byte-identical output; test/crypto/conformance.test.ts proves it.
 */
import nacl from 'tweetnacl'
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js'
import { sha256 as nobleSha256, sha512 as nobleSha512 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { edwardsToMontgomery } from './curve.js'
import type { CryptoProvider } from './provider.js'

function secretboxOpen (box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null {
  if (box.length < 16 || nonce.length !== 24 || key.length !== 32) return null
  return nacl.secretbox.open(box, nonce, key)
}

function secretboxInto (out: Uint8Array, message: Uint8Array, nonce: Uint8Array, key: Uint8Array): void {
  if (out.length !== message.length + 16) throw new RangeError('secretbox output must be 16 bytes longer than the message')
  out.set(nacl.secretbox(message, nonce, key))
}

function sha256 (...parts: Uint8Array[]): Uint8Array {
  const h = nobleSha256.create()
  for (const p of parts) h.update(p)
  return h.digest()
}

export const reference: CryptoProvider = {
  name: 'reference',
  signKeyPairFromSeed: (seed) => nacl.sign.keyPair.fromSeed(seed),
  sign: (message, secretKey) => nacl.sign.detached(message, secretKey),
  verify (message, signature, publicKey) {
    if (signature.length !== 64 || publicKey.length !== 32) return false
    return nacl.sign.detached.verify(message, signature, publicKey)
  },
  secretbox: (message, nonce, key) => nacl.secretbox(message, nonce, key),
  secretboxInto,
  secretboxPrefixedInto (out, prefix, message, nonce, key) {
    if (prefix.length !== 32) throw new RangeError('secretbox prefix must be 32 bytes')
    if (out.length !== message.length + 48) throw new RangeError('secretbox output must be 48 bytes longer than the message')
    if (nonce.length !== 24 || key.length !== 32) throw new RangeError('secretbox nonce must be 24 bytes and key 32 bytes')
    const plain = new Uint8Array(32 + message.length)
    plain.set(prefix, 0)
    plain.set(message, 32)
    out.set(nacl.secretbox(plain, nonce, key))
  },
  secretboxOpen,
  secretboxOpenInto (out, box, nonce, key) {
    if (out.length !== box.length - 16) return false
    const opened = secretboxOpen(box, nonce, key)
    if (opened == null) return false
    out.set(opened)
    return true
  },
  boxPublicKey: (secretKey) => nacl.scalarMult.base(secretKey),
  boxSecretKeyFromSeed (seed) {
    const sk = nobleSha512(seed).slice(0, 32)
    sk[0] &= 248
    sk[31] &= 127
    sk[31] |= 64
    return sk
  },
  boxPublicKeyFromSignPublicKey: edwardsToMontgomery,
  box: (message, nonce, publicKey, secretKey) => nacl.box(message, nonce, publicKey, secretKey),
  boxOpen (box, nonce, publicKey, secretKey) {
    if (box.length < 16 || nonce.length !== 24 || publicKey.length !== 32 || secretKey.length !== 32) return null
    return nacl.box.open(box, nonce, publicKey, secretKey)
  },
  blake3 (...parts) {
    const h = nobleBlake3.create()
    for (const p of parts) h.update(p)
    return h.digest()
  },
  sha256,
  sha256Into: (out, data) => { out.set(sha256(data)) },
  sha256Hex: (data) => bytesToHex(sha256(data)),
  randomBytes: (n) => nacl.randomBytes(n),
  randomPublicBytesInto: (out) => { out.set(nacl.randomBytes(out.length)) }
}
