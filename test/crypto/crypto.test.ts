import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import nacl from 'tweetnacl'
import {
  generateIdentity, createSigner, sign, verify, secretbox, secretboxOpen, box, boxOpen, boxPublicKey,
  boxPublicKeyFromSignPublicKey, sealKeyToMember, openSealedKey, deriveKeyFromPassphrase, reference, toHex, fromHex,
  backend, sha256, blake3, hashBackend, SEALED_GROUP_KEY_BYTES, peerKeyOf, mustOpen
} from '../../crypto/index.js'
import { createRng } from '../../protocol/rng.js'

const rng = createRng(20240601).fork('crypto-test')
const bytes = (n: number): Uint8Array => rng.bytes(n)

test('the fast path is libsodium wherever sodium-native loads, unless MURMUR_CRYPTO_BACKEND=node', () => {
  let loads = true
  try { createRequire(import.meta.url)('sodium-native') } catch { loads = false }
  assert.equal(backend, loads && process.env.MURMUR_CRYPTO_BACKEND !== 'node' ? 'sodium-native' : 'node:crypto')
})

test('RFC 8032 ed25519 test vectors 1 and 2', () => {
  const vectors = [
    { seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', pk: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', msg: '', sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b' },
    { seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', pk: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', msg: '72', sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00' }
  ]
  for (const v of vectors) {
    const id = generateIdentity(fromHex(v.seed, 32))
    assert.equal(toHex(id.signPublicKey), v.pk)
    const sig = sign(fromHex(v.msg), id.signSecretKey)
    assert.equal(toHex(sig), v.sig)
    assert.equal(verify(fromHex(v.msg), sig, id.signPublicKey), true)
    assert.equal(toHex(reference.sign(fromHex(v.msg), id.signSecretKey)), v.sig)
  }
})

test('keys and signatures are byte-identical to tweetnacl on random inputs', () => {
  for (let i = 0; i < 25; i++) {
    const seed = bytes(32)
    const id = generateIdentity(seed)
    const ref = reference.signKeyPairFromSeed(seed)
    assert.deepEqual(id.signPublicKey, ref.publicKey)
    assert.deepEqual(id.signSecretKey, ref.secretKey)
    assert.deepEqual(id.boxPublicKey, nacl.scalarMult.base(id.boxSecretKey))
    const msg = bytes(rng.int(600))
    const sig = createSigner(id).sign(msg)
    assert.deepEqual(sig, reference.sign(msg, ref.secretKey))
    assert.equal(verify(msg, sig, id.signPublicKey), true)
    assert.equal(reference.verify(msg, sig, id.signPublicKey), true)
    const bad = new Uint8Array(sig)
    bad[rng.int(64)] ^= 1 << rng.int(8)
    assert.equal(verify(msg, bad, id.signPublicKey), false)
    assert.equal(reference.verify(msg, bad, id.signPublicKey), false)
    if (msg.length > 0) {
      const m2 = new Uint8Array(msg)
      m2[rng.int(m2.length)] ^= 1
      assert.equal(verify(m2, sig, id.signPublicKey), false)
    }
  }
})

test('verify never throws on malformed keys and signatures', () => {
  const msg = bytes(10)
  assert.equal(verify(msg, new Uint8Array(63), new Uint8Array(32)), false)
  assert.equal(verify(msg, new Uint8Array(64), new Uint8Array(31)), false)
  assert.equal(verify(msg, new Uint8Array(64), new Uint8Array(32)), false)
  assert.equal(verify(msg, new Uint8Array(64).fill(255), new Uint8Array(32).fill(255)), false)
})

test('box key is the standard ed25519 -> x25519 conversion', () => {
  for (let i = 0; i < 20; i++) {
    const id = generateIdentity(bytes(32))
    assert.deepEqual(boxPublicKeyFromSignPublicKey(id.signPublicKey), id.boxPublicKey)
    assert.deepEqual(reference.boxPublicKey(reference.boxSecretKeyFromSeed(id.seed)), id.boxPublicKey)
  }
  assert.equal(boxPublicKeyFromSignPublicKey(new Uint8Array(5)), null)
})

test('secretbox is byte-identical to tweetnacl, sizes 0..70000 and 1 MiB', () => {
  const sizes = [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1000, 4096, 65535, 70000, 1 << 20]
  for (const n of sizes) {
    const key = bytes(32)
    const nonce = bytes(24)
    const msg = bytes(n)
    const fast = secretbox(msg, nonce, key)
    assert.deepEqual(fast, reference.secretbox(msg, nonce, key), `size ${n}`)
    assert.deepEqual(secretboxOpen(fast, nonce, key), msg)
    assert.deepEqual(reference.secretboxOpen(fast, nonce, key), msg)
    const bad = new Uint8Array(fast)
    bad[rng.int(bad.length)] ^= 0x80
    assert.equal(secretboxOpen(bad, nonce, key), null)
  }
  assert.equal(secretboxOpen(new Uint8Array(5), new Uint8Array(24), new Uint8Array(32)), null)
  assert.equal(secretboxOpen(new Uint8Array(40), new Uint8Array(23), new Uint8Array(32)), null)
})

test('box is byte-identical to tweetnacl', () => {
  for (let i = 0; i < 10; i++) {
    const a = generateIdentity(bytes(32))
    const b = generateIdentity(bytes(32))
    const nonce = bytes(24)
    const msg = bytes(rng.int(100))
    const c = box(msg, nonce, b.boxPublicKey, a.boxSecretKey)
    assert.deepEqual(c, nacl.box(msg, nonce, b.boxPublicKey, a.boxSecretKey))
    assert.deepEqual(boxOpen(c, nonce, a.boxPublicKey, b.boxSecretKey), msg)
    assert.deepEqual(boxPublicKey(a.boxSecretKey), a.boxPublicKey)
  }
})

test('group keys sealed to a member open only with that member\'s key', () => {
  const alice = generateIdentity(bytes(32))
  const bob = generateIdentity(bytes(32))
  const key = bytes(32)
  const sealed = sealKeyToMember(key, alice.boxPublicKey)
  assert.equal(sealed.length, SEALED_GROUP_KEY_BYTES)
  assert.deepEqual(openSealedKey(sealed, alice), key)
  assert.equal(openSealedKey(sealed, bob), null)
  const tampered = new Uint8Array(sealed)
  tampered[70] ^= 1
  assert.equal(openSealedKey(tampered, alice), null)
  assert.equal(openSealedKey(sealed.subarray(0, 50), alice), null)
  // each sealing uses a fresh ephemeral key and nonce
  assert.notDeepEqual(sealKeyToMember(key, alice.boxPublicKey), sealed)
})

test('generateIdentity rejects a seed of the wrong length with InvalidKeyError', () => {
  assert.throws(() => generateIdentity(new Uint8Array(31)), (e: Error) => e.name === 'InvalidKeyError')
  assert.equal(peerKeyOf(generateIdentity(new Uint8Array(32))).length, 64)
  assert.throws(() => mustOpen(null, 'group key'), (e: Error) => e.name === 'DecryptionError' && /group key/.test(e.message))
  assert.deepEqual(mustOpen(new Uint8Array([7]), 'x'), new Uint8Array([7]))
})

test('passphrase key derivation is deterministic and salt dependent', () => {
  const params = { kdf: 'scrypt' as const, salt: '00112233445566778899aabbccddeeff', N: 1024, r: 8, p: 1 }
  const a = deriveKeyFromPassphrase('correct horse battery', params)
  assert.equal(a.length, 32)
  assert.deepEqual(deriveKeyFromPassphrase('correct horse battery', params), a)
  assert.notDeepEqual(deriveKeyFromPassphrase('correct horse batterz', params), a)
  assert.notDeepEqual(deriveKeyFromPassphrase('correct horse battery', { ...params, salt: 'ff112233445566778899aabbccddeeff' }), a)
  assert.throws(() => deriveKeyFromPassphrase('x', { ...params, N: 1000 }), (e: Error) => e.name === 'InvalidKeyError')
  assert.equal(toHex(sha256(new Uint8Array(0))), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
})

test('BLAKE3: official test vectors (input i mod 251), fast path byte-identical to @noble/hashes on views and parts', () => {
  let loads = true
  try { createRequire(import.meta.url)('@napi-rs/blake-hash') } catch { loads = false }
  assert.equal(hashBackend, loads && process.env.MURMUR_HASH_BACKEND !== 'js' ? '@napi-rs/blake-hash' : '@noble/hashes')
  const input = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i % 251)
  const official: Array<[number, string]> = [
    [0, 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262'],
    [1, '2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213'],
    [1024, '42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7'],
    [1025, 'd00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444']
  ]
  for (const [n, hex] of official) {
    assert.equal(toHex(blake3(input(n))), hex, `length ${n}`)
    assert.equal(toHex(reference.blake3(input(n))), hex, `reference, length ${n}`)
  }
  for (const n of [31, 64, 65, 4097, 65536, 100_003, (1 << 20) + 48]) {
    const big = bytes(n + 13)
    const view = big.subarray(7, 7 + n) // a view at an odd offset: the native call must honour byteOffset
    const want = toHex(reference.blake3(view))
    assert.equal(toHex(blake3(view)), want, `length ${n}`)
    assert.equal(toHex(blake3(view.subarray(0, n >> 1), view.subarray(n >> 1))), want, `two parts, length ${n}`)
  }
})
