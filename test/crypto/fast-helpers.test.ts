import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { fromHexOrNull, toHex, writeHex32 } from '../../crypto/hex.js'
import { sha256, sha256Into, sha256Hex, randomPublicBytesInto, secretbox, secretboxInto, secretboxOpen, secretboxOpenInto, secretboxPrefixedInto, sign, signKeyPairFromSeed, verify } from '../../crypto/fast.js'
import { reference } from '../../crypto/reference.js'
import { createRng } from '../../protocol/rng.js'

const rng = createRng(808).fork('fast-helpers')

test('writeHex32 accepts exactly what fromHexOrNull(text, 32) accepts, and writes only its 32 bytes', () => {
  const good = toHex(rng.bytes(32))
  const cases: unknown[] = [good, good.toUpperCase(), good.slice(0, 63), good + '0', good.slice(0, 62), '', 'zz'.repeat(32), 17, null]
  for (let i = 0; i < 64; i++) cases.push(good.slice(0, i) + 'g' + good.slice(i + 1)) // a non-hex char at every position
  cases.push(good.slice(0, 10) + ' ' + good.slice(11), good.slice(0, 20) + 'é' + good.slice(21))
  for (const text of cases) {
    const out = new Uint8Array(40).fill(7)
    const ok = writeHex32(out, 4, text as string)
    const want = typeof text === 'string' ? fromHexOrNull(text, 32) : null
    assert.equal(ok, want != null, String(text))
    if (want != null) {
      assert.deepEqual(out.subarray(4, 36), want, `${String(text)}: the bytes written`)
      assert.deepEqual([...out.subarray(0, 4), ...out.subarray(36)], [7, 7, 7, 7, 7, 7, 7, 7], 'writes only its 32 bytes')
    }
  }
})

test('sha256, sha256Into and sha256Hex agree with createHash on every size', () => {
  for (const n of [0, 1, 55, 56, 63, 64, 65, 300, 4097, 100_000]) {
    const data = rng.bytes(n + 3).subarray(3) // a view at an offset
    const want = createHash('sha256').update(data).digest('hex')
    assert.equal(toHex(sha256(data)), want, `sha256 ${n}`)
    assert.equal(sha256Hex(data), want, `sha256Hex ${n}`)
    const out = new Uint8Array(32)
    sha256Into(out, data)
    assert.equal(toHex(out), want, `sha256Into ${n}`)
    assert.equal(toHex(sha256(data.subarray(0, n >> 1), data.subarray(n >> 1))), want, `two parts ${n}`)
  }
})

test('randomPublicBytesInto fills with fresh bytes every call, small and large', () => {
  const seen = new Set<string>()
  for (let i = 0; i < 400; i++) { // crosses several 4 KiB refills of the pool
    const nonce = new Uint8Array(24)
    randomPublicBytesInto(nonce)
    const hex = toHex(nonce)
    assert.ok(!seen.has(hex), 'a nonce repeated')
    seen.add(hex)
  }
  const big = new Uint8Array(5000)
  randomPublicBytesInto(big)
  assert.ok(big.some((b) => b !== 0) && new Set(big).size > 200, 'expected big.some((b) => b !== 0) && new Set(big).size > 200')
})

test('secretboxOpenInto opens into the caller\'s buffer, refuses tampering and wrong sizes', () => {
  for (const n of [0, 1, 100, 31_432, 70_000]) {
    const key = rng.bytes(32)
    const nonce = rng.bytes(24)
    const msg = rng.bytes(n)
    const box = secretbox(msg, nonce, key)
    const out = new Uint8Array(n)
    assert.equal(secretboxOpenInto(out, box, nonce, key), true)
    assert.deepEqual(out, msg)
    assert.deepEqual(secretboxOpen(box, nonce, key), reference.secretboxOpen(box, nonce, key))
    const bad = new Uint8Array(box)
    bad[rng.int(bad.length)] ^= 4
    assert.equal(secretboxOpenInto(new Uint8Array(n), bad, nonce, key), false)
    assert.equal(secretboxOpenInto(new Uint8Array(n + 1), box, nonce, key), false)
    assert.equal(secretboxOpenInto(new Uint8Array(n), box, nonce.subarray(1), key), false)
  }
  assert.equal(secretboxOpenInto(new Uint8Array(0), new Uint8Array(5), new Uint8Array(24), new Uint8Array(32)), false)
})

test('inputs in shared memory give the same signatures, boxes and verdicts as ordinary arrays (sodium-native cannot read them)', () => {
  const shared = (a: Uint8Array, at = 3): Uint8Array => {
    const v = new Uint8Array(new SharedArrayBuffer(a.length + at + 5), at, a.length)
    v.set(a)
    return v
  }
  const { publicKey, secretKey } = signKeyPairFromSeed(rng.bytes(32))
  const message = rng.bytes(300)
  const signature = sign(message, secretKey)
  assert.deepEqual(sign(shared(message), shared(secretKey)), signature)
  assert.equal(verify(shared(message), shared(signature), shared(publicKey)), true)
  assert.equal(verify(shared(message.map((b, i) => i === 7 ? b ^ 1 : b)), signature, publicKey), false)
  for (const n of [100, 31_432, 70_000]) {
    const key = rng.bytes(32)
    const nonce = rng.bytes(24)
    const msg = rng.bytes(n)
    const box = secretbox(msg, nonce, key)
    assert.deepEqual(secretbox(shared(msg), shared(nonce), shared(key)), box)
    const out = new Uint8Array(n)
    assert.equal(secretboxOpenInto(out, shared(box), shared(nonce), shared(key)), true)
    assert.deepEqual(out, msg)
    const prefix = rng.bytes(32)
    const a = new Uint8Array(n + 48)
    const b = new Uint8Array(n + 48)
    secretboxPrefixedInto(a, prefix, msg, nonce, key)
    secretboxPrefixedInto(b, shared(prefix), shared(msg), shared(nonce), shared(key))
    assert.deepEqual(b, a)
  }
  assert.throws(() => { secretboxInto(shared(new Uint8Array(116)), rng.bytes(100), rng.bytes(24), rng.bytes(32)) }, RangeError)
})
