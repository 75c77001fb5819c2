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
import { createNetwork, addMember, createKeyring } from '../../protocol/membership/index.js'
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

  before(async () => {
    await ensureBackend()
    const rng = createRng(5)
    ids = [0, 1, 2].map((i) => generateIdentity(new Uint8Array(32).fill(i + 1)))
    let manifest = createNetwork({ name: 'itest', model: 'logistic', dataset: { spec: 'synthetic' }, rule: { name: 'epidemic', params: { fanout: 2, maxStalenessRounds: 1000 } }, creator: ids[0] })
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
    assert.ok(v.signaturesChecked >= 2)
    // models moved toward each other
    const [a, b] = [engines[0].weights(), engines[1].weights()]
    assert.equal(a.length, b.length)
  })

  it('gossip verdicts: a tampered envelope is rejected as BAD_SIGNATURE, a replayed one ignored as REPLAYED', async () => {
    let original: Uint8Array | null = null
    for await (const e of store.updateLog({ reverse: true })) if (e.verdict === 'accepted' && e.sender === toHex(ids[1].signPublicKey)) { original = e.bytes; break }
    assert.ok(original != null)
    const tampered = Uint8Array.from(original)
    tampered[tampered.length - 10] ^= 0x01 // inside the ciphertext: the signed payload hash no longer matches
    const before = { ...transports[0].stats.refusedByReason }
    // peer 2 relays peer 1's envelope (replayed) and a tampered copy by gossip
    assert.ok(tampered.length <= transports[2].maxAnnounceBytes)
    await transports[2].announce(tampered)
    await transports[2].announce(original)
    await until(() => (transports[0].stats.refusedByReason.BAD_PAYLOAD_HASH ?? transports[0].stats.refusedByReason.BAD_SIGNATURE ?? 0) > (before.BAD_PAYLOAD_HASH ?? before.BAD_SIGNATURE ?? 0) &&
      (transports[0].stats.refusedByReason.REPLAYED ?? 0) > (before.REPLAYED ?? 0), `refusals at peer 0 (${JSON.stringify(transports[0].stats)} ${JSON.stringify(transports[1].stats)})`, 8000)
    const log = []
    for await (const e of store.updateLog({ reverse: true, limit: 2 })) log.push(e.reason)
    assert.ok(log.includes('REPLAYED'))
  })
})
