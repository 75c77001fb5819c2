import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import nacl from 'tweetnacl'
import { REFUSAL_REASONS, gossipVerdict } from '../../protocol/interfaces.js'
import {
  sealUpdate, parseEnvelope, createMemoryReplayGuard, headerToJson, verifyEnvelopeSignature, signedMessage, headerBinding,
  decodeHeader, encodeHeader, payloadHashOffset, type ValidationResult
} from '../../protocol/messages/index.js'
import { createEncoder } from '../../protocol/codecs/index.js'
import { createSigner, generateIdentity, fromHex, toHex, sha256, reference } from '../../crypto/index.js'
import { alice, bob, mallory, seal, validator, fields, weights, resign, rehashAndResign, epochKeys, NUM_PARAMS } from './helpers.js'

function reason (r: ValidationResult): string {
  return r.ok ? 'ACCEPTED' : r.reason
}

test('a sealed update validates and decodes to the same weights, for every codec', () => {
  for (const codec of [{ name: 'float32' }, { name: 'float16' }, { name: 'int8', chunkSize: 4 }, { name: 'topk', k: 4 }] as const) {
    const w = weights()
    const s = seal({ parents: [toHex(new Uint8Array(32).fill(7))] }, { codec, w })
    const r = validator().validate(s.bytes, { round: 10 })
    assert.ok(r.ok, reason(r))
    assert.equal(r.id, s.id)
    assert.equal(r.header.sender, toHex(alice.signPublicKey))
    assert.deepEqual(r.header.parents, [toHex(new Uint8Array(32).fill(7))])
    assert.equal(r.weights.length, NUM_PARAMS)
    if (codec.name === 'float32') assert.deepEqual(r.weights, w)
    if (codec.name === 'topk') assert.equal(r.indices?.length, 4)
    for (let i = 0; i < NUM_PARAMS; i++) if (codec.name !== 'topk') assert.ok(Math.abs(r.weights[i] - w[i]) < 0.05, 'expected Math.abs(r.weights[i] - w[i]) < 0.05')
  }
})

test('header encoding is deterministic and round-trips', () => {
  const s = seal()
  const enc = encodeHeader(s.header)
  const dec = decodeHeader(enc)
  assert.ok(dec.ok, 'expected dec.ok')
  assert.deepEqual(dec.header, s.header)
  assert.deepEqual(encodeHeader(dec.header), enc)
  assert.equal(toHex(sha256(enc)), s.id)
})

test('test vectors in test/fixtures reproduce byte for byte and check out with tweetnacl alone', () => {
  const file = JSON.parse(readFileSync(new URL('../fixtures/envelopes-v3.json', import.meta.url), 'utf8'))
  assert.ok(file.vectors.length >= 4, 'expected file.vectors.length >= 4')
  for (const v of file.vectors) {
    const sender = generateIdentity(fromHex(v.senderSeed, 32))
    const s = sealUpdate(v.fields, createEncoder(v.codec).encode(new Float32Array(v.weights)), {
      signer: createSigner(sender), epochKey: fromHex(v.epochKey, 32), randomBytes: (n) => fromHex(v.nonce, n)
    })
    assert.equal(toHex(s.bytes), v.envelopeHex, v.name)
    assert.equal(s.id, v.id)
    assert.deepEqual(JSON.parse(JSON.stringify(headerToJson(s.header))), v.header)
    // independent check with the reference implementation only
    const bytes = fromHex(v.envelopeHex)
    const hl = (bytes[0] << 8) | bytes[1]
    const header = bytes.subarray(2, 2 + hl)
    const sig = bytes.subarray(2 + hl, 2 + hl + 64)
    const ct = bytes.subarray(2 + hl + 64)
    assert.ok(nacl.sign.detached.verify(signedMessage(header), sig, sender.signPublicKey), 'expected nacl.sign.detached.verify(signedMessage(header), sig, sender.signPublicKey)')
    assert.equal(toHex(reference.blake3(ct)), v.header.payloadHash) // BLAKE3 (@noble/hashes), independent of the native hash
    const plain = reference.secretboxOpen(ct.subarray(24), ct.subarray(0, 24), fromHex(v.epochKey, 32))
    assert.ok(plain != null, 'expected plain != null')
    const parsed = parseEnvelope(bytes)
    assert.ok(parsed.ok, 'expected parsed.ok')
    assert.deepEqual(plain.subarray(0, 32), headerBinding(header, parsed.envelope.header.codec))
  }
})

