import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateIdentity, toHex, fromHex, openSealedKey, type Identity } from '../../crypto/index.js'
import {
  createNetwork, addMember, removeMember, parseMember, memberString, acceptManifest, verifyManifest, createKeyring,
  openEpochKey, signManifest, addAdmin, setThreshold, setRuleParams, rotateEpoch, parseManifest, serializeManifest,
  isMember, OPEN_NETWORK_WARNING, type NetworkManifest
} from '../../protocol/membership/index.js'
import { createRng } from '../../protocol/rng.js'
import {
  sealUpdate, createValidator, createMemoryReplayGuard, type MembershipView, type SealedUpdate, type Validator
} from '../../protocol/messages/index.js'
import { createEncoder, type CodecSpec } from '../../protocol/codecs/index.js'
import { createSigner } from '../../crypto/index.js'

const rng = createRng(555).fork('membership')
const ids = Array.from({ length: 4 }, () => generateIdentity(rng.bytes(32)))
const [admin, bob, carol, dave] = ids
const key = (i: Identity): string => toHex(i.signPublicKey)
const rnd = (n: number): Uint8Array => rng.bytes(n)

/** A float32 (or `codec`) update of `w` on network `m`, sealed by `from` under key epoch `keyEpoch`. */
function sealOn (m: NetworkManifest, from: Identity, keyEpoch: number, epochKey: Uint8Array, w: Float32Array,
  manifestVersion = m.version, codec: CodecSpec = { name: 'float32' }): SealedUpdate {
  return sealUpdate({ networkId: m.id, manifestVersion, keyEpoch, schemaHash: m.dataset.schemaHash, round: 0, seq: 0, exampleCount: 1, pushSumWeight: 1, numParams: w.length },
    createEncoder(codec).encode(w), { signer: createSigner(from), epochKey })
}

function validatorOn (m: NetworkManifest, membership: MembershipView, numParams: number): Validator {
  return createValidator({ networkId: m.id, schemaHash: m.dataset.schemaHash, numParams, membership, replay: createMemoryReplayGuard(), maxBytes: 1 << 20 })
}

function base (): NetworkManifest {
  return createNetwork({
    name: 'motor-pricing', model: { kind: 'glm', features: 12 }, dataset: { spec: { columns: ['a', 'b'] } },
    rule: { name: 'push-sum', params: { fanout: 2 } }, creator: admin, randomBytes: rnd
  })
}

test('a new network is version 1, self-signed, with epoch 1 sealed to its creator', () => {
  const m = base()
  assert.equal(m.version, 1)
  assert.deepEqual(m.admins, [key(admin)])
  assert.equal(m.members[0].boxKey, toHex(admin.boxPublicKey))
  assert.equal(m.epochs.length, 1)
  assert.equal(acceptManifest(null, m), m)
  assert.equal(openEpochKey(m, 1, admin).length, 32)
  assert.match(m.dataset.schemaHash, /^[0-9a-f]{64}$/)
  assert.deepEqual(parseManifest(serializeManifest(m)), m)
})

test('members join and leave through signed higher versions; a removed member cannot open the new epoch', () => {
  const v1 = base()
  const v2 = addMember(v1, parseMember(memberString(bob)), admin, rnd)
  assert.equal(acceptManifest(v1, v2).version, 2)
  const v3 = addMember(v2, parseMember(key(carol)), admin, rnd) // bare signing key: box key by conversion
  acceptManifest(v2, v3)
  assert.deepEqual(openEpochKey(v3, 1, carol), openEpochKey(v3, 1, admin))
  assert.deepEqual(openEpochKey(v3, 1, bob), openEpochKey(v3, 1, admin))
  const v4 = removeMember(v3, key(bob), admin, rnd)
  acceptManifest(v3, v4)
  assert.equal(v4.epochs.length, 2)
  assert.equal(isMember(v4, key(bob)), false)
  assert.throws(() => openEpochKey(v4, 2, bob), (e: Error) => e.name === 'EpochKeyError')
  assert.notDeepEqual(openEpochKey(v4, 2, carol), openEpochKey(v4, 1, carol))
  // even with bob's keys, no sealed entry of epoch 2 opens
  assert.equal(v4.epochs[1].keys.length, 2)
  for (const entry of v4.epochs[1].keys) {
    assert.notEqual(entry.member, key(bob))
    assert.equal(openSealedKey(fromHex(entry.sealed), bob), null)
  }
  assert.throws(() => createKeyring(v4, { identity: bob }), (e: Error) => e.name === 'EpochKeyError')
  const ring = createKeyring(v4, { identity: carol })
  assert.equal(ring.currentEpoch, 2)
  assert.equal(ring.isMember(key(bob)), false)
  assert.equal(ring.isMember(key(carol)), true)
  assert.ok(ring.epochKey(1) != null && ring.epochKey(2) != null && ring.epochKey(3) == null, 'expected ring.epochKey(1) != null && ring.epochKey(2) != null && ring.epochKey(3) == null')
  // an update from the removed member is refused even if made under the old epoch
  const numParams = 4
  const s = sealOn(v4, bob, 1, openEpochKey(v3, 1, bob), new Float32Array(numParams), 3)
  const validator = validatorOn(v4, ring, numParams)
  const r = validator.validate(s.bytes)
  assert.ok(!r.ok && r.reason === 'NOT_A_MEMBER', 'expected !r.ok && r.reason === \'NOT_A_MEMBER\'')
  const s2 = sealOn(v4, carol, 2, ring.epochKey(2)!, new Float32Array(numParams))
  assert.ok(validator.validate(s2.bytes).ok, 'expected validator.validate(s2.bytes).ok')
})

