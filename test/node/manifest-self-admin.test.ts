/**
 * A member that is not an admin makes itself admin and signs the next version alone: refused as BAD_SIGNATURE,
 * which gossipsub answers with Reject (it costs the sender score). The same self-signed manifest two or more
 * versions ahead stays STALE_MANIFEST (ignore): an honest peer that skipped an admin change cannot tell it from
 * a real later version, and punishing it would graylist the honest neighbours that re-announce the current one.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateIdentity, toHex } from '../../crypto/index.js'
import {
  createNetwork, addMember, parseMember, memberString, signManifest, checkManifestUpdate, checkManifestAnnouncement,
  encodeManifestAnnouncement, type NetworkManifest
} from '../../protocol/membership/index.js'
import { gossipVerdict } from '../../protocol/interfaces.js'
import { createRng } from '../../protocol/rng.js'

const rng = createRng(1414).fork('self-admin')
const [admin, bob] = Array.from({ length: 2 }, () => generateIdentity(rng.bytes(32)))
const rnd = (n: number): Uint8Array => rng.bytes(n)

/** Bob's forgery: `ahead` versions past `m`, bob added to the admins, threshold 1, signed by bob alone. */
function selfMadeAdmin (m: NetworkManifest, ahead: number): NetworkManifest {
  const body: NetworkManifest = { ...structuredClone(m), version: m.version + ahead, admins: [...m.admins, toHex(bob.signPublicKey)], threshold: 1, signatures: [] }
  return signManifest(body, bob)
}

test('a self-made admin manifest for the next version is BAD_SIGNATURE and gossipsub rejects it', () => {
  const v2 = addMember(createNetwork({
    name: 'self-admin', model: { kind: 'softmax' }, dataset: { spec: { columns: ['a'] } }, rule: { name: 'epidemic', params: { fanout: 2 } }, creator: admin, randomBytes: rnd
  }), parseMember(memberString(bob)), admin, rnd)
  const forged = selfMadeAdmin(v2, 1)
  const direct = checkManifestUpdate(v2, forged)
  assert.equal(!direct.ok && direct.reason, 'BAD_SIGNATURE', `operator path: ${JSON.stringify(direct)}`)
  assert.match(!direct.ok ? direct.detail : '', /self-made admin set/, 'the detail names what is wrong')
  const gossip = checkManifestAnnouncement(v2, encodeManifestAnnouncement(forged, 1))
  assert.equal(!gossip.ok && gossip.reason, 'BAD_SIGNATURE', `gossip path: ${JSON.stringify(gossip)}`)
  assert.equal(gossipVerdict(!gossip.ok && gossip.reason != null ? gossip.reason : null), 'reject', 'a forged manifest costs the sender score')

  const gap = checkManifestUpdate(v2, selfMadeAdmin(v2, 2))
  assert.equal(!gap.ok && gap.reason, 'STALE_MANIFEST', 'two versions ahead: maybe this peer is behind')
  assert.equal(gossipVerdict('STALE_MANIFEST'), 'ignore', 'a peer that is behind does not punish its neighbours')
})
