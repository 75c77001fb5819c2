/** BLAKE3-256 (native Rust SIMD code where it loads, else @noble/hashes) and SHA-256 (node:crypto) for the fast provider. */
import * as nodeCrypto from 'node:crypto'
import { createHash } from 'node:crypto'
import type { Blake3Native } from './native.js'
import { reference } from './reference.js'
import type { CryptoProvider } from './provider.js'

/** node 20.12+'s one-shot `crypto.hash` (no Hash object), where it exists. */
const oneShotHash = (nodeCrypto as { hash?: (algorithm: string, data: Uint8Array, outputEncoding: string) => Buffer | string }).hash

type Hashes = Pick<CryptoProvider, 'blake3' | 'sha256' | 'sha256Into' | 'sha256Hex'>

/** The hash functions, BLAKE3 from `native` when given (byte-identical to @noble/hashes either way). */
export function fastHashes (native: Blake3Native | null): Hashes {
  return {
    blake3 (...parts) {
      if (native != null) {
        if (parts.length === 1) return new Uint8Array(native.blake3(parts[0]))
        const h = new native.Blake3Hasher()
        for (const p of parts) h.update(p)
        return new Uint8Array(h.digestBuffer())
      }
      return reference.blake3(...parts)
    },
    sha256 (...parts) {
      if (parts.length === 1 && oneShotHash != null) {
        return new Uint8Array(oneShotHash('sha256', parts[0], 'buffer') as Buffer)
      }
      const h = createHash('sha256')
      for (const p of parts) h.update(p)
      return new Uint8Array(h.digest())
    },
    // the one-shot hash as a latin1 string (one char per byte) is the cheapest way out of node without a Buffer
    sha256Into (out, data) {
      if (oneShotHash != null) {
        const d = oneShotHash('sha256', data, 'latin1') as string
        for (let i = 0; i < 32; i++) out[i] = d.charCodeAt(i)
        return
      }
      out.set(createHash('sha256').update(data).digest())
    },
    sha256Hex (data) {
      if (oneShotHash != null) return oneShotHash('sha256', data, 'hex') as string
      return createHash('sha256').update(data).digest('hex')
    }
  }
}

/** X25519 secret key from an ed25519 seed: SHA-512 of the seed, first 32 bytes, clamped. */
export function boxSecretKeyFromSeed (seed: Uint8Array): Uint8Array {
  const h = createHash('sha512').update(seed).digest()
  const sk = new Uint8Array(h.subarray(0, 32))
  sk[0] &= 248
  sk[31] &= 127
  sk[31] |= 64
  return sk
}
