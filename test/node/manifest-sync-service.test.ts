/**
 * The manifest-sync service over a fake ServiceNetwork (no libp2p): what it registers and removes, the topic
 * validator's verdicts, announcements, self-removal, and a stop that waits for the adoption in progress.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import pino from 'pino'
import { peerIdFromString } from '@libp2p/peer-id'
import { generateIdentity, toHex, type Identity } from '../../crypto/index.js'
import {
  createNetwork, addMember, removeMember, parseMember, memberString, createKeyring, encodeManifestAnnouncement, serializeManifest, type NetworkManifest
} from '../../protocol/membership/index.js'
import { createRng } from '../../protocol/rng.js'
import { LiveKeyring } from '../../node/wiring.js'
import { PromMetrics } from '../../node/metrics.js'
import { manifestTopic } from '../../node/transport/index.js'
import type { ServiceNetwork, TopicVerdict } from '../../node/transport/service-network.js'
import { manifestSync, MANIFEST_PROTOCOL, type ManifestSync } from '../../node/services/manifest-sync/index.js'

const rng = createRng(1515).fork('manifest-sync-service')
const rnd = (n: number): Uint8Array => rng.bytes(n)
const [admin, bob, carol] = Array.from({ length: 3 }, () => generateIdentity(rng.bytes(32)))
const somePeer = peerIdFromString('12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA')

function genesis (): NetworkManifest {
  let m = createNetwork({ name: 'svc', model: { kind: 'softmax' }, dataset: { spec: { columns: ['a'] } }, rule: { name: 'epidemic', params: {} }, creator: admin, randomBytes: rnd })
  m = addMember(m, parseMember(memberString(bob)), admin, rnd)
  return addMember(m, parseMember(memberString(carol)), admin, rnd)
}

class FakeNetwork {
  validators = new Map<string, (from: typeof somePeer, data: Uint8Array) => Promise<TopicVerdict>>()
  protocols = new Set<string>()
  published: Array<{ topic: string, data: Uint8Array }> = []
  listeners = 0
  readonly net: ServiceNetwork = {
    peerId: somePeer,
    started: true,
    subscribe: (topic, validate) => { this.validators.set(topic, validate) },
    unsubscribe: (topic) => { this.validators.delete(topic) },
    publish: async (topic, data) => { this.published.push({ topic, data }) },
    onSubscribe: () => { this.listeners++; return () => { this.listeners-- } },
    handle: async (protocol) => { this.protocols.add(protocol) },
    unhandle: async (protocol) => { this.protocols.delete(protocol) },
    dialProtocol: async () => { throw new Error('no streams in this test') },
    dial: async () => somePeer,
    connections: () => [],
    peerAddresses: async () => [],
    hangUp: async () => {}
  }
}

function setup (self: Identity, m: NetworkManifest, commit: () => Promise<void> = async () => {}): { sync: ManifestSync, fake: FakeNetwork, keyring: LiveKeyring, commits: number[], engineStops: number[], metrics: PromMetrics } {
  const fake = new FakeNetwork()
  const keyring = new LiveKeyring(createKeyring(m, { identity: self }))
  const commits: number[] = []
  const engineStops: number[] = []
  const metrics = new PromMetrics({ strict: true })
  const sync = manifestSync({ watchNetworkMs: 0 })({
    peerKey: toHex(self.signPublicKey),
    identity: self,
    keyring,
    store: { commit: async (batch) => { await commit(); commits.push(batch.manifests?.[0]?.version ?? -1) } },
    network: fake.net,
    engine: { stop: async () => { engineStops.push(Date.now()) } },
    metrics,
    logger: pino({ level: 'silent' })
  })
  return { sync, fake, keyring, commits, engineStops, metrics }
}

test('start registers the topic validator, the protocol and the subscription listener; stop removes them', async () => {
  const v1 = genesis()
  const { sync, fake } = setup(admin, v1)
  await sync.start()
  assert.ok(fake.validators.has(manifestTopic(v1.id)), 'the manifest topic has a validator')
  assert.ok(fake.protocols.has(MANIFEST_PROTOCOL), 'the manifest protocol is served')
  assert.equal(fake.listeners, 1, 'one subscription listener')
  await sync.stop()
  assert.equal(fake.validators.size, 0, 'the validator is removed')
  assert.equal(fake.protocols.size, 0, 'the protocol is no longer served')
  assert.equal(fake.listeners, 0, 'the listener is removed')
  await assert.rejects(sync.submit(serializeManifest(v1), 'api'), { name: 'ManifestSyncStoppedError' }, 'a stopped service takes no submission')
})

test('the validator accepts an adopted version, ignores the one held and stale ones, rejects junk', async () => {
  const v1 = genesis()
  const v2 = removeMember(v1, toHex(carol.signPublicKey), admin, rnd)
  const { sync, fake, keyring, commits, metrics } = setup(admin, v1)
  await sync.start()
  const validate = fake.validators.get(manifestTopic(v1.id))
  assert.ok(validate != null, 'validator registered')
  assert.equal(await validate(somePeer, encodeManifestAnnouncement(v2, 1)), 'accept', 'a newer signed version is adopted and forwarded')
  assert.equal(keyring.manifest.version, v2.version, 'the keyring holds the new version')
  assert.deepEqual(commits, [v2.version], 'stored once')
  assert.equal(fake.published.length, 0, 'a version that came by gossip is not re-announced by the adopter')
  assert.equal(await validate(somePeer, encodeManifestAnnouncement(v2, 2)), 'ignore', 'the version held is ignored (not a refusal)')
  assert.equal(await validate(somePeer, encodeManifestAnnouncement(v1, 3)), 'ignore', 'an older version is ignored')
  assert.equal(await validate(somePeer, new TextEncoder().encode('{"junk":')), 'reject', 'junk is rejected')
  assert.deepEqual(sync.stats, { adopted: 1, refusedByReason: { STALE_MANIFEST: 1, MALFORMED: 1 } }, 'refusals counted by reason')
  assert.match(await metrics.text(), /murmur_manifest_adopted_total\{source="gossip"\} 1/, 'the adoption is counted by source')
  await sync.stop()
  assert.equal(await validate(somePeer, encodeManifestAnnouncement(v2, 4)), 'ignore', 'a stopped service ignores gossip')
})

test('an operator\'s version is announced; a version without this peer stops its engine', async () => {
  const v1 = genesis()
  const v2 = removeMember(v1, toHex(bob.signPublicKey), admin, rnd)
  const { sync, fake, engineStops } = setup(bob, v1)
  await sync.start()
  const r = await sync.submit(serializeManifest(v2), 'api')
  assert.equal(r.adopted, true, JSON.stringify(r))
  assert.equal(r.announced, true, 'announced on the manifest topic')
  assert.equal(fake.published[0]?.topic, manifestTopic(v1.id), 'on this network\'s manifest topic')
  assert.equal(r.selfRemoved, true, 'this peer was removed')
  assert.equal(sync.removedAtVersion, v2.version, 'and knows at which version')
  assert.equal(engineStops.length, 1, 'its engine was stopped')
  await sync.stop()
})

test('stop waits for the adoption in progress before it returns (the store closes after it)', async () => {
  const v1 = genesis()
  const v2 = removeMember(v1, toHex(carol.signPublicKey), admin, rnd)
  let release: () => void = () => {}
  let entered: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  const inCommit = new Promise<void>((resolve) => { entered = resolve })
  const { sync, commits } = setup(admin, v1, async () => { entered(); await gate })
  await sync.start()
  const submitted = sync.submit(serializeManifest(v2), 'api')
  await inCommit
  let stopped = false
  const stopping = sync.stop().then(() => { stopped = true })
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(stopped, false, 'stop is still waiting for the batch')
  release()
  await stopping
  assert.deepEqual(commits, [v2.version], 'the batch completed before stop returned')
  assert.equal((await submitted).adopted, true, 'the submission in progress finished')
})
