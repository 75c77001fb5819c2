// End-to-end: a manifest change on a RUNNING network. Three real `murmur daemon` processes on 127.0.0.1; the
// admin removes member C and publishes the new version to daemon A only (`murmur network publish`); B adopts it
// by gossip; A and B keep learning on the new key epoch; C is cut off and cannot read the new epoch.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { partitionDataset, createTestNetwork } from '../../node/testnet.js'
import { spawnDaemon, waitFor, MURMUR_BIN, REPO_ROOT, type DaemonProcess } from '../../node/processes.js'
import { createLibp2pTransport } from '../../node/transport/index.js'
import { LevelStore } from '../../node/store/index.js'
import {
  removeMember, rotateEpoch, createKeyring, createNetwork, serializeManifest, parseManifest, signManifest, type NetworkManifest
} from '../../protocol/membership/index.js'
import { parseEnvelope, createValidator, createMemoryReplayGuard } from '../../protocol/messages/index.js'
import { defaultDataDir } from '../../learning/index.js'
import { toHex, type Identity } from '../../crypto/index.js'

const digitsFile = join(defaultDataDir(), 'sklearn-digits.csv.gz')
const skip = existsSync(digitsFile) ? false : `shared dataset missing: ${digitsFile}`

function cli (args: string[]): { status: number | null, stdout: string, stderr: string } {
  return spawnSync(process.execPath, [MURMUR_BIN, ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, MURMUR_LOG_LEVEL: 'silent' } })
}

interface LoggedEnvelope { sender: string, verdict: string, index: number, epoch: number | null, bytes: Uint8Array }

async function readLog (datadir: string): Promise<LoggedEnvelope[]> {
  const store = await LevelStore.open(join(datadir, 'db'))
  try {
    const out: LoggedEnvelope[] = []
    for await (const e of store.log({ withEnvelope: true })) {
      const bytes = e.envelope ?? new Uint8Array(0)
      const p = parseEnvelope(bytes)
      out.push({ sender: e.sender, verdict: e.verdict, index: e.index, epoch: p.ok ? p.envelope.header.keyEpoch : null, bytes })
    }
    return out
  } finally { await store.close() }
}