test('every refusal reason is produced by the matching defect', () => {
  const v = () => validator({ self: toHex(bob.signPublicKey), membership: { isMember: (k) => k !== toHex(mallory.signPublicKey), epochKey: (e) => epochKeys.get(e) ?? null, minManifestVersion: 2 } })
  const ok = seal()
  assert.equal(reason(v().validate(ok.bytes, { round: 10 })), 'ACCEPTED')
  const cases: Array<[string, Uint8Array, number?]> = [
    ['OVERSIZED', new Uint8Array(2 << 20)],
    ['MALFORMED', ok.bytes.subarray(0, 100)],
    ['MALFORMED', new Uint8Array(0)],
    ['WRONG_NETWORK', seal({ networkId: 'ff'.repeat(32) }).bytes],
    ['SCHEMA_MISMATCH', seal({ schemaHash: 'ee'.repeat(32) }).bytes],
    ['LENGTH_MISMATCH', seal({ numParams: 15 }, { w: weights(15) }).bytes],
    ['STALE_MANIFEST', seal({ manifestVersion: 1 }).bytes],
    ['SELF', seal({}, { from: bob }).bytes],
    ['NOT_A_MEMBER', seal({}, { from: mallory }).bytes],
    ['UNKNOWN_EPOCH', seal({ keyEpoch: 9 }).bytes],
    ['STALE_ROUND', seal({ round: 6 }).bytes],
    ['FUTURE_ROUND', seal({ round: 12 }).bytes],
    ['DECRYPTION_FAILED', seal({ keyEpoch: 2 }, { key: epochKeys.get(1) }).bytes],
    ['NORM_BOUND', seal({}, { w: new Float32Array(NUM_PARAMS).fill(30) }).bytes]
  ]
  const unsupported = new Uint8Array(ok.bytes); unsupported[2] = 4
  cases.push(['UNSUPPORTED_VERSION', unsupported])
  const version2 = new Uint8Array(ok.bytes); version2[2] = 2 // the 32-bit sequence format
  cases.push(['UNSUPPORTED_VERSION', version2])
  const version1 = new Uint8Array(ok.bytes); version1[2] = 1 // the unreleased SHA-256 format of session 1
  cases.push(['UNSUPPORTED_VERSION', version1])
  const kind = new Uint8Array(ok.bytes); kind[3] = 3
  cases.push(['UNSUPPORTED_VERSION', resign(kind)])
  const badSig = new Uint8Array(ok.bytes); badSig[2 + ((ok.bytes[0] << 8) | ok.bytes[1]) + 5] ^= 4
  cases.push(['BAD_SIGNATURE', badSig])
  const badCt = new Uint8Array(ok.bytes); badCt[badCt.length - 1] ^= 1
  cases.push(['BAD_PAYLOAD_HASH', badCt])
  // NaN in a float32 payload, sealed by a member: refused after decryption
  const nanPayload = new Uint8Array(new Float32Array(NUM_PARAMS).fill(NaN).buffer)
  cases.push(['NON_FINITE', sealUpdate(fields(), { codec: { name: 'float32' }, payload: nanPayload }, { signer: createSigner(alice), epochKey: epochKeys.get(1)! }).bytes])
  const infPayload = new Uint8Array(new Float32Array(NUM_PARAMS).fill(1).buffer); new DataView(infPayload.buffer).setFloat32(8, -Infinity, true)
  cases.push(['NON_FINITE', sealUpdate(fields(), { codec: { name: 'float32' }, payload: infPayload }, { signer: createSigner(alice), epochKey: epochKeys.get(1)! }).bytes])
  // push-sum weight NaN and negative, header edited and re-signed
  const psw = new Uint8Array(ok.bytes); new DataView(psw.buffer).setFloat64(2 + 122, NaN)
  cases.push(['NON_FINITE', resign(psw)])
  new DataView(psw.buffer).setFloat64(2 + 122, -1)
  cases.push(['MALFORMED', resign(psw)])
  // header edited and re-signed by the sender: the sealed binding no longer matches
  const round = new Uint8Array(ok.bytes); new DataView(round.buffer).setUint32(2 + 74, 11)
  cases.push(['DECRYPTION_FAILED', resign(round)])
  // ciphertext replaced by one under the right key but for another header, re-hashed and re-signed
  const other = seal({ round: 9 })
  const hl = (ok.bytes[0] << 8) | ok.bytes[1]
  const swapped = new Uint8Array(ok.bytes); swapped.set(other.bytes.subarray(2 + hl + 64), 2 + hl + 64)
  cases.push(['DECRYPTION_FAILED', rehashAndResign(swapped, payloadHashOffset({ name: 'float32' }))])
  for (const [expected, bytes] of cases) {
    const r = v().validate(bytes, { round: 10 })
    assert.equal(reason(r), expected)
    assert.ok(!r.ok && REFUSAL_REASONS.includes(r.reason), 'expected !r.ok && REFUSAL_REASONS.includes(r.reason)')
  }
  assert.equal(gossipVerdict('BAD_SIGNATURE'), 'reject')
  assert.equal(gossipVerdict('REPLAYED'), 'ignore')
})

