/**
 * The fast path: libsodium through `sodium-native` (prebuilt native addon, no install scripts) when it loads,
 * otherwise node:crypto ed25519 (KeyObjects cached per key) with tweetnacl for the Salsa/Curve primitives.
 * Every function is byte-identical to `reference.ts` (tweetnacl); test/crypto proves it.
 */
import { createRequire } from 'node:module'
import nacl from 'tweetnacl'
import * as nodeCrypto from 'node:crypto'
import { createHash, createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, randomBytes as nodeRandomBytes, randomFillSync, type KeyObject } from 'node:crypto'
import { reference } from './reference.js'
import { toHex } from './hex.js'

interface Sodium {
  crypto_sign_seed_keypair: (pk: Uint8Array, sk: Uint8Array, seed: Uint8Array) => void
  crypto_sign_detached: (sig: Uint8Array, m: Uint8Array, sk: Uint8Array) => void
  crypto_sign_verify_detached: (sig: Uint8Array, m: Uint8Array, pk: Uint8Array) => boolean
  crypto_sign_ed25519_pk_to_curve25519: (x: Uint8Array, pk: Uint8Array) => void
  crypto_sign_ed25519_sk_to_curve25519: (x: Uint8Array, sk: Uint8Array) => void
  crypto_secretbox_easy: (c: Uint8Array, m: Uint8Array, n: Uint8Array, k: Uint8Array) => void
  crypto_secretbox_open_easy: (m: Uint8Array, c: Uint8Array, n: Uint8Array, k: Uint8Array) => boolean
  crypto_box_easy: (c: Uint8Array, m: Uint8Array, n: Uint8Array, pk: Uint8Array, sk: Uint8Array) => void
  crypto_box_open_easy: (m: Uint8Array, c: Uint8Array, n: Uint8Array, pk: Uint8Array, sk: Uint8Array) => boolean
  crypto_scalarmult_base: (q: Uint8Array, n: Uint8Array) => void
  crypto_stream_salsa20_xor_ic: (c: Uint8Array, m: Uint8Array, n: Uint8Array, ic: number, k: Uint8Array) => void
  crypto_onetimeauth: (h: Uint8Array, m: Uint8Array, k: Uint8Array) => void
  randombytes_buf: (buf: Uint8Array) => void
}

/** A native addon, or null where it does not load here or the environment switched it off. */
function loadNative<T> (id: string, off: boolean): T | null {
  if (off) return null
  try {
    return createRequire(import.meta.url)(id) as T
  } catch {
    return null
  }
}

const sodium = loadNative<Sodium>('sodium-native', process.env.MURMUR_CRYPTO_BACKEND === 'node')

/**
 * sodium-native cannot read or write shared memory: handed a view of a SharedArrayBuffer it returns undefined and
 * writes nothing (a seal would leave its output unwritten). Inputs there are copied first; outputs there are refused.
 */
function unshared<T extends Uint8Array> (a: T): T {
  return a.buffer instanceof SharedArrayBuffer ? a.slice() as T : a
}

function assertOwnMemory (out: Uint8Array): void {
  if (out.buffer instanceof SharedArrayBuffer) throw new RangeError('crypto output must not be in shared memory')
}

/** Which implementation the fast path uses in this process. */
export const backend: 'sodium-native' | 'node:crypto' = sodium != null ? 'sodium-native' : 'node:crypto'

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex')
const MAX_CACHED_KEYS = 4096
const publicKeyCache = new Map<string, KeyObject | null>()
const privateKeyCache = new WeakMap<Uint8Array, KeyObject>()

function nodePublicKey (publicKey: Uint8Array): KeyObject | null {
  const id = toHex(publicKey)
  let key = publicKeyCache.get(id)
  if (key === undefined) {
    try {
      key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, publicKey]), format: 'der', type: 'spki' })
    } catch {
      key = null
    }
    if (publicKeyCache.size >= MAX_CACHED_KEYS) publicKeyCache.clear()
    publicKeyCache.set(id, key)
  }
  return key
}

function nodePrivateKey (secretKey: Uint8Array): KeyObject {
  let key = privateKeyCache.get(secretKey)
  if (key == null) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, secretKey.subarray(0, 32)]), format: 'der', type: 'pkcs8' })
    privateKeyCache.set(secretKey, key)
  }
  return key
}