test('only valid higher versions are accepted', () => {
  const v1 = base()
  const v2 = addMember(v1, parseMember(memberString(bob)), admin, rnd)
  assert.throws(() => acceptManifest(v2, v1), (e: Error) => e.name === 'StaleManifestError')
  assert.throws(() => acceptManifest(v2, v2), (e: Error) => e.name === 'StaleManifestError')
  // a non-admin signs a change: refused
  const forged = signManifest({ ...addMember(v1, parseMember(memberString(carol)), admin, rnd), signatures: [] }, bob)
  assert.throws(() => acceptManifest(v1, forged), (e: Error) => e.name === 'ManifestSignatureError')
  // content changed after signing: refused
  const tampered = structuredClone(v2)
  tampered.rule.params.fanout = 99
  assert.throws(() => acceptManifest(v1, tampered), (e: Error) => e.name === 'ManifestSignatureError')
  // a later version without its predecessor is refused
  assert.throws(() => acceptManifest(null, v2), (e: Error) => e.name === 'StaleManifestError')
  // different network
  assert.throws(() => acceptManifest(base(), v2), (e: Error) => e.name === 'StaleManifestError')
  // a tampered epoch record is caught by its own signature
  const badEpoch = structuredClone(v2)
  badEpoch.epochs[0].keys.reverse()
  assert.throws(() => verifyManifest(badEpoch, v1), (e: Error) => e.name === 'ManifestSignatureError')
})

test('k-of-n: with threshold 2 a change needs two admins of the previous version', () => {
  let m = base()
  m = addMember(m, parseMember(memberString(bob)), admin, rnd)
  m = addMember(m, parseMember(memberString(carol)), admin, rnd)
  m = addAdmin(m, key(bob), admin)
  const twoAdmins = m
  const v = setThreshold(m, 2, admin)
  acceptManifest(twoAdmins, v)
  const change = setRuleParams(v, { fanout: 3, old: null }, admin)
  assert.throws(() => acceptManifest(v, change), (e: Error) => e.name === 'ManifestSignatureError')
  const both = signManifest(change, bob)
  assert.equal(acceptManifest(v, both).rule.params.fanout, 3)
  // two signatures from the same admin count once
  const dup = { ...change, signatures: [...change.signatures, ...change.signatures] }
  assert.throws(() => acceptManifest(v, dup), (e: Error) => e.name === 'ManifestSignatureError')
  assert.throws(() => setThreshold(v, 3, admin), (e: Error) => e.name === 'MembershipChangeError')
  assert.throws(() => addMember(v, parseMember(memberString(dave)), carol, rnd), (e: Error) => e.name === 'MembershipChangeError')
  const rotated = signManifest(rotateEpoch(both, admin, rnd), bob)
  acceptManifest(both, rotated)
  assert.equal(createKeyring(rotated, { identity: carol }).currentEpoch, 2)
})

