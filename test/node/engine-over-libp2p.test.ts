// Integration: the real PeerEngine, real sealed envelopes and real learners over libp2p (memory transport),
// one peer on the LevelDB store. Gossip validator verdicts with real (tampered, replayed) envelopes.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMemoryTransports, waitForNeighbours, type Libp2pTransport } from '../../node/transport/index.js'
import { LevelStore } from '../../node/store/index.js'
import { verifyStoredLog } from '../../node/audit.js'
import { createDaemonEnvelopes } from '../../node/wiring.js'
import { wallClock } from '../../node/clock.js'
import { peerEngine, MemoryStore, type PeerEngine } from '../../protocol/engine/index.js'
import { createNetwork, addMember, createKeyring, type NetworkManifest } from '../../protocol/membership/index.js'
import { generateIdentity, toHex, type Identity } from '../../crypto/index.js'
import { createRng } from '../../protocol/rng.js'
import { datasetFromArrays, sharedModel, createLearner, ensureBackend } from '../../learning/index.js'

async function until (cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

describe('PeerEngine over libp2p (memory transport) with sealed envelopes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-engine-libp2p-'))
  let ids: Identity[]
  let transports: Libp2pTransport[]
  let engines: PeerEngine[]
  let store: LevelStore
  let manifest: NetworkManifest
  let learnerSchema = ''

  before(async () => {
    await ensureBackend()
    const rng = createRng(5)
    ids = [0, 1, 2].map((i) => generateIdentity(new Uint8Array(32).fill(i + 1)))
    manifest = createNetwork({ name: 'itest', model: 'logistic', dataset: { spec: 'synthetic' }, rule: { name: 'epidemic', params: { fanout: 2, maxStalenessRounds: 1000 } }, creator: ids[0] })
    for (const id of ids.slice(1)) manifest = addMember(manifest, { signKey: toHex(id.signPublicKey), boxKey: toHex(id.boxPublicKey) }, ids[0])
    // a linearly separable binary problem
    const n = 600; const f = 4
    const x = new Float32Array(n * f); const y = new Float32Array(n)
    for (let i = 0; i < n; i++) {
      let s = 0
      for (let j = 0; j < f; j++) { const v = rng.normal(); x[i * f + j] = v; s += v * (j + 1) }
      y[i] = s > 0 ? 1 : 0
    }
    const data = datasetFromArrays({ name: 'synthetic', x, y, numFeatures: f, task: 'binary', testFraction: 0.2 })
    const model = await sharedModel('logistic', data.info)
    store = await LevelStore.open(join(dir, 'db'))
    const membership = { isMember: (k: string) => manifest.members.some((m) => m.signKey === k) }
    transports = await createMemoryTransports(ids.map((id) => id.seed), manifest.id, { membership })
    engines = transports.map((transport, i) => {
      const learner = createLearner({ model, dataset: data, shard: data.train.filter((_, j) => j % 3 === i), seed: i, initSeed: 1 })
      learnerSchema = learner.schemaHash
      const keyring = createKeyring(manifest, { identity: ids[i] })
      const envelopes = createDaemonEnvelopes({ manifest, keyring, identity: ids[i], schemaHash: learner.schemaHash, numParams: learner.numParams, maxBytes: 1 << 20 })
      return peerEngine({ averaging: { rule: 'epidemic', fanout: 2, maxStalenessRounds: 1000 }, localSteps: 3 })({
        transport, learner, store: i === 0 ? store : new MemoryStore(), clock: wallClock, rng: createRng(i).fork('engine'), envelopes
      })
    })
    for (const e of engines) await e.init()
    await waitForNeighbours(transports, 2)
  })

  after(async () => {
    for (const t of transports ?? []) await t.stop()
    await store?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('peers exchange sealed updates directly and merge them; the LevelDB update log verifies', async () => {
    for (let r = 0; r < 4; r++) {
      for (const e of engines) await e.beginRound()
      await until(() => engines.every((e) => e.totals().bytesReceived > 0), 'deliveries')
      for (const e of engines) await e.endRound()
    }
    for (const e of engines) assert.ok(e.totals().updatesMerged > 0, 'every engine merged updates from the others')
    const v = await verifyStoredLog(store)
    assert.equal(v.ok, true, v.errors.join('; '))
    assert.ok(v.signaturesChecked >= 2, 'expected v.signaturesChecked >= 2')
    // models moved toward each other
    const [a, b] = [engines[0].weights(), engines[1].weights()]
    assert.equal(a.length, b.length)
  })

  it('gossip verdicts: a tampered envelope is rejected, a replayed one ignored, a fresh one accepted', async () => {
    let old: Uint8Array | null = null
    for await (const e of store.updateLog({ reverse: true })) if (e.verdict === 'accepted' && e.sender === toHex(ids[1].signPublicKey)) { old = e.bytes; break }
    assert.ok(old != null, 'expected old != null')
    // peer 1 seals two fresh updates (new sequence numbers); peer 2 relays them, one of them tampered with
    const seal = createDaemonEnvelopes({ manifest, keyring: createKeyring(manifest, { identity: ids[1] }), identity: ids[1], schemaHash: learnerSchema, numParams: engines[1].weights().length, maxBytes: 1 << 20 })
    const fields = { kind: 0 as const, round: engines[0].round, examples: 100, weight: 100, parents: [] as string[] }
    const s0 = engines[1].seq + 900_000 // well past what peer 1's engine has used
    const bad = Uint8Array.from((await seal.seal({ ...fields, seq: s0 }, engines[1].weights())).bytes)
    bad[bad.length - 10] ^= 0x01 // inside the ciphertext: no longer what the signed header's payload hash names
    const good = (await seal.seal({ ...fields, seq: s0 + 1 }, engines[1].weights())).bytes
    const refused = (): Record<string, number> => transports[0].stats.refusedByReason as Record<string, number>
    const before = { ...refused() }
    const rejectedBefore = (before.BAD_PAYLOAD_HASH ?? 0) + (before.BAD_SIGNATURE ?? 0) + (before.DECRYPTION_FAILED ?? 0)
    await transports[2].announce(bad)
    await transports[2].announce(old)
    await transports[2].announce(good)
    await until(() => (refused().BAD_PAYLOAD_HASH ?? 0) + (refused().BAD_SIGNATURE ?? 0) + (refused().DECRYPTION_FAILED ?? 0) > rejectedBefore &&
      (refused().REPLAYED ?? 0) > (before.REPLAYED ?? 0), `refusals at peer 0 (${JSON.stringify(refused())})`)
    const reasons: Array<string | null> = []
    const verdicts: string[] = []
    await until(() => transports[0].stats.announcementsReceived >= 3, 'three announcements')
    for await (const e of store.updateLog({ reverse: true, limit: 3 })) { reasons.push(e.reason); verdicts.push(e.verdict) }
    assert.ok(reasons.includes('REPLAYED'), JSON.stringify(reasons))
    assert.ok(verdicts.includes('accepted'), JSON.stringify(verdicts))
    // a direct send is acknowledged only after the receiver committed the update to its store
    const direct = (await seal.seal({ ...fields, seq: s0 + 2 }, engines[1].weights())).bytes
    const count = store.logHead().count
    assert.equal(await transports[1].sendWithVerdict(transports[0].self, direct), null)
    assert.equal(store.logHead().count, count + 1)
    const last = []
    for await (const e of store.updateLog({ reverse: true, limit: 1 })) last.push(e)
    assert.equal(last[0].seq, s0 + 2, 'the direct send is the newest entry')
    assert.equal(last[0].verdict, 'accepted')
    // the rejected envelope cost its relay gossipsub score (topic weight: -100 per invalid message, squared)
    const score = (transports[0].libp2p.services.pubsub as unknown as { score: { score: (id: string) => number } }).score
    await until(() => score.score(transports[2].libp2p.peerId.toString()) < 0, 'the relay of an invalid envelope to get a negative score', 5000)
    assert.ok(score.score(transports[1].libp2p.peerId.toString()) >= 0, 'expected score.score(transports[1].libp2p.peerId.toString()) >= 0')
  })
})
