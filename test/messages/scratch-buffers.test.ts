import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import {
  sealUpdate, parseEnvelope, headerBinding, signedMessage, BINDING_DOMAIN, SIGNATURE_DOMAIN, type SealedUpdate
} from '../../protocol/messages/index.js'
import { payloadHashOffset } from '../../protocol/messages/header.js'
import { createEncoder } from '../../protocol/codecs/index.js'
import { createSigner, toHex, verify, reference } from '../../crypto/index.js'
import type { Signer } from '../../protocol/interfaces.js'
import { alice, bob, seal, validator, fields, weights, epochKeys, rng } from './helpers.js'

// sealUpdate and the validator build `domain || header` for hashing and verifying, and the Signer gets the
// bytes it signs: none of that may be shared between envelopes, signers or callers.

test('the header binding is SHA-256(binding domain || header with its payload hash zeroed), a fresh array each call', () => {
  for (const parents of [0, 1, 16]) {
    const s = seal({ parents: Array.from({ length: parents }, () => toHex(rng.bytes(32))) }, { codec: { name: 'int8', chunkSize: 8 } })
    const parsed = parseEnvelope(s.bytes)
    assert.ok(parsed.ok, 'expected parsed.ok')
    const { headerBytes, header, ciphertext } = parsed.envelope
    const zeroed = new Uint8Array(headerBytes)
    const o = payloadHashOffset(header.codec)
    zeroed.fill(0, o, o + 32)
    const want = createHash('sha256').update(BINDING_DOMAIN, 'utf8').update(zeroed).digest('hex')
    const a = headerBinding(headerBytes, header.codec)
    assert.equal(toHex(a), want)
    a.fill(0)
    assert.equal(toHex(headerBinding(headerBytes, header.codec)), want, 'a second call is not the array the first returned')
    const plain = reference.secretboxOpen(ciphertext.subarray(24), ciphertext.subarray(0, 24), epochKeys.get(1)!)
    assert.ok(plain != null, 'expected plain != null')
    assert.equal(toHex(plain.subarray(0, 32)), want, 'the sealed binding is that hash')
  }
})

test('a signer that keeps what it signs still holds each message as signed', () => {
  const kept: Uint8Array[] = []
  const base = createSigner(alice)
  const signer: Signer = { publicKey: base.publicKey, sign: (m) => { kept.push(m); return base.sign(m) } }
  const sealed: SealedUpdate[] = []
  for (let seq = 1; seq <= 5; seq++) {
    sealed.push(sealUpdate(fields({ seq, parents: Array.from({ length: seq }, () => toHex(rng.bytes(32))) }),
      createEncoder({ name: 'float32' }).encode(weights()), { signer, epochKey: epochKeys.get(1)! }))
  }
  for (const [i, s] of sealed.entries()) {
    const hl = (s.bytes[0] << 8) | s.bytes[1]
    assert.deepEqual([...kept[i]], [...new TextEncoder().encode(SIGNATURE_DOMAIN), ...s.bytes.subarray(2, 2 + hl)])
    assert.ok(verify(kept[i], s.bytes.subarray(2 + hl, 2 + hl + 64), alice.signPublicKey), 'expected verify(kept[i], s.bytes.subarray(2 + hl, 2 + hl + 64), alice.signPublicKey)')
  }
})

test('a signer that seals an envelope of its own inside sign() does not disturb the outer one', () => {
  const base = createSigner(alice)
  let inner: SealedUpdate | null = null
  const signer: Signer = {
    publicKey: base.publicKey,
    sign: (m) => {
      inner ??= seal({ seq: 99, parents: [toHex(rng.bytes(32)), toHex(rng.bytes(32))] }, { from: bob })
      return base.sign(m)
    }
  }
  const outer = sealUpdate(fields({ seq: 7 }), createEncoder({ name: 'float16' }).encode(weights()), { signer, epochKey: epochKeys.get(1)! })
  const v = validator()
  const r1 = v.validate(outer.bytes, { round: 10 })
  assert.ok(r1.ok, r1.ok ? '' : r1.reason)
  assert.ok(inner != null, 'expected inner != null')
  const r2 = v.validate((inner as SealedUpdate).bytes, { round: 10 })
  assert.ok(r2.ok, r2.ok ? '' : r2.reason)
})

test('envelopes of every header length validate in any order with one validator, each to its own weights', () => {
  const v = validator()
  const made = Array.from({ length: 17 }, (_, k) => {
    const w = weights(undefined, 100 + k)
    const s = seal({ seq: k + 1, parents: Array.from({ length: k }, () => toHex(rng.bytes(32))) }, { from: k % 2 === 0 ? alice : bob, w })
    return { s, w }
  })
  for (const k of [16, 0, 9, 3, 12, 1, 15, 2, 8, 4, 14, 5, 11, 6, 13, 7, 10]) {
    const r = v.validate(made[k].s.bytes, { round: 10 })
    assert.ok(r.ok, r.ok ? '' : `${k}: ${r.reason} ${r.detail}`)
    assert.deepEqual(r.weights, made[k].w)
    assert.equal(r.header.parents.length, k)
    assert.equal(r.id, made[k].s.id)
  }
  // and a signature from one header never passes for another's bytes
  const a = made[3].s.bytes
  const b = new Uint8Array(made[4].s.bytes)
  const hlA = (a[0] << 8) | a[1]
  const hlB = (b[0] << 8) | b[1]
  b.set(a.subarray(2 + hlA, 2 + hlA + 64), 2 + hlB)
  const r = v.validate(b, { round: 10 })
  assert.equal(r.ok ? 'ACCEPTED' : r.reason, 'BAD_SIGNATURE')
})

test('signedMessage returns a copy the caller owns', () => {
  const s = seal()
  const hl = (s.bytes[0] << 8) | s.bytes[1]
  const m1 = signedMessage(s.bytes.subarray(2, 2 + hl))
  const snapshot = [...m1]
  seal({ seq: 2 })
  signedMessage(new Uint8Array(hl).fill(9))
  assert.deepEqual([...m1], snapshot)
})