/**
 * A Uint8Array of `n` bytes the caller will overwrite completely: uninitialised, unpooled memory (skips
 * zero-filling: half the cost of `new Uint8Array(n)` at 31 KB, and a megabyte of writes at 1 MiB), a plain
 * zeroed array below 256 bytes. Its contents must never leave the caller before it has written every byte.
 */
export function allocWritable (n: number): Uint8Array {
  if (n < 256) return new Uint8Array(n)
  const b = Buffer.allocUnsafeSlow(n)
  return new Uint8Array(b.buffer, b.byteOffset, n)
}

export function randomBytes (n: number): Uint8Array {
  return new Uint8Array(nodeRandomBytes(n))
}

const NONCE_POOL_BYTES = 4096
const noncePool = new Uint8Array(NONCE_POOL_BYTES)
let noncePoolUsed = NONCE_POOL_BYTES

/**
 * Fills `out` with bytes from the OS CSPRNG (libsodium's randombytes_buf, else node's randomFillSync), taken
 * from a 4 KiB block drawn at once when `out` is small (one system call per 170 envelope nonces instead of
 * one each). For PUBLIC values only (nonces): each byte is handed out once and wiped from the block.
 */
export function randomPublicBytesInto (out: Uint8Array): void {
  const n = out.length
  if (n > 256) { fillRandom(out); return }
  if (noncePoolUsed + n > NONCE_POOL_BYTES) { fillRandom(noncePool); noncePoolUsed = 0 }
  const part = noncePool.subarray(noncePoolUsed, noncePoolUsed + n)
  out.set(part)
  part.fill(0)
  noncePoolUsed += n
}

function fillRandom (out: Uint8Array): void {
  if (sodium != null) sodium.randombytes_buf(out)
  else randomFillSync(out)
}

export function signKeyPairFromSeed (seed: Uint8Array): { publicKey: Uint8Array, secretKey: Uint8Array } {
  if (sodium != null) {
    const publicKey = new Uint8Array(32)
    const secretKey = new Uint8Array(64)
    sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed)
    return { publicKey, secretKey }
  }
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' })
  const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' })
  const publicKey = new Uint8Array(spki.subarray(spki.length - 32))
  const secretKey = new Uint8Array(64)
  secretKey.set(seed, 0)
  secretKey.set(publicKey, 32)
  return { publicKey, secretKey }
}

/** Ed25519 detached signature (64 bytes); `secretKey` in NaCl layout (seed || public key). */
function signPrimitive (message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (sodium != null) {
    const sig = new Uint8Array(64)
    sodium.crypto_sign_detached(sig, unshared(message), unshared(secretKey))
    return sig
  }
  return new Uint8Array(nodeSign(null, message, nodePrivateKey(secretKey)))
}

/** Ed25519 verification; false (never a throw) for any malformed key or signature. */
function verifyPrimitive (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false
  if (sodium != null) {
    try {
      return sodium.crypto_sign_verify_detached(unshared(signature), unshared(message), unshared(publicKey))
    } catch {
      return false
    }
  }
  const key = nodePublicKey(publicKey)
  if (key == null) return false
  try {
    return nodeVerify(null, message, key, signature)
  } catch {
    return false
  }
}

/**
 * XSalsa20-Poly1305 secretbox written into `out` (length message.length + 16): mac || ciphertext.
 * In-place use is allowed when `message` starts exactly 16 bytes into `out` (libsodium encrypts in place;
 * the reference path copies first).
 */
function secretboxIntoPrimitive (out: Uint8Array, message: Uint8Array, nonce: Uint8Array, key: Uint8Array): void {
  if (out.length !== message.length + 16) throw new RangeError('secretbox output must be 16 bytes longer than the message')
  if (sodium != null) {
    assertOwnMemory(out)
    sodium.crypto_secretbox_easy(out, unshared(message), unshared(nonce), unshared(key))
    return
  }
  out.set(reference.secretbox(message, nonce, key))
}

export function secretbox (message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(message.length + 16)
  secretboxInto(out, message, nonce, key)
  return out
}

