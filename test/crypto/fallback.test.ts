import { test } from 'node:test'
import assert from 'node:assert/strict'
import { reference } from '../../crypto/reference.js'
import { createRng } from '../../protocol/rng.js'

// The node:crypto fallback (used where sodium-native cannot load) must be byte-identical too.
process.env.MURMUR_CRYPTO_BACKEND = 'node'
const fallbackUrl = new URL('../../crypto/fast.js?backend=node', import.meta.url).href
const fast = await import(fallbackUrl) as typeof import('../../crypto/fast.js')
delete process.env.MURMUR_CRYPTO_BACKEND
const rng = createRng(7).fork('fallback')

test('node:crypto fallback is selected and byte-identical to tweetnacl', () => {
  assert.equal(fast.backend, 'node:crypto')
  for (let i = 0; i < 10; i++) {
    const seed = rng.bytes(32)
    const kp = fast.signKeyPairFromSeed(seed)
    const ref = reference.signKeyPairFromSeed(seed)
    assert.deepEqual(kp.publicKey, ref.publicKey)
    assert.deepEqual(kp.secretKey, ref.secretKey)
    const msg = rng.bytes(rng.int(300))
    const sig = fast.sign(msg, kp.secretKey)
    assert.deepEqual(sig, reference.sign(msg, ref.secretKey))
    assert.equal(fast.verify(msg, sig, kp.publicKey), true)
    sig[0] ^= 1
    assert.equal(fast.verify(msg, sig, kp.publicKey), false)
    const key = rng.bytes(32)
    const nonce = rng.bytes(24)
    const box = fast.secretbox(msg, nonce, key)
    assert.deepEqual(box, reference.secretbox(msg, nonce, key))
    assert.deepEqual(fast.secretboxOpen(box, nonce, key), msg)
    const boxSecret = reference.boxSecretKeyFromSeed(seed)
    assert.deepEqual(fast.boxPublicKeyFromSignPublicKey(kp.publicKey), reference.boxPublicKey(boxSecret))
  }
  assert.equal(fast.verify(new Uint8Array(1), new Uint8Array(64), new Uint8Array(32).fill(255)), false)
})

test('in-place secretbox (message 16 bytes into the output) matches on both paths', async () => {
  const sodiumPath = await import('../../crypto/fast.js')
  for (const impl of [fast, sodiumPath]) {
    for (const n of [0, 1, 100, 70000]) {
      const msg = rng.bytes(n)
      const key = rng.bytes(32)
      const nonce = rng.bytes(24)
      const buf = new Uint8Array(n + 16)
      buf.set(msg, 16)
      impl.secretboxInto(buf, buf.subarray(16), nonce, key)
      assert.deepEqual(buf, reference.secretbox(msg, nonce, key), `${impl.backend} size ${n}`)
    }
  }
})

test('prefixed secretbox (32-byte prefix || message, no concatenation) is byte-identical to tweetnacl on both paths, sizes 0..1 MiB', async () => {
  const sodiumPath = await import('../../crypto/fast.js')
  for (const impl of [fast, sodiumPath]) {
    for (const n of [0, 1, 31, 32, 33, 63, 64, 65, 1000, 70001, 1 << 20]) {
      const prefix = rng.bytes(32)
      const msg = rng.bytes(n)
      const key = rng.bytes(32)
      const nonce = rng.bytes(24)
      const plain = new Uint8Array(32 + n)
      plain.set(prefix, 0)
      plain.set(msg, 32)
      const expected = reference.secretbox(plain, nonce, key)
      const out = new Uint8Array(n + 48).fill(0xaa)
      impl.secretboxPrefixedInto(out, prefix, msg, nonce, key)
      assert.deepEqual(out, expected, `${impl.backend} seal size ${n}`)
      // the payload may also start at an odd offset of a larger buffer (e.g. straight from an encoder)
      const shifted = new Uint8Array(n + 3)
      shifted.set(msg, 3)
      const out2 = new Uint8Array(n + 48)
      impl.secretboxPrefixedInto(out2, prefix, shifted.subarray(3), nonce, key)
      assert.deepEqual(out2, expected, `${impl.backend} seal size ${n} unaligned`)
      const opened = impl.secretboxOpen(out, nonce, key)
      assert.ok(opened != null, 'expected opened != null')
      assert.deepEqual(opened.subarray(0, 32), prefix)
      assert.deepEqual(opened.subarray(32), msg, `${impl.backend} open size ${n}`)
    }
    assert.throws(() => impl.secretboxPrefixedInto(new Uint8Array(49), new Uint8Array(31), new Uint8Array(1), new Uint8Array(24), new Uint8Array(32)), { name: 'RangeError' })
    assert.throws(() => impl.secretboxPrefixedInto(new Uint8Array(50), new Uint8Array(32), new Uint8Array(1), new Uint8Array(24), new Uint8Array(32)), { name: 'RangeError' })
  }
})

test('the pure-JS BLAKE3 fallback (MURMUR_HASH_BACKEND=js) is selected and matches the native hash', async () => {
  process.env.MURMUR_HASH_BACKEND = 'js'
  const js = await import(new URL('../../crypto/fast.js?hash=js', import.meta.url).href) as typeof import('../../crypto/fast.js')
  delete process.env.MURMUR_HASH_BACKEND
  const native = await import('../../crypto/fast.js')
  assert.equal(js.hashBackend, '@noble/hashes')
  for (const n of [0, 1, 1025, 70_000]) {
    const m = rng.bytes(n)
    assert.deepEqual(js.blake3(m), native.blake3(m))
  }
})

test('node:crypto fallback: open into a buffer, nonce bytes and the one-shot hashes match the sodium path', async () => {
  const sodiumPath = await import('../../crypto/fast.js')
  for (const n of [0, 33, 31_432]) {
    const key = rng.bytes(32)
    const nonce = rng.bytes(24)
    const msg = rng.bytes(n)
    const box = reference.secretbox(msg, nonce, key)
    for (const impl of [fast, sodiumPath]) {
      const out = new Uint8Array(n)
      assert.equal(impl.secretboxOpenInto(out, box, nonce, key), true, `${impl.backend} size ${n}`)
      assert.deepEqual(out, msg)
      const bad = new Uint8Array(box)
      bad[0] ^= 1
      assert.equal(impl.secretboxOpenInto(new Uint8Array(n), bad, nonce, key), false)
    }
    const a = new Uint8Array(32)
    const b = new Uint8Array(32)
    fast.sha256Into(a, msg)
    sodiumPath.sha256Into(b, msg)
    assert.deepEqual(a, b)
    assert.equal(fast.sha256Hex(msg), sodiumPath.sha256Hex(msg))
  }
  const nonces = new Set<string>()
  for (let i = 0; i < 300; i++) {
    const x = new Uint8Array(24)
    fast.randomPublicBytesInto(x)
    nonces.add(Buffer.from(x).toString('hex'))
  }
  assert.equal(nonces.size, 300)
})
