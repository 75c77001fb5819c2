/**
 * Live manifest changes, without processes: the checks a daemon runs on a candidate version (cheapest first,
 * named refusals), the gossip announcement, and the daemon's live keyring under the real sealer and validator
 * (a member removed by version 2 is NOT_A_MEMBER at the others and UNKNOWN_EPOCH for the new epoch).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateIdentity, toHex, createSigner, type Identity } from '../../crypto/index.js'
import {
  createNetwork, addMember, removeMember, parseMember, memberString, createKeyring, checkManifestUpdate, checkManifestAnnouncement,
  encodeManifestAnnouncement, serializeManifest, signManifest, addAdmin, setThreshold, setRuleParams, conflictingManifests,
  MANIFEST_ANNOUNCE_MAX_BYTES, manifestAnnouncement, manifestHash, type NetworkManifest
} from '../../protocol/membership/index.js'
import { createMemoryReplayGuard } from '../../protocol/messages/index.js'
import { sealedEnvelopes } from '../../protocol/engine/index.js'
import { createRng } from '../../protocol/rng.js'
import { LiveKeyring } from '../../node/wiring.js'

const rng = createRng(9106).fork('manifest-update')
const [admin, bob, carol, mallory] = Array.from({ length: 4 }, () => generateIdentity(rng.bytes(32)))
const rnd = (n: number): Uint8Array => rng.bytes(n)
const key = (i: Identity): string => toHex(i.signPublicKey)
const enc = new TextEncoder()
const bytesOf = (m: NetworkManifest): Uint8Array => enc.encode(serializeManifest(m))

function network (): { v1: NetworkManifest, v2: NetworkManifest, v3: NetworkManifest } {
  let m = createNetwork({
    name: 'live', model: { kind: 'softmax' }, dataset: { spec: { columns: ['a'] } }, rule: { name: 'epidemic', params: { fanout: 2 } }, creator: admin, randomBytes: rnd
  })
  m = addMember(m, parseMember(memberString(bob)), admin, rnd)
  const v1 = { ...addMember(m, parseMember(memberString(carol)), admin, rnd), version: 1 }
  // a genesis with three members: re-sign version 1 (the test only needs a signed starting point)
  const genesis = signManifest({ ...v1, signatures: [] }, admin)
  const v2 = removeMember(genesis, key(carol), admin, rnd)
  const v3 = setRuleParams(v2, { fanout: 3 }, admin)
  return { v1: genesis, v2, v3 }
}

test('a strictly higher version signed by the current admins is accepted; older, equal and replayed versions are STALE_MANIFEST', () => {
  const { v1, v2, v3 } = network()
  const ok = checkManifestUpdate(v1, bytesOf(v2))
  assert.equal(ok.ok, true)
  assert.equal(ok.ok && ok.manifest.version, 2)
  // skipping a version is fine while the admins stay the same
  assert.equal(checkManifestUpdate(v1, bytesOf(v3)).ok, true)
  for (const [current, candidate] of [[v2, v1], [v2, v2], [v3, v2]] as const) {
    const r = checkManifestUpdate(current, bytesOf(candidate))
    assert.equal(r.ok, false)
    assert.equal(!r.ok && r.reason, 'STALE_MANIFEST')
    assert.equal(!r.ok && r.version, candidate.version)
    assert.equal(!r.ok && r.same, current === candidate ? true : undefined)
  }
  // two different manifests signed under one version number: refused, and flagged as not the same
  const rival = setRuleParams(v1, { fanout: 7 }, admin)
  const conflict = checkManifestUpdate(v2, bytesOf(rival))
  assert.equal(!conflict.ok && conflict.reason, 'STALE_MANIFEST')
  assert.equal(!conflict.ok && conflict.same, false)
})

test('bad signatures, other networks, junk and oversized input are refused with a named reason', () => {
  const { v1, v2 } = network()
  // a member that is not an admin signs a change
  const forged = signManifest({ ...removeMember(v1, key(carol), admin, rnd), signatures: [] }, bob)
  assert.deepEqual(pick(checkManifestUpdate(v1, bytesOf(forged))), ['BAD_SIGNATURE'])
  // the admin's signature over different content (a member smuggled in after signing)
  const tampered = { ...v2, members: [...v2.members, parseMember(memberString(mallory))] }
  assert.deepEqual(pick(checkManifestUpdate(v1, bytesOf(tampered))), ['MALFORMED']) // current epoch not sealed to mallory: inconsistent
  const tamperedName = { ...v2, name: 'renamed' }
  assert.deepEqual(pick(checkManifestUpdate(v1, bytesOf(tamperedName))), ['BAD_SIGNATURE'])
  // a flipped signature byte
  const sig = v2.signatures[0].signature
  const flipped = { ...v2, signatures: [{ ...v2.signatures[0], signature: (sig[0] === '0' ? '1' : '0') + sig.slice(1) }] }
  assert.deepEqual(pick(checkManifestUpdate(v1, bytesOf(flipped))), ['BAD_SIGNATURE'])
  // another network, even validly signed
  const other = createNetwork({ name: 'other', model: {}, dataset: { spec: {} }, rule: { name: 'epidemic' }, creator: admin, randomBytes: rnd })
  assert.deepEqual(pick(checkManifestUpdate(v1, bytesOf({ ...other, version: 5 }))), ['WRONG_NETWORK'])
  // junk, checked before any signature work
  assert.deepEqual(pick(checkManifestUpdate(v1, enc.encode('{not json'))), ['MALFORMED'])
  assert.deepEqual(pick(checkManifestUpdate(v1, new Uint8Array([0xff, 0xfe, 0x7b]))), ['MALFORMED'])
  assert.deepEqual(pick(checkManifestUpdate(v1, enc.encode('[1,2]'))), ['MALFORMED'])
  assert.deepEqual(pick(checkManifestUpdate(v1, enc.encode(JSON.stringify({ id: v1.id, version: '2' })))), ['MALFORMED'])
  assert.deepEqual(pick(checkManifestUpdate(v1, enc.encode(JSON.stringify({ id: v1.id, version: 2, members: 'x' })))), ['MALFORMED'])
  assert.deepEqual(pick(checkManifestUpdate(v1, new Uint8Array(4097), { maxBytes: 4096 })), ['OVERSIZED'])
  // the size is checked before decoding: a huge buffer of garbage is OVERSIZED, not MALFORMED
  assert.deepEqual(pick(checkManifestUpdate(v1, new Uint8Array(5 * 1024 * 1024).fill(0x7b))), ['OVERSIZED'])
})

test('k of n: a change needs threshold signatures of the current admins; a version signed by admins this peer has not seen is ignored, not punished', () => {
  const { v1 } = network()
  const v2 = addAdmin(v1, key(bob), admin)
  const v3 = setThreshold(v2, 2, admin)
  const v4one = setRuleParams(v3, { fanout: 4 }, admin)
  assert.deepEqual(pick(checkManifestUpdate(v3, bytesOf(v4one))), ['BAD_SIGNATURE'])
  const v4 = signManifest(v4one, bob)
  assert.equal(checkManifestUpdate(v3, bytesOf(v4)).ok, true)
  // v1 -> v5 where v5 is signed only by bob, an admin since v2 (not an admin of v1): this peer is behind
  const v5 = signManifest({ ...setRuleParams(v4, { fanout: 5 }, bob), signatures: [] }, bob)
  const r = checkManifestUpdate(v1, bytesOf({ ...v5, threshold: 1 }))
  assert.equal(r.ok, false)
  // threshold changed after signing: the signature no longer covers it -> BAD_SIGNATURE (forged)
  assert.equal(!r.ok && r.reason, 'BAD_SIGNATURE')
  const v5b = signManifest({ ...setThreshold(v4, 1, bob), signatures: [] }, bob)
  const behind = checkManifestUpdate(v1, bytesOf(v5b))
  assert.equal(!behind.ok && behind.reason, 'STALE_MANIFEST')
  assert.match(!behind.ok ? behind.detail : '', /has not seen/)
})

test('the gossip announcement carries the manifest, is bounded, and is checked like an operator\'s', () => {
  const { v1, v2 } = network()
  const a = encodeManifestAnnouncement(v2, 1)
  const b = encodeManifestAnnouncement(v2, 2)
  assert.notDeepEqual(a, b) // distinct gossipsub message ids for re-announcements
  assert.ok(a.length < MANIFEST_ANNOUNCE_MAX_BYTES, 'expected a.length < MANIFEST_ANNOUNCE_MAX_BYTES')
  const r = checkManifestAnnouncement(v1, a)
  assert.equal(r.ok && r.manifest.version, 2)
  assert.equal(r.ok && !conflictingManifests(r.manifest, v2), true)
  assert.deepEqual(pick(checkManifestAnnouncement(v2, a)), ['STALE_MANIFEST'])
  assert.deepEqual(pick(checkManifestAnnouncement(v1, bytesOf(v2))), ['MALFORMED']) // not wrapped
  assert.deepEqual(pick(checkManifestAnnouncement(v1, new Uint8Array(MANIFEST_ANNOUNCE_MAX_BYTES + 1))), ['OVERSIZED'])
  assert.equal(conflictingManifests(v2, setRuleParams(v1, { fanout: 9 }, admin)), true)
  // a manifest too large to announce goes out as a notice: the receiver fetches it from the sender
  const big = manifestAnnouncement(v2, 3, 1000)
  assert.equal(big.notice, true)
  assert.ok(big.bytes.length < 300, 'expected big.bytes.length < 300')
  const n = checkManifestAnnouncement(v1, big.bytes)
  assert.ok(!n.ok && n.reason === null && 'fetch' in n, 'expected !n.ok && n.reason === null && \'fetch\' in n')
  assert.deepEqual(!n.ok && 'fetch' in n ? n.fetch : null, { version: 2, hash: manifestHash(v2) })
  const held = checkManifestAnnouncement(v2, big.bytes)
  assert.equal(!held.ok && held.reason === 'STALE_MANIFEST' && held.same, true)
  assert.equal(pick(checkManifestAnnouncement(v3like(v2), big.bytes))[0], 'STALE_MANIFEST')
  const foreign = JSON.parse(new TextDecoder().decode(big.bytes))
  assert.deepEqual(pick(checkManifestAnnouncement(v1, enc.encode(JSON.stringify({ ...foreign, id: 'ab'.repeat(32) })))), ['WRONG_NETWORK'])
  assert.deepEqual(pick(checkManifestAnnouncement(v1, enc.encode(JSON.stringify({ ...foreign, version: -1 })))), ['MALFORMED'])
  assert.deepEqual(pick(checkManifestAnnouncement(v1, enc.encode(JSON.stringify({ ...foreign, hash: 'zz' })))), ['MALFORMED'])
  assert.equal(manifestAnnouncement(v2, 3).notice, false)
})

test('a live keyring swap: the remaining members seal under the new epoch, the removed member is NOT_A_MEMBER and cannot read it', async () => {
  const { v1, v2 } = network()
  const numParams = 8
  const schemaHash = v1.dataset.schemaHash
  const liveA = new LiveKeyring(createKeyring(v1, { identity: admin }))
  const liveB = new LiveKeyring(createKeyring(v1, { identity: bob }))
  const liveC = new LiveKeyring(createKeyring(v1, { identity: carol }))
  const envelopes = (id: Identity, k: LiveKeyring) => sealedEnvelopes({ networkId: v1.id, schemaHash, numParams, maxBytes: 1 << 16 })({ signer: createSigner(id), membership: k })
  const A = envelopes(admin, liveA)
  const B = envelopes(bob, liveB)
  const C = envelopes(carol, liveC)
  const w = new Float32Array(numParams).fill(0.5)
  const fields = (seq: number) => ({ kind: 0 as const, round: 1, seq, examples: 10, weight: 1, parents: [] })
  const open = async (e: typeof A, bytes: Uint8Array) => await e.open(bytes, { from: 'x', round: 1, replay: createMemoryReplayGuard() })
  // version 1: everyone reads everyone
  assert.equal((await open(A, (await C.seal(fields(0), w)).bytes)).ok, true)

  // version 2 adopted by A and B (the daemon: checkManifestUpdate, then swap); C learns it too
  const check = checkManifestUpdate(liveA.manifest, bytesOf(v2))
  assert.ok(check.ok, 'expected check.ok')
  liveA.swap(createKeyring(check.manifest, { identity: admin }))
  liveB.swap(createKeyring(check.manifest, { identity: bob }))
  assert.throws(() => createKeyring(check.manifest, { identity: carol }), (e: Error) => e.name === 'EpochKeyError')
  liveC.swap(createKeyring(check.manifest, { identity: carol, allowMissingCurrent: true }))
  assert.equal(liveA.currentEpoch, 2)
  assert.equal(liveA.manifest.version, 2)

  const fromA = await A.seal(fields(1), w)
  const atB = await open(B, fromA.bytes)
  assert.equal(atB.ok, true)
  // C's updates, under any epoch it holds, are refused by the remaining members
  const oldKeyring = createKeyring(v1, { identity: carol })
  const cOld = await envelopes(carol, new LiveKeyring(oldKeyring)).seal(fields(2), w)
  assert.equal(pick2(await open(A, cOld.bytes)), 'NOT_A_MEMBER')
  assert.equal(pick2(await open(B, cOld.bytes)), 'NOT_A_MEMBER')
  // C cannot read the new epoch, and cannot seal under it
  assert.equal(liveC.epochKey(2), null)
  assert.notEqual(liveC.epochKey(1), null) // old epochs stay readable (history)
  assert.equal(pick2(await open(C, fromA.bytes)), 'UNKNOWN_EPOCH')
  await assert.rejects(async () => await C.seal(fields(3), w), (e: Error) => e.name === 'NoEpochKeyError')
  // a swap across networks is refused
  const other = createNetwork({ name: 'o', model: {}, dataset: { spec: {} }, rule: { name: 'epidemic' }, creator: admin, randomBytes: rnd })
  assert.throws(() => liveA.swap(createKeyring(other, { identity: admin })), /across networks/)
})

function v3like (m: NetworkManifest): NetworkManifest {
  return setRuleParams(m, { fanout: 11 }, admin)
}

function pick (r: ReturnType<typeof checkManifestAnnouncement>): string[] {
  return r.ok ? ['ok'] : [r.reason ?? 'fetch']
}
function pick2 (r: { ok: boolean, reason?: string }): string {
  return r.ok ? 'ok' : String(r.reason)
}