describe('a manifest change on a running network (3 processes on 127.0.0.1)', { timeout: 170_000, skip }, () => {
  let dir: string
  let manifest: NetworkManifest
  let network: string
  let datadirs: string[]
  let identities: Identity[]
  let partitions: string[]
  let v2: NetworkManifest
  let v2File: string
  let logIndexAtChange: number[] = []
  let logIndexAfterCut: number[] = []
  const daemons: DaemonProcess[] = []
  const key = (i: number): string => toHex(identities[i].signPublicKey)

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'murmur-manifest-'))
    const data = await partitionDataset('digits', 3, join(dir, 'data'), 23)
    partitions = data.partitions
    const net = await createTestNetwork({ dir, peers: 3, name: 'live-membership', model: { type: 'softmax', optimizer: { type: 'adam', learningRate: 0.05 } }, datasetSpec: data.spec, rule: { rule: 'epidemic', fanout: 2, maxStalenessRounds: 1000 } })
    manifest = net.manifest; network = net.network; datadirs = net.datadirs; identities = net.identities
  })

  after(async () => {
    for (const d of daemons) await d.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('three daemons learn together on version 1', async () => {
    const common = { network, roundIntervalMs: 150, localSteps: 3, evaluateEvery: 10 }
    const a = await spawnDaemon({ ...common, datadir: datadirs[0], data: partitions[0] })
    daemons.push(a)
    daemons.push(...await Promise.all([1, 2].map(async (i) => await spawnDaemon({ ...common, datadir: datadirs[i], data: partitions[i], bootstrap: [a.addresses[0]] }))))
    await Promise.all(daemons.map(async (d, i) => await waitFor(`peer ${i} merging updates from both others`, async () => await d.get('/status'),
      (s) => s.totals.updatesMerged >= 2 && s.neighbours.length >= 2, { timeoutMs: 90_000 })))
    for (const d of daemons) assert.equal((await d.get('/status')).network.version, manifest.version)
  })

  it('the admin removes C and publishes to A only; B adopts it by gossip; C is cut off', async () => {
    v2 = removeMember(manifest, key(2), identities[0])
    v2File = join(dir, 'network-v2.json')
    writeFileSync(v2File, serializeManifest(v2))
    const newEpoch = v2.epochs[v2.epochs.length - 1].epoch
    logIndexAtChange = await Promise.all(daemons.slice(0, 2).map(async (d) => (await d.get('/status')).updateLog.count))
    const apiA = daemons[0].apiUrl.replace(/^http:\/\//, '')
    const r = cli(['network', 'publish', v2File, '--api', apiA, '--datadir', datadirs[0], '--json'])
    assert.equal(r.status, 0, r.stderr + r.stdout)
    const answer = JSON.parse(r.stdout)
    assert.equal(answer.adopted, true)
    assert.equal(answer.version, v2.version)
    assert.equal(answer.epoch, newEpoch)
    assert.deepEqual(answer.removed, [key(2)])
    assert.equal(answer.announced, true)
    const sa = await daemons[0].get('/status')
    assert.equal(sa.network.version, v2.version)
    assert.equal(sa.network.epoch, newEpoch)
    assert.equal(sa.network.members, 2)
    // B: no operator action, only gossip
    const sb = await waitFor('B to adopt version 2 by gossip', async () => await daemons[1].get('/status'), (s) => s.network.version === v2.version, { timeoutMs: 30_000 })
    assert.equal(sb.network.epoch, newEpoch)
    assert.equal(sb.network.epochKey, true)
    // C: both members hang up and their gaters refuse it from now on
    for (const [i, d] of daemons.slice(0, 2).entries()) {
      await waitFor(`peer ${i} to drop its connections to C`, async () => await d.get('/peers'),
        (p) => !p.connections.some((c: { peerKey: string }) => c.peerKey === key(2)), { timeoutMs: 20_000 })
    }
    await waitFor('C to have no connection left', async () => await daemons[2].get('/status'), (s) => s.connections === 0, { timeoutMs: 30_000 })
    logIndexAfterCut = await Promise.all(daemons.slice(0, 2).map(async (d) => (await d.get('/status')).updateLog.count))
  })

  it('A and B keep learning on the new epoch; C cannot connect or get an update accepted', async () => {
    await Promise.all([0, 1].map(async (i) => await waitFor(`peer ${i} to accept 3 new updates from the other`, async () => await daemons[i].get(`/log?from=${logIndexAtChange[i]}&limit=1000`),
      (lines: Array<{ sender: string, verdict: string }>) => lines.filter((l) => l.sender === key(1 - i) && l.verdict === 'accepted').length >= 3, { timeoutMs: 60_000 })))
    // C's key, outside its daemon: the noise handshake may complete, then the gater closes; nothing is delivered
    const t = await createLibp2pTransport({ seed: identities[2].seed, networkId: manifest.id, listen: ['/ip4/127.0.0.1/tcp/0'], targetPeers: 0 })
    await t.start()
    try {
      for (const i of [0, 1]) {
        await t.dial(daemons[i].addresses[0], { signal: AbortSignal.timeout(10_000) }).catch(() => null)
        await assert.rejects(t.sendWithVerdict(key(i), new Uint8Array(100)), { name: 'PeerUnreachableError' })
      }
    } finally { await t.stop() }
  })

  it('replays of older versions, bad signatures and other networks are refused by name and counted', async () => {
    const apiA = daemons[0].apiUrl.replace(/^http:\/\//, '')
    const v1File = join(dir, 'network-v1.json')
    writeFileSync(v1File, serializeManifest(manifest))
    const old = cli(['network', 'publish', v1File, '--api', apiA, '--datadir', datadirs[0], '--json'])
    assert.equal(old.status, 3, old.stdout)
    assert.equal(JSON.parse(old.stdout).reason, 'STALE_MANIFEST')
    // a change signed by B, who is a member but not an admin
    const forged = signManifest({ ...rotateEpoch(v2, identities[0]), signatures: [] }, identities[1])
    const forgedFile = join(dir, 'network-forged.json')
    writeFileSync(forgedFile, serializeManifest(forged))
    const bad = cli(['network', 'publish', forgedFile, '--api', apiA, '--datadir', datadirs[0], '--json'])
    assert.equal(bad.status, 3, bad.stdout)
    assert.equal(JSON.parse(bad.stdout).reason, 'BAD_SIGNATURE')
    const other = createNetwork({ name: 'other', model: manifest.model, dataset: manifest.dataset, rule: manifest.rule, creator: identities[0] })
    const otherFile = join(dir, 'network-other.json')
    writeFileSync(otherFile, serializeManifest(other))
    const wrong = cli(['network', 'publish', otherFile, '--api', apiA, '--datadir', datadirs[0], '--json'])
    assert.equal(wrong.status, 3, wrong.stdout)
    assert.equal(JSON.parse(wrong.stdout).reason, 'WRONG_NETWORK')
    const again = cli(['network', 'publish', v2File, '--api', apiA, '--datadir', datadirs[0]])
    assert.equal(again.status, 0, again.stdout)
    assert.match(again.stdout, new RegExp(`already holds version ${v2.version}\\b`))
    const s = await daemons[0].get('/status')
    assert.equal(s.network.version, v2.version)
    assert.deepEqual(s.network.manifestRefusedByReason, { STALE_MANIFEST: 1, BAD_SIGNATURE: 1, WRONG_NETWORK: 1 })
    const metrics: string = await daemons[0].get('/metrics')
    assert.match(metrics, /murmur_manifest_refused_total\{reason="BAD_SIGNATURE"\} 1/)
  })

  it('C, told of the new version, reports that it was removed and has no key for the new epoch', async () => {
    const apiC = daemons[2].apiUrl.replace(/^http:\/\//, '')
    const r = cli(['network', 'publish', v2File, '--api', apiC, '--datadir', datadirs[2], '--json'])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    const s = await waitFor('C to stop learning', async () => await daemons[2].get('/status'), (x) => x.running === false, { timeoutMs: 20_000 })
    assert.equal(s.network.version, v2.version)
    assert.equal(s.network.member, false)
    assert.equal(s.network.epochKey, false)
  })

  it('a newer version written to the --network file is adopted by the running daemons', async () => {
    const v3 = rotateEpoch(v2, identities[0])
    writeFileSync(network, serializeManifest(v3))
    for (const i of [0, 1]) {
      const s = await waitFor(`peer ${i} to adopt version ${v3.version} from its --network file`, async () => await daemons[i].get('/status'), (x) => x.network.version === v3.version, { timeoutMs: 20_000 })
      assert.equal(s.network.epoch, v3.epochs[v3.epochs.length - 1].epoch)
    }
    // at least one of them read it from the file (the other may have heard it by gossip first)
    const fromFile = await Promise.all([0, 1].map(async (i) => /murmur_manifest_adopted_total\{source="file"\} 1/.test(await daemons[i].get('/metrics'))))
    assert.ok(fromFile.some((x) => x), 'no daemon adopted the version from its --network file')
  })

  it('after a clean stop: logs verify, the new epoch was used, and C cannot open it', async () => {
    const verify = cli(['log', '--verify', '--datadir', datadirs[0]])
    assert.equal(verify.status, 0, verify.stdout + verify.stderr)
    for (const d of daemons) assert.equal(await d.stop(), 0)
    daemons.length = 0
    const newEpoch = v2.epochs[v2.epochs.length - 1].epoch
    const [logA, logB] = await Promise.all([readLog(datadirs[0]), readLog(datadirs[1])])
    const fromB = logA.filter((e) => e.sender === key(1) && e.verdict === 'accepted' && e.epoch != null && e.epoch >= newEpoch)
    const fromA = logB.filter((e) => e.sender === key(0) && e.verdict === 'accepted' && e.epoch != null && e.epoch >= newEpoch)
    assert.ok(fromB.length >= 1 && fromA.length >= 1, `accepted updates under the new epoch: A got ${fromB.length} from B, B got ${fromA.length} from A`)
    // nothing from C was accepted once it was cut off
    for (const [i, log] of [logA, logB].entries()) {
      assert.deepEqual(log.filter((e) => e.index >= logIndexAfterCut[i] && e.sender === key(2) && e.verdict === 'accepted').map((e) => e.index), [])
    }
    // C's own database holds version 2, and the keyring it builds from it cannot open an epoch-2 update
    const storeC = await LevelStore.open(join(datadirs[2], 'db'))
    const stored = await storeC.latestManifest()
    await storeC.close()
    assert.ok(stored != null && stored.version >= v2.version, `C stored version ${String(stored?.version)}`)
    const mC = parseManifest(new TextDecoder().decode(stored!.bytes))
    assert.throws(() => createKeyring(mC, { identity: identities[2] }), { name: 'EpochKeyError' })
    const keyringC = createKeyring(mC, { identity: identities[2], allowMissingCurrent: true })
    const sample = fromB.find((e) => e.epoch === newEpoch)!
    const h = (parseEnvelope(sample.bytes) as { ok: true, envelope: { header: { schemaHash: string, numParams: number } } }).envelope.header
    const validator = createValidator({ networkId: manifest.id, schemaHash: h.schemaHash, numParams: h.numParams, membership: keyringC, replay: createMemoryReplayGuard(), maxBytes: 64 << 20 })
    const r = validator.validate(sample.bytes)
    assert.equal(r.ok, false)
    assert.equal(!r.ok && r.reason, 'UNKNOWN_EPOCH')
    // while a current member's keyring opens it
    const keyringA = createKeyring(v2, { identity: identities[0] })
    const vA = createValidator({ networkId: manifest.id, schemaHash: h.schemaHash, numParams: h.numParams, membership: keyringA, replay: createMemoryReplayGuard(), maxBytes: 64 << 20 })
    assert.equal(vA.validate(sample.bytes).ok, true)
  })
})
