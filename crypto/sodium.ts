/** The NaCl primitives through libsodium (`sodium-native`): the fast provider's first choice. */
import nacl from 'tweetnacl'
import { allocWritable, assertOwnMemory, unshared } from './memory.js'
import type { Sodium } from './native.js'
import type { CryptoProvider } from './provider.js'

export type NaclPrimitives = Pick<CryptoProvider, 'signKeyPairFromSeed' | 'sign' | 'verify' | 'secretbox' | 'secretboxInto' |
'secretboxPrefixedInto' | 'secretboxOpen' | 'secretboxOpenInto' | 'boxPublicKey' | 'boxPublicKeyFromSignPublicKey' | 'box' | 'boxOpen'>

/** Below this message size secretboxPrefixedInto copies and seals in place instead of splitting XSalsa20. */
const SPLIT_SECRETBOX_MIN_BYTES = 65536
const SIGMA = new Uint8Array([101, 120, 112, 97, 110, 100, 32, 51, 50, 45, 98, 121, 116, 101, 32, 107]) // "expand 32-byte k"
const ZERO_BLOCK = new Uint8Array(64)
const hsalsa20 = (nacl as unknown as { lowlevel: { crypto_core_hsalsa20: (out: Uint8Array, inp: Uint8Array, k: Uint8Array, c: Uint8Array) => void } }).lowlevel.crypto_core_hsalsa20

function checkPrefixed (out: Uint8Array, prefix: Uint8Array, message: Uint8Array, nonce: Uint8Array, key: Uint8Array): void {
  if (prefix.length !== 32) throw new RangeError('secretbox prefix must be 32 bytes')
  if (out.length !== message.length + 48) throw new RangeError('secretbox output must be 48 bytes longer than the message')
  if (nonce.length !== 24 || key.length !== 32) throw new RangeError('secretbox nonce must be 24 bytes and key 32 bytes')
}

export function sodiumPrimitives (s: Sodium): NaclPrimitives {
  const secretboxInto = (out: Uint8Array, message: Uint8Array, nonce: Uint8Array, key: Uint8Array): void => {
    if (out.length !== message.length + 16) throw new RangeError('secretbox output must be 16 bytes longer than the message')
    assertOwnMemory(out)
    s.crypto_secretbox_easy(out, unshared(message), unshared(nonce), unshared(key))
  }
  const secretboxOpenInto = (out: Uint8Array, box: Uint8Array, nonce: Uint8Array, key: Uint8Array): boolean => {
    if (box.length < 16 || out.length !== box.length - 16 || nonce.length !== 24 || key.length !== 32) return false
    try {
      assertOwnMemory(out)
      return s.crypto_secretbox_open_easy(out, unshared(box), unshared(nonce), unshared(key))
    } catch {
      return false
    }
  }
  return {
    signKeyPairFromSeed (seed) {
      const publicKey = new Uint8Array(32)
      const secretKey = new Uint8Array(64)
      s.crypto_sign_seed_keypair(publicKey, secretKey, seed)
      return { publicKey, secretKey }
    },
    sign (message, secretKey) {
      const sig = new Uint8Array(64)
      s.crypto_sign_detached(sig, unshared(message), unshared(secretKey))
      return sig
    },
    verify (message, signature, publicKey) {
      if (signature.length !== 64 || publicKey.length !== 32) return false
      try {
        return s.crypto_sign_verify_detached(unshared(signature), unshared(message), unshared(publicKey))
      } catch {
        return false
      }
    },
    secretbox (message, nonce, key) {
      const out = new Uint8Array(message.length + 16)
      secretboxInto(out, message, nonce, key)
      return out
    },
    secretboxInto,
    /**
     * Small messages are copied next to the prefix and sealed in place in one call. From 64 KiB on, XSalsa20 is
     * split as libsodium does it (subkey = HSalsa20(key, nonce[0..16)), then Salsa20(subkey, nonce[16..24))): the
     * 32-byte prefix is keystream block 0's second half, so `message` starts exactly at Salsa20 block 1 and is
     * encrypted straight from where it lies.
     */
    secretboxPrefixedInto (out, prefix, message, nonce, key) {
      checkPrefixed(out, prefix, message, nonce, key)
      assertOwnMemory(out)
      message = unshared(message); nonce = unshared(nonce); key = unshared(key)
      if (message.length < SPLIT_SECRETBOX_MIN_BYTES) {
        out.set(prefix, 16)
        out.set(message, 48)
        s.crypto_secretbox_easy(out, out.subarray(16), nonce, key)
        return
      }
      const subkey = new Uint8Array(32)
      const block0 = new Uint8Array(64) // Poly1305 key || 32 bytes of keystream
      try {
        hsalsa20(subkey, nonce.subarray(0, 16), key, SIGMA)
        const n8 = nonce.subarray(16, 24)
        s.crypto_stream_salsa20_xor_ic(block0, ZERO_BLOCK, n8, 0, subkey)
        for (let i = 0; i < 32; i++) out[16 + i] = prefix[i] ^ block0[32 + i]
        if (message.length > 0) s.crypto_stream_salsa20_xor_ic(out.subarray(48), message, n8, 1, subkey)
        s.crypto_onetimeauth(out.subarray(0, 16), out.subarray(16), block0.subarray(0, 32))
      } finally {
        subkey.fill(0)
        block0.fill(0)
      }
    },
    secretboxOpen (box, nonce, key) {
      if (box.length < 16 || nonce.length !== 24 || key.length !== 32) return null
      const out = allocWritable(box.length - 16)
      return secretboxOpenInto(out, box, nonce, key) ? out : null
    },
    secretboxOpenInto,
    boxPublicKey (secretKey) {
      const q = new Uint8Array(32)
      s.crypto_scalarmult_base(q, unshared(secretKey))
      return q
    },
    boxPublicKeyFromSignPublicKey (publicKey) {
      if (publicKey.length !== 32) return null
      const out = new Uint8Array(32)
      try {
        s.crypto_sign_ed25519_pk_to_curve25519(out, unshared(publicKey))
        return out
      } catch {
        return null
      }
    },
    box (message, nonce, publicKey, secretKey) {
      const out = new Uint8Array(message.length + 16)
      s.crypto_box_easy(out, unshared(message), unshared(nonce), unshared(publicKey), unshared(secretKey))
      return out
    },
    boxOpen (sealed, nonce, publicKey, secretKey) {
      if (sealed.length < 16 || nonce.length !== 24 || publicKey.length !== 32 || secretKey.length !== 32) return null
      const out = new Uint8Array(sealed.length - 16)
      try {
        return s.crypto_box_open_easy(out, unshared(sealed), unshared(nonce), unshared(publicKey), unshared(secretKey)) ? out : null
      } catch {
        return null
      }
    }
  }
}