test('replay, equivocation (with evidence) and the replay window', () => {
  const replay = createMemoryReplayGuard({ window: 4 })
  const v = validator({}, replay)
  const first = seal({ seq: 5 })
  const r1 = v.validate(first.bytes)
  assert.ok(r1.ok, 'expected r1.ok')
  replay.commit(r1.header.sender, r1.header.seq, r1.id)
  assert.equal(reason(v.validate(first.bytes)), 'REPLAYED')
  const twin = seal({ seq: 5, exampleCount: 999 })
  const r2 = v.validate(twin.bytes)
  assert.equal(reason(r2), 'EQUIVOCATION')
  assert.ok(!r2.ok && r2.previousId === first.id && r2.id === twin.id, 'expected !r2.ok && r2.previousId === first.id && r2.id === twin.id')
  // an unsigned "equivocation" is just a bad signature, never evidence
  const forged = new Uint8Array(twin.bytes); forged[2 + ((forged[0] << 8) | forged[1])] ^= 1
  assert.equal(reason(v.validate(forged)), 'BAD_SIGNATURE')
  // out of order inside the window is fine; beyond it is REPLAYED
  const kept = new Map<number, Uint8Array>()
  for (const seq of [9, 7]) {
    kept.set(seq, seal({ seq }).bytes)
    const r = v.validate(kept.get(seq)!)
    assert.ok(r.ok, 'expected r.ok')
    replay.commit(r.header.sender, r.header.seq, r.id)
  }
  assert.equal(reason(v.validate(seal({ seq: 4 }).bytes)), 'REPLAYED')
  assert.ok(v.validate(seal({ seq: 6 }).bytes).ok, 'expected v.validate(seal({ seq: 6 }).bytes).ok')
  // marks survive a restart
  const restored = createMemoryReplayGuard({ window: 4, marks: replay.marks() })
  assert.equal(reason(validator({}, restored).validate(kept.get(9)!)), 'REPLAYED')
  assert.equal(reason(validator({}, restored).validate(seal({ seq: 9 }).bytes)), 'EQUIVOCATION')
  assert.equal(restored.mark(toHex(alice.signPublicKey))?.highWater, 9)
  assert.equal(restored.mark(toHex(bob.signPublicKey)), null)
})

test('flipping any single bit of a valid envelope makes it refused', () => {
  const s = seal({ numParams: 2, parents: [] }, { w: new Float32Array([1, -1]) })
  const v = validator({ numParams: 2 })
  assert.ok(v.validate(s.bytes).ok, 'expected v.validate(s.bytes).ok')
  const seen = new Set<string>()
  for (let byte = 0; byte < s.bytes.length; byte++) {
    for (let bit = 0; bit < 8; bit++) {
      const m = new Uint8Array(s.bytes)
      m[byte] ^= 1 << bit
      const r = v.validate(m)
      assert.equal(r.ok, false, `bit ${bit} of byte ${byte} accepted`)
      assert.ok(!r.ok && REFUSAL_REASONS.includes(r.reason) && !r.detail.startsWith('validator error'), 'expected !r.ok && REFUSAL_REASONS.includes(r.reason) && !r.detail.startsWith(\'validator error\')')
      seen.add(r.reason)
    }
  }
  assert.ok(seen.has('BAD_SIGNATURE') && seen.has('BAD_PAYLOAD_HASH') && seen.has('WRONG_NETWORK'), 'expected seen.has(\'BAD_SIGNATURE\') && seen.has(\'BAD_PAYLOAD_HASH\') && seen.has(\'WRONG_NETWORK\')')
})

test('verifyEnvelopeSignature checks provenance without the group key', () => {
  const s = seal()
  const r = verifyEnvelopeSignature(s.bytes)
  assert.ok(r.ok && r.id === s.id, 'expected r.ok && r.id === s.id')
  const bad = new Uint8Array(s.bytes); bad[bad.length - 3] ^= 8
  const rb = verifyEnvelopeSignature(bad)
  assert.ok(!rb.ok && rb.reason === 'BAD_PAYLOAD_HASH', 'expected !rb.ok && rb.reason === \'BAD_PAYLOAD_HASH\'')
  assert.equal(verifyEnvelopeSignature(s.bytes.subarray(0, 10)).ok, false)
})

test('sealUpdate refuses bad fields of our own with InvalidUpdateFieldError', () => {
  const enc = createEncoder({ name: 'float32' }).encode(weights())
  const opts = { signer: createSigner(alice), epochKey: epochKeys.get(1)! }
  for (const bad of [{ round: -1 }, { seq: 2 ** 53 }, { seq: 1.5 }, { networkId: 'abc' }, { pushSumWeight: NaN }, { numParams: 3 }, { parents: Array(17).fill('00'.repeat(32)) }]) {
    assert.throws(() => sealUpdate(fields(bad), enc, opts), (e: Error) => e.name === 'InvalidUpdateFieldError', JSON.stringify(bad).slice(0, 40))
  }
})

test('validate never throws, whatever it is given', () => {
  const v = validator()
  for (const junk of [null, undefined, 'text', 42, {}, new Uint16Array(300), new Uint8Array(300)] as unknown[]) {
    const r = v.validate(junk as Uint8Array)
    assert.ok(!r.ok && r.reason === 'MALFORMED' && !r.detail.startsWith('validator error'), r.ok ? 'accepted' : `${r.reason}: ${r.detail}`)
  }
})
