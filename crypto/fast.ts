/**
 * The fast provider: libsodium through `sodium-native` (prebuilt native addon, no install scripts) when it
 * loads, otherwise node:crypto ed25519 with tweetnacl for the Salsa/Curve primitives; BLAKE3 from
 * `@napi-rs/blake-hash` when it loads, otherwise @noble/hashes. Every function is byte-identical to
 * `reference` (reference.ts); test/crypto proves it.
 *
 * `MURMUR_CRYPTO_BACKEND=node` and `MURMUR_HASH_BACKEND=js` switch the native addons off for this process;
 * `createFastProvider` builds a provider over explicitly chosen backends.
 */
import { randomBytes as nodeRandomBytes, randomFillSync } from 'node:crypto'
import { loadNative, type Blake3Native, type Sodium } from './native.js'
import { sodiumPrimitives } from './sodium.js'
import { nodePrimitives } from './node-ed25519.js'
import { fastHashes, boxSecretKeyFromSeed } from './hashes.js'
import { createNoncePool } from './nonces.js'
import type { CryptoProvider } from './provider.js'

export { allocWritable } from './memory.js'

export interface FastBackends {
  /** sodium-native, or null for node:crypto ed25519 and tweetnacl. */
  sodium: Sodium | null
  /** @napi-rs/blake-hash, or null for @noble/hashes. */
  blake3: Blake3Native | null
}

/** A fast provider over the given backends (each with its own nonce pool and key caches). */
export function createFastProvider (backends: FastBackends): CryptoProvider {
  const { sodium } = backends
  const fill = (out: Uint8Array): void => { if (sodium != null) sodium.randombytes_buf(out); else randomFillSync(out) }
  return {
    name: sodium != null ? 'sodium-native' : 'node:crypto',
    ...(sodium != null ? sodiumPrimitives(sodium) : nodePrimitives()),
    ...fastHashes(backends.blake3),
    boxSecretKeyFromSeed,
    randomBytes: (n) => new Uint8Array(nodeRandomBytes(n)),
    randomPublicBytesInto: createNoncePool(fill)
  }
}

const sodium = loadNative<Sodium>('sodium-native', process.env.MURMUR_CRYPTO_BACKEND === 'node')
const blake3Native = loadNative<Blake3Native>('@napi-rs/blake-hash', process.env.MURMUR_HASH_BACKEND === 'js')

/** This process's fast provider. */
export const fast: CryptoProvider = createFastProvider({ sodium, blake3: blake3Native })

/** Which implementation the fast path uses in this process. */
export const backend: 'sodium-native' | 'node:crypto' = sodium != null ? 'sodium-native' : 'node:crypto'
/** Which BLAKE3 implementation this process uses: the Rust crate's SIMD code (prebuilt N-API) or pure JS. */
export const hashBackend: '@napi-rs/blake-hash' | '@noble/hashes' = blake3Native != null ? '@napi-rs/blake-hash' : '@noble/hashes'

// The fast provider's functions one by one, for callers that use the process's provider directly.
export const {
  signKeyPairFromSeed, sign, verify, secretbox, secretboxInto, secretboxPrefixedInto, secretboxOpen, secretboxOpenInto,
  boxPublicKey, boxPublicKeyFromSignPublicKey, box, boxOpen, blake3, sha256, sha256Into, sha256Hex, randomBytes,
  randomPublicBytesInto
} = fast