test('open networks derive their key from the passphrase and carry the warning', () => {
  const m = createNetwork({ name: 'open', model: {}, dataset: { spec: {} }, rule: { name: 'mean' }, creator: admin, open: { passphrase: 'correct horse battery', N: 1024 }, randomBytes: rnd })
  acceptManifest(null, m)
  assert.equal(m.members.length, 0)
  const a = createKeyring(m, { passphrase: 'correct horse battery' })
  const b = createKeyring(m, { passphrase: 'correct horse battery' })
  assert.equal(a.warning, OPEN_NETWORK_WARNING)
  assert.match(a.warning ?? '', /anyone holding the passphrase can read/)
  assert.deepEqual(a.epochKey(1), b.epochKey(1))
  assert.notDeepEqual(createKeyring(m, { passphrase: 'wrong horse battery' }).epochKey(1), a.epochKey(1))
  assert.equal(a.isMember(key(dave)), true)
  assert.throws(() => createKeyring(m), (e: Error) => e.name === 'EpochKeyError')
})

test('manifest parse errors name the file and the field', () => {
  const m = base()
  const bad = JSON.parse(serializeManifest(m))
  bad.members[0].boxKey = 'xyz'
  assert.throws(() => parseManifest(JSON.stringify(bad), 'network.json'), (e: Error) => e.name === 'ManifestFormatError' && /network\.json: field members\.0\.boxKey/.test(e.message))
  assert.throws(() => parseManifest('{not json', 'n.json'), (e: Error) => e.name === 'ManifestFormatError' && /n\.json: not valid JSON/.test(e.message))
  const extra = { ...JSON.parse(serializeManifest(m)), surprise: 1 }
  assert.throws(() => parseManifest(extra), (e: Error) => e.name === 'ManifestFormatError')
  assert.throws(() => parseMember('member:zz:yy'), (e: Error) => e.name === 'MembershipChangeError')
  assert.throws(() => removeMember(m, key(admin), admin, rnd), (e: Error) => e.name === 'MembershipChangeError')
})

test('a removed member holding every key it ever had cannot read an update sealed under the new epoch', () => {
  const v1 = base()
  const v2 = addMember(addMember(v1, parseMember(memberString(bob)), admin, rnd), parseMember(memberString(carol)), admin, rnd)
  const oldKey = openEpochKey(v2, 1, bob)
  const v3 = removeMember(v2, key(bob), admin, rnd)
  const carolRing = createKeyring(v3, { identity: carol })
  const numParams = 3
  const sealed = sealOn(v3, carol, carolRing.currentEpoch, carolRing.epochKey(2)!, new Float32Array([1, 2, 3]))
  const asBob = (epochKey: (e: number) => Uint8Array | null) => validatorOn(v3, { isMember: () => true, epochKey }, numParams).validate(sealed.bytes)
  const noKey = asBob((e) => (e === 1 ? oldKey : null))
  assert.ok(!noKey.ok && noKey.reason === 'UNKNOWN_EPOCH', 'expected !noKey.ok && noKey.reason === \'UNKNOWN_EPOCH\'')
  const wrongKey = asBob(() => oldKey) // even trying the old key on the new epoch
  assert.ok(!wrongKey.ok && wrongKey.reason === 'DECRYPTION_FAILED', 'expected !wrongKey.ok && wrongKey.reason === \'DECRYPTION_FAILED\'')
  const asCarol = validatorOn(v3, carolRing, numParams).validate(sealed.bytes)
  assert.ok(asCarol.ok, 'expected asCarol.ok')
})

test('open network: members of the passphrase seal and read each other\'s updates; a wrong passphrase cannot', () => {
  const m = createNetwork({ name: 'open', model: {}, dataset: { spec: {} }, rule: { name: 'mean' }, creator: admin, open: { passphrase: 'open sesame 123', N: 1024 }, randomBytes: rnd })
  const ring = createKeyring(m, { passphrase: 'open sesame 123' })
  const sealed = sealOn(m, dave, ring.currentEpoch, ring.epochKey(1)!, new Float32Array([0.5, -0.5]), 1, { name: 'float16' })
  const validate = (passphrase: string) => validatorOn(m, createKeyring(m, { passphrase }), 2).validate(sealed.bytes)
  const good = validate('open sesame 123')
  assert.ok(good.ok && good.weights[0] === 0.5, 'expected good.ok && good.weights[0] === 0.5')
  const bad = validate('open sesame 124')
  assert.ok(!bad.ok && bad.reason === 'DECRYPTION_FAILED', 'expected !bad.ok && bad.reason === \'DECRYPTION_FAILED\'')
})
