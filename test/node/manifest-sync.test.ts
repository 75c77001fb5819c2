/**
 * Live manifest changes between in-process daemons (PeerNode over real libp2p TCP on 127.0.0.1): the API's
 * POST /manifest (token, body bound, refusals as 409), a manifest too large for gossipsub announced as a notice
 * and fetched over /murmur/manifest/1.0.0, connections to the removed member closed by both members.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { PeerNode } from '../../node/peer-node.js'
import { partitionDataset, createTestNetwork } from '../../node/testnet.js'
import { waitFor } from '../../node/processes.js'
import { removeMember, setRuleParams, serializeManifest, type NetworkManifest } from '../../protocol/membership/index.js'
import { defaultDataDir } from '../../learning/index.js'
import { toHex, type Identity } from '../../crypto/index.js'

const digitsFile = join(defaultDataDir(), 'sklearn-digits.csv.gz')
const skip = existsSync(digitsFile) ? false : `shared dataset missing: ${digitsFile}`

describe('manifest changes between running PeerNodes', { timeout: 120_000, skip }, () => {
  let dir: string
  let manifest: NetworkManifest
  let identities: Identity[]
  const nodes: PeerNode[] = []
  const token = 'manifest-test-token'

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'murmur-manifest-sync-'))
    const data = await partitionDataset('digits', 3, join(dir, 'data'), 5)
    const net = await createTestNetwork({ dir, peers: 3, name: 'sync', model: { type: 'softmax' }, datasetSpec: data.spec, rule: { rule: 'epidemic', fanout: 2, maxStalenessRounds: 1000 } })
    manifest = net.manifest; identities = net.identities
    for (let i = 0; i < 3; i++) {
      const node = await PeerNode.init({
        datadir: net.datadirs[i], network: net.network, data: data.partitions[i], listen: ['/ip4/127.0.0.1/tcp/0'], api: '127.0.0.1:0',
        apiToken: token, roundIntervalMs: 300, localSteps: 1, evaluateEveryRounds: 100, watchNetworkMs: 0,
        // every manifest here is "too large": announced as a notice, fetched over the manifest protocol
        manifestAnnounceMaxBytes: 300,
        bootstrap: i === 0 ? [] : [nodes[0].addresses()[0]]
      }, { logger: pino({ level: 'silent' }) })
      await node.start()
      nodes.push(node)
    }
    await waitFor('every node to see both others on the topics', async () => nodes.map((n) => n.transport.neighbours().length), (ns) => ns.every((n) => n >= 2), { timeoutMs: 30_000 })
  })

  after(async () => {
    for (const n of nodes.reverse()) await n.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const post = async (node: PeerNode, body: string | Uint8Array, auth = token): Promise<{ status: number, json: any }> => {
    const res = await fetch(`${node.api!.url}/manifest`, { method: 'POST', headers: { authorization: `Bearer ${auth}` }, body, signal: AbortSignal.timeout(20_000) })
    const text = await res.text()
    return { status: res.status, json: JSON.parse(text) }
  }

  it('refuses without the token, above the body bound, and with the reason for stale or foreign versions', async () => {
    assert.equal((await post(nodes[0], serializeManifest(manifest), 'wrong-token-xxxxxxx')).status, 401)
    const big = await post(nodes[0], new Uint8Array(5 * 1024 * 1024).fill(0x20))
    assert.equal(big.status, 413)
    const same = await post(nodes[0], serializeManifest(manifest))
    assert.equal(same.status, 200)
    assert.equal(same.json.alreadyCurrent, true)
    const junk = await post(nodes[0], '{"id":1}')
    assert.equal(junk.status, 409)
    assert.equal(junk.json.reason, 'MALFORMED')
    assert.equal(nodes[0].manifest.version, manifest.version)
  })

  it('a version published to one node reaches the others by notice + fetch; the removed member is cut off', async () => {
    const removed = toHex(identities[2].signPublicKey)
    const v2 = removeMember(manifest, removed, identities[0])
    const r = await post(nodes[0], serializeManifest(v2))
    assert.equal(r.status, 200, JSON.stringify(r.json))
    assert.equal(r.json.adopted, true)
    assert.equal(r.json.announced, true)
    assert.deepEqual(r.json.removed, [removed])
    await waitFor('B to fetch and adopt the new version', async () => nodes[1].manifest.version, (v) => v === v2.version, { timeoutMs: 20_000 })
    assert.equal(nodes[1].keyring.currentEpoch, v2.epochs[v2.epochs.length - 1].epoch)
    assert.match(await nodes[1].metrics.text(), /murmur_manifest_adopted_total\{source="gossip"\} 1/)
    for (const n of nodes.slice(0, 2)) {
      await waitFor('no connection to the removed member', async () => n.transport.connectedPeers(), (ps) => !ps.includes(removed), { timeoutMs: 20_000 })
      assert.equal(n.keyring.isMember(removed), false)
    }
    // the replayed older version is refused by name at both
    for (const n of nodes.slice(0, 2)) {
      const old = await post(n, serializeManifest(manifest))
      assert.equal(old.status, 409)
      assert.equal(old.json.reason, 'STALE_MANIFEST')
    }
  })

  it('a parameter change is adopted and stored, and flagged as applying at the next restart', async () => {
    const v3 = setRuleParams(nodes[0].manifest, { fanout: 3 }, identities[0])
    const r = await post(nodes[1], serializeManifest(v3))
    assert.equal(r.status, 200, JSON.stringify(r.json))
    assert.deepEqual(r.json.restartRequired, ['rule'])
    assert.deepEqual(r.json.removed, [])
    await waitFor('A to adopt it by gossip', async () => nodes[0].manifest.version, (v) => v === v3.version, { timeoutMs: 20_000 })
    const stored = await nodes[0].store.latestManifest()
    assert.equal(stored?.version, v3.version)
  })
})