/** Opens a secretbox; null when it does not authenticate (never throws on bad input). */
export function secretboxOpen (box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null {
  if (box.length < 16 || nonce.length !== 24 || key.length !== 32) return null
  if (sodium != null) {
    const out = allocWritable(box.length - 16)
    return secretboxOpenInto(out, box, nonce, key) ? out : null
  }
  return reference.secretboxOpen(box, nonce, key)
}

/**
 * Opens a secretbox into `out` (exactly box.length - 16 bytes, not overlapping `box`); false when it does not
 * authenticate or the sizes are wrong (never throws on bad input; `out` is then unspecified).
 */
function secretboxOpenIntoPrimitive (out: Uint8Array, box: Uint8Array, nonce: Uint8Array, key: Uint8Array): boolean {
  if (box.length < 16 || out.length !== box.length - 16 || nonce.length !== 24 || key.length !== 32) return false
  if (sodium != null) {
    try {
      assertOwnMemory(out)
      return sodium.crypto_secretbox_open_easy(out, unshared(box), unshared(nonce), unshared(key))
    } catch {
      return false
    }
  }
  const opened = reference.secretboxOpen(box, nonce, key)
  if (opened == null) return false
  out.set(opened)
  return true
}

/** Below this message size secretboxPrefixedInto copies and seals in place instead of splitting XSalsa20. */
const SPLIT_SECRETBOX_MIN_BYTES = 65536
const SIGMA = new Uint8Array([101, 120, 112, 97, 110, 100, 32, 51, 50, 45, 98, 121, 116, 101, 32, 107]) // "expand 32-byte k"
const ZERO_BLOCK = new Uint8Array(64)
/** Scratch for the XSalsa20 split (subkey, keystream block 0): wiped after every use, never handed out. */
const SUBKEY = new Uint8Array(32)
const BLOCK0 = new Uint8Array(64)
const hsalsa20 = (nacl as unknown as { lowlevel: { crypto_core_hsalsa20: (out: Uint8Array, inp: Uint8Array, k: Uint8Array, c: Uint8Array) => void } }).lowlevel.crypto_core_hsalsa20

/**
 * XSalsa20 split as libsodium does it: subkey = HSalsa20(key, nonce[0..16)), then Salsa20(subkey, nonce[16..24)).
 * Returns the subkey, the 8-byte Salsa20 nonce and keystream block 0 (Poly1305 key || 32 bytes of keystream).
 * (Only sealing uses the split: opening with crypto_secretbox_open_easy into a fresh buffer and viewing the
 * payload at offset 32 is already copy-free and measured as fast as the split.)
 */
function xsalsaBlock0 (s: Sodium, nonce: Uint8Array, key: Uint8Array): { subkey: Uint8Array, n8: Uint8Array, block0: Uint8Array } {
  hsalsa20(SUBKEY, nonce.subarray(0, 16), key, SIGMA)
  const n8 = nonce.subarray(16, 24)
  s.crypto_stream_salsa20_xor_ic(BLOCK0, ZERO_BLOCK, n8, 0, SUBKEY)
  return { subkey: SUBKEY, n8, block0: BLOCK0 }
}

/**
 * secretbox(prefix || message) (prefix: exactly 32 bytes) written into `out` (length 16 + 32 + message.length:
 * mac || ciphertext) without concatenating prefix and message in a buffer of their own: byte-identical to
 * `secretboxInto(out, prefix || message, nonce, key)`. From 64 KiB on, the 32-byte prefix is keystream block
 * 0's second half, so `message` starts exactly at Salsa20 block 1 and is encrypted straight from where it lies;
 * smaller messages are copied into `out` and sealed there in one call. `prefix`, `message` and `nonce` must
 * not overlap `out`.
 */
function secretboxPrefixedIntoPrimitive (out: Uint8Array, prefix: Uint8Array, message: Uint8Array, nonce: Uint8Array, key: Uint8Array): void {
  if (prefix.length !== 32) throw new RangeError('secretbox prefix must be 32 bytes')
  if (out.length !== message.length + 48) throw new RangeError('secretbox output must be 48 bytes longer than the message')
  if (nonce.length !== 24 || key.length !== 32) throw new RangeError('secretbox nonce must be 24 bytes and key 32 bytes')
  if (sodium != null) {
    assertOwnMemory(out)
    message = unshared(message); nonce = unshared(nonce); key = unshared(key)
  }
  if (sodium != null && message.length < SPLIT_SECRETBOX_MIN_BYTES) {
    // small messages: copying them next to the prefix and sealing in place in one libsodium call is cheaper
    // than the split's three calls and JS HSalsa20 (31 KB: 44 against 46.5 us; the split wins above ~100 KB)
    out.set(prefix, 16)
    out.set(message, 48)
    sodium.crypto_secretbox_easy(out, out.subarray(16), nonce, key)
    return
  }
  if (sodium != null) {
    const { subkey, n8, block0 } = xsalsaBlock0(sodium, nonce, key)
    try {
      for (let i = 0; i < 32; i++) out[16 + i] = prefix[i] ^ block0[32 + i]
      if (message.length > 0) sodium.crypto_stream_salsa20_xor_ic(out.subarray(48), message, n8, 1, subkey)
      sodium.crypto_onetimeauth(out.subarray(0, 16), out.subarray(16), block0.subarray(0, 32))
    } finally {
      subkey.fill(0)
      block0.fill(0)
    }
    return
  }
  const plain = new Uint8Array(32 + message.length)
  plain.set(prefix, 0)
  plain.set(message, 32)
  out.set(reference.secretbox(plain, nonce, key))
}

export function boxPublicKey (secretKey: Uint8Array): Uint8Array {
  if (sodium != null) {
    const q = new Uint8Array(32)
    sodium.crypto_scalarmult_base(q, unshared(secretKey))
    return q
  }
  return reference.boxPublicKey(secretKey)
}

export function box (message: Uint8Array, nonce: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (sodium != null) {
    const out = new Uint8Array(message.length + 16)
    sodium.crypto_box_easy(out, unshared(message), unshared(nonce), unshared(publicKey), unshared(secretKey))
    return out
  }
  return reference.box(message, nonce, publicKey, secretKey)
}

export function boxOpen (sealed: Uint8Array, nonce: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array | null {
  if (sealed.length < 16 || nonce.length !== 24 || publicKey.length !== 32 || secretKey.length !== 32) return null
  if (sodium != null) {
    const out = new Uint8Array(sealed.length - 16)
    try {
      return sodium.crypto_box_open_easy(out, unshared(sealed), unshared(nonce), unshared(publicKey), unshared(secretKey)) ? out : null
    } catch {
      return null
    }
  }
  return reference.boxOpen(sealed, nonce, publicKey, secretKey)
}

const P = (1n << 255n) - 19n

function modPow (b: bigint, e: bigint): bigint {
  let r = 1n
  b %= P
  while (e > 0n) {
    if ((e & 1n) === 1n) r = r * b % P
    b = b * b % P
    e >>= 1n
  }
  return r
}

/**
 * The standard birational map from an ed25519 public key to its X25519 public key
 * (libsodium's crypto_sign_ed25519_pk_to_curve25519: u = (1 + y) / (1 - y)). Null for an invalid key.
 */
export function boxPublicKeyFromSignPublicKey (publicKey: Uint8Array): Uint8Array | null {
  if (publicKey.length !== 32) return null
  if (sodium != null) {
    const out = new Uint8Array(32)
    try {
      sodium.crypto_sign_ed25519_pk_to_curve25519(out, unshared(publicKey))
      return out
    } catch {
      return null
    }
  }
  if (nodePublicKey(publicKey) == null) return null
  let y = 0n
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? publicKey[i] & 0x7f : publicKey[i])
  if (y >= P || y === 1n) return null
  const u = (1n + y) * modPow((1n - y + P) % P, P - 2n) % P
  const out = new Uint8Array(32)
  let v = u
  for (let i = 0; i < 32; i++) { out[i] = Number(v & 0xffn); v >>= 8n }
  return out
}

interface Blake3Native {
  blake3: (input: Uint8Array) => Uint8Array
  Blake3Hasher: new () => { update: (input: Uint8Array) => unknown, digestBuffer: () => Uint8Array }
}

const blake3Native = loadNative<Blake3Native>('@napi-rs/blake-hash', process.env.MURMUR_HASH_BACKEND === 'js')

/** Which BLAKE3 implementation this process uses: the Rust crate's SIMD code (prebuilt N-API) or pure JS. */
export const hashBackend: '@napi-rs/blake-hash' | '@noble/hashes' = blake3Native != null ? '@napi-rs/blake-hash' : '@noble/hashes'

/**
 * BLAKE3-256 of the concatenation of `parts`: the content hash of envelope ciphertexts (the signed
 * `payloadHash`). About 3.5x faster than SHA-256 on a megabyte here (AVX-512/AVX2 through the Rust crate);
 * byte-identical to `reference.blake3` (@noble/hashes), which test/crypto proves.
 */
function blake3Primitive (...parts: Uint8Array[]): Uint8Array {
  if (blake3Native != null) {
    if (parts.length === 1) return new Uint8Array(blake3Native.blake3(parts[0]))
    const h = new blake3Native.Blake3Hasher()
    for (const p of parts) h.update(p)
    return new Uint8Array(h.digestBuffer())
  }
  return reference.blake3(...parts)
}

/** node 20.12+'s one-shot `crypto.hash` (no Hash object; about 1.5x faster on a header), where it exists. */
const oneShotHash = (nodeCrypto as { hash?: (algorithm: string, data: Uint8Array, outputEncoding: string) => Buffer | string }).hash

/** SHA-256 of the concatenation of `parts` (node:crypto; SHA-NI where the CPU has it). */
export function sha256 (...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1 && oneShotHash != null) {
    return new Uint8Array(oneShotHash('sha256', parts[0], 'buffer') as Buffer)
  }
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

/**
 * SHA-256 of `data` written into `out` (32 bytes) without allocating a Buffer: the one-shot hash as a latin1
 * string (one char per byte) is the cheapest way out of node here (1.3 us against 2.2 us for a Buffer digest
 * on a 260-byte header).
 */
export function sha256Into (out: Uint8Array, data: Uint8Array): void {
  if (oneShotHash != null) {
    const d = oneShotHash('sha256', data, 'latin1') as string
    for (let i = 0; i < 32; i++) out[i] = d.charCodeAt(i)
    return
  }
  out.set(createHash('sha256').update(data).digest())
}

/** Lowercase hex SHA-256 of `data` (one-shot where node has it): update ids. */
export function sha256Hex (data: Uint8Array): string {
  if (oneShotHash != null) return oneShotHash('sha256', data, 'hex') as string
  return createHash('sha256').update(data).digest('hex')
}

const TIMING = process.env.MURMUR_CRYPTO_TIMING === '1'
const timing = { ms: 0, calls: 0 }

/** `f` itself, or (MURMUR_CRYPTO_TIMING=1) `f` adding its wall time to this thread's primitive timing. */
function timed<A extends unknown[], R> (f: (...args: A) => R): (...args: A) => R {
  if (!TIMING) return f
  return (...args: A): R => {
    const started = performance.now()
    try { return f(...args) } finally { timing.ms += performance.now() - started; timing.calls++ }
  }
}

/**
 * Wall time this thread spent in the primitives (ed25519 sign and verify, secretbox seal and open, BLAKE3) and
 * how many calls, when the process started with MURMUR_CRYPTO_TIMING=1 (null otherwise: no timing, no cost).
 * The simulator benchmark reads it to show the floor that real crypto puts under a round.
 */
export function primitiveTime (): { ms: number, calls: number } | null {
  return TIMING ? { ...timing } : null
}

/** Ed25519 detached signature (64 bytes); `secretKey` in NaCl layout (seed || public key). */
export const sign = timed(signPrimitive)
/** Ed25519 verification; false (never a throw) for any malformed key or signature. */
export const verify = timed(verifyPrimitive)
/** XSalsa20-Poly1305 secretbox into `out`: see secretboxIntoPrimitive. */
export const secretboxInto = timed(secretboxIntoPrimitive)
/** Opens a secretbox into `out`: see secretboxOpenIntoPrimitive. */
export const secretboxOpenInto = timed(secretboxOpenIntoPrimitive)
/** secretbox(prefix || message) into `out` without concatenating: see secretboxPrefixedIntoPrimitive. */
export const secretboxPrefixedInto = timed(secretboxPrefixedIntoPrimitive)
/** BLAKE3-256 of the concatenation of `parts`: see blake3Primitive. */
export const blake3 = timed(blake3Primitive)
