// One conformance suite that every CryptoProvider passes: known-answer vectors, byte-identical outputs to the
// reference on fixed (seeded) inputs, the `...Into` variants against the plain ones, and refusal of tampered or
// malformed input without a throw.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  reference, fast, createFastProvider, observedProvider, totalTimeObserver, toHex, fromHex, type CryptoProvider
} from '../../crypto/index.js'
import { createRng } from '../../protocol/rng.js'

const timed = totalTimeObserver()
const PROVIDERS: Array<[string, CryptoProvider]> = [
  ['reference', reference],
  [`fast (${fast.name})`, fast],
  ['fast without native addons (node:crypto, @noble/hashes)', createFastProvider({ sodium: null, blake3: null })],
  ['fast, observed', observedProvider(fast, timed)]
]

function inputs (label: string): { bytes: (n: number) => Uint8Array } {
  const rng = createRng(31337).fork(`crypto-conformance:${label}`)
  return { bytes: (n) => rng.bytes(n) }
}

const SIZES = [0, 1, 31, 32, 33, 64, 1000, 31_432, 65_536, 70_001]

test('known answers: RFC 8032 ed25519, SHA-256, BLAKE3', () => {
  const seed = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 32)
  for (const [name, p] of PROVIDERS) {
    const kp = p.signKeyPairFromSeed(seed)
    assert.equal(toHex(kp.publicKey), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', `${name}: public key`)
    assert.equal(toHex(p.sign(new Uint8Array(0), kp.secretKey)), 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b', `${name}: signature`)
    const abc = new TextEncoder().encode('abc')
    assert.equal(p.sha256Hex(abc), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', `${name}: sha256Hex`)
    assert.equal(toHex(p.sha256(abc)), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', `${name}: sha256`)
    assert.equal(toHex(p.blake3(new Uint8Array(0))), 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262', `${name}: blake3`)
  }
})

test('byte-identical to the reference on fixed inputs: keys, signatures, secretbox, box, hashes', () => {
  for (const [name, p] of PROVIDERS) {
    const a = inputs('same')
    for (const n of SIZES) {
      const [seed, msg, key, nonce, other] = [a.bytes(32), a.bytes(n), a.bytes(32), a.bytes(24), a.bytes(32)]
      const kp = p.signKeyPairFromSeed(seed)
      const ref = reference.signKeyPairFromSeed(seed)
      assert.deepEqual(kp, ref, `${name} n=${n}: key pair`)
      const signed = msg.subarray(0, 1000) // (tweetnacl's ed25519 is slow on long messages; envelopes sign headers)
      const sig = p.sign(signed, kp.secretKey)
      assert.deepEqual(sig, reference.sign(signed, ref.secretKey), `${name} n=${n}: signature`)
      assert.equal(p.verify(signed, sig, kp.publicKey), true, `${name} n=${n}: verify`)
      assert.deepEqual(p.secretbox(msg, nonce, key), reference.secretbox(msg, nonce, key), `${name} n=${n}: secretbox`)
      const boxSecret = p.boxSecretKeyFromSeed(seed)
      assert.deepEqual(boxSecret, reference.boxSecretKeyFromSeed(seed), `${name} n=${n}: box secret key`)
      const boxPublic = p.boxPublicKey(boxSecret)
      assert.deepEqual(boxPublic, reference.boxPublicKey(boxSecret), `${name} n=${n}: box public key`)
      assert.deepEqual(p.boxPublicKeyFromSignPublicKey(kp.publicKey), boxPublic, `${name} n=${n}: ed25519 -> x25519 map`)
      const otherPublic = reference.boxPublicKey(other)
      assert.deepEqual(p.box(msg, nonce, otherPublic, boxSecret), reference.box(msg, nonce, otherPublic, boxSecret), `${name} n=${n}: box`)
      assert.deepEqual(p.blake3(msg), reference.blake3(msg), `${name} n=${n}: blake3`)
      assert.deepEqual(p.blake3(msg.subarray(0, n >> 1), msg.subarray(n >> 1)), reference.blake3(msg), `${name} n=${n}: blake3 of parts`)
      assert.deepEqual(p.sha256(msg), reference.sha256(msg), `${name} n=${n}: sha256`)
      assert.deepEqual(p.sha256(msg.subarray(0, n >> 1), msg.subarray(n >> 1)), reference.sha256(msg), `${name} n=${n}: sha256 of parts`)
    }
  }
})

test('the Into variants write exactly what the plain functions return', () => {
  for (const [name, p] of PROVIDERS) {
    const r = inputs('into')
    for (const n of SIZES) {
      const [msg, key, nonce, prefix] = [r.bytes(n), r.bytes(32), r.bytes(24), r.bytes(32)]
      const sealed = reference.secretbox(msg, nonce, key)
      const out = new Uint8Array(n + 16)
      p.secretboxInto(out, msg, nonce, key)
      assert.deepEqual(out, sealed, `${name} n=${n}: secretboxInto`)
      const inPlace = new Uint8Array(n + 16)
      inPlace.set(msg, 16)
      p.secretboxInto(inPlace, inPlace.subarray(16), nonce, key)
      assert.deepEqual(inPlace, sealed, `${name} n=${n}: secretboxInto in place`)
      const joined = new Uint8Array(32 + n)
      joined.set(prefix)
      joined.set(msg, 32)
      const prefixed = new Uint8Array(n + 48)
      p.secretboxPrefixedInto(prefixed, prefix, msg, nonce, key)
      assert.deepEqual(prefixed, reference.secretbox(joined, nonce, key), `${name} n=${n}: secretboxPrefixedInto`)
      const opened = new Uint8Array(n)
      assert.equal(p.secretboxOpenInto(opened, sealed, nonce, key), true, `${name} n=${n}: secretboxOpenInto`)
      assert.deepEqual(opened, msg, `${name} n=${n}: secretboxOpenInto bytes`)
      assert.deepEqual(p.secretboxOpen(sealed, nonce, key), msg, `${name} n=${n}: secretboxOpen`)
      const digest = new Uint8Array(32)
      p.sha256Into(digest, msg)
      assert.deepEqual(digest, reference.sha256(msg), `${name} n=${n}: sha256Into`)
      assert.equal(p.sha256Hex(msg), toHex(reference.sha256(msg)), `${name} n=${n}: sha256Hex`)
    }
    assert.throws(() => p.secretboxInto(new Uint8Array(17), new Uint8Array(2), new Uint8Array(24), new Uint8Array(32)), { name: 'RangeError' }, `${name}: secretboxInto size`)
    assert.throws(() => p.secretboxPrefixedInto(new Uint8Array(49), new Uint8Array(31), new Uint8Array(1), new Uint8Array(24), new Uint8Array(32)), { name: 'RangeError' }, `${name}: prefix size`)
    assert.throws(() => p.secretboxPrefixedInto(new Uint8Array(50), new Uint8Array(32), new Uint8Array(1), new Uint8Array(24), new Uint8Array(32)), { name: 'RangeError' }, `${name}: output size`)
  }
})

test('tampered and malformed input is refused (false / null), never thrown', () => {
  for (const [name, p] of PROVIDERS) {
    const r = inputs('tamper')
    const kp = p.signKeyPairFromSeed(r.bytes(32))
    const msg = r.bytes(200)
    const sig = p.sign(msg, kp.secretKey)
    for (const at of [0, 31, 32, 63]) {
      const bad = new Uint8Array(sig); bad[at] ^= 1
      assert.equal(p.verify(msg, bad, kp.publicKey), false, `${name}: signature byte ${at} flipped`)
    }
    const badMsg = new Uint8Array(msg); badMsg[7] ^= 0x80
    assert.equal(p.verify(badMsg, sig, kp.publicKey), false, `${name}: message changed`)
    const badKey = new Uint8Array(kp.publicKey); badKey[0] ^= 1
    assert.equal(p.verify(msg, sig, badKey), false, `${name}: key changed`)
    assert.equal(p.verify(msg, sig.subarray(0, 63), kp.publicKey), false, `${name}: short signature`)
    assert.equal(p.verify(msg, sig, kp.publicKey.subarray(0, 31)), false, `${name}: short key`)
    assert.equal(p.verify(msg, new Uint8Array(64), new Uint8Array(32).fill(255)), false, `${name}: junk key`)

    const [key, nonce] = [r.bytes(32), r.bytes(24)]
    const sealed = p.secretbox(msg, nonce, key)
    for (const at of [0, 15, 16, sealed.length - 1]) {
      const bad = new Uint8Array(sealed); bad[at] ^= 1
      assert.equal(p.secretboxOpen(bad, nonce, key), null, `${name}: box byte ${at} flipped`)
      assert.equal(p.secretboxOpenInto(new Uint8Array(msg.length), bad, nonce, key), false, `${name}: box byte ${at} flipped (into)`)
    }
    const otherKey = new Uint8Array(key); otherKey[3] ^= 1
    assert.equal(p.secretboxOpen(sealed, nonce, otherKey), null, `${name}: wrong key`)
    assert.equal(p.secretboxOpen(sealed.subarray(0, 15), nonce, key), null, `${name}: shorter than a mac`)
    assert.equal(p.secretboxOpen(sealed, nonce.subarray(0, 23), key), null, `${name}: short nonce`)
    assert.equal(p.secretboxOpen(sealed, nonce, key.subarray(0, 31)), null, `${name}: short key`)
    assert.equal(p.secretboxOpenInto(new Uint8Array(msg.length + 1), sealed, nonce, key), false, `${name}: output of the wrong size`)

    const mine = p.boxSecretKeyFromSeed(r.bytes(32))
    const theirs = p.boxSecretKeyFromSeed(r.bytes(32))
    const boxed = p.box(msg, nonce, p.boxPublicKey(theirs), mine)
    assert.deepEqual(p.boxOpen(boxed, nonce, p.boxPublicKey(mine), theirs), msg, `${name}: box opens`)
    const badBox = new Uint8Array(boxed); badBox[20] ^= 1
    assert.equal(p.boxOpen(badBox, nonce, p.boxPublicKey(mine), theirs), null, `${name}: box tampered`)
    assert.equal(p.boxOpen(boxed, nonce, p.boxPublicKey(theirs), theirs), null, `${name}: box from someone else`)
    assert.equal(p.boxOpen(boxed.subarray(0, 10), nonce, p.boxPublicKey(mine), theirs), null, `${name}: box too short`)
    assert.equal(p.boxPublicKeyFromSignPublicKey(new Uint8Array(31)), null, `${name}: short ed25519 key`)
  }
})

test('randomness: the requested length, fresh bytes every call', () => {
  for (const [name, p] of PROVIDERS) {
    const seen = new Set<string>()
    for (let i = 0; i < 200; i++) {
      const nonce = new Uint8Array(24)
      p.randomPublicBytesInto(nonce)
      seen.add(toHex(nonce))
    }
    const big = new Uint8Array(1000)
    p.randomPublicBytesInto(big)
    seen.add(toHex(big))
    assert.equal(seen.size, 201, `${name}: public random bytes repeat`)
    assert.equal(p.randomBytes(32).length, 32, `${name}: randomBytes length`)
    assert.notDeepEqual(p.randomBytes(32), p.randomBytes(32), `${name}: randomBytes repeat`)
  }
})

test('an observed provider reports each primitive call and changes no output', () => {
  const seen: string[] = []
  const p = observedProvider(fast, { primitive: (name, ms) => { assert.ok(ms >= 0, 'a duration'); seen.push(name) } })
  const r = inputs('observed')
  const kp = p.signKeyPairFromSeed(r.bytes(32))
  const msg = r.bytes(100)
  const [key, nonce] = [r.bytes(32), r.bytes(24)]
  const sig = p.sign(msg, kp.secretKey)
  assert.equal(p.verify(msg, sig, kp.publicKey), true, 'verify through the observer')
  const sealed = p.secretbox(msg, nonce, key)
  assert.deepEqual(p.secretboxOpen(sealed, nonce, key), msg, 'open through the observer')
  assert.deepEqual(p.blake3(msg), fast.blake3(msg), 'blake3 through the observer')
  p.sha256(msg) // not a reported primitive
  assert.deepEqual(seen, ['sign', 'verify', 'secretbox', 'secretboxOpen', 'blake3'], 'reported calls')
  assert.ok(timed.calls > 0 && timed.ms >= 0, 'the shared total observer saw the suite\'s calls')
})
