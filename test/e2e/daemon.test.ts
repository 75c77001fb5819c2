// End-to-end: real `murmur daemon` processes over TCP on 127.0.0.1, joined by a bootstrap address.
// One network of three members (plus an outsider identity) is shared by the steps below, in order.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { partitionDataset, createTestNetwork } from '../../node/testnet.js'
import { spawnDaemon, waitFor, MURMUR_BIN, REPO_ROOT, type DaemonProcess } from '../../node/processes.js'
import { createIdentityFile } from '../../node/keystore.js'
import { createLibp2pTransport } from '../../node/transport/index.js'
import { evaluateWeightsOnFile, loadLocalData } from '../../node/wiring.js'
import { writeLayersModel } from '../../node/model-io.js'
import { removeMember, createKeyring, serializeManifest, type NetworkManifest } from '../../protocol/membership/index.js'
import { createLearner, defaultDataDir, tf } from '../../learning/index.js'
import type { Identity } from '../../crypto/index.js'

const ROUNDS = 12
const decode = (b64: string): Float32Array => { const b = Buffer.from(b64, 'base64'); const w = new Float32Array(b.length / 4); new Uint8Array(w.buffer).set(b); return w }

const digitsFile = join(defaultDataDir(), 'sklearn-digits.csv.gz')
const skip = existsSync(digitsFile) ? false : `shared dataset missing: ${digitsFile}`

describe('murmur daemon end to end (3 processes on 127.0.0.1)', { timeout: 170_000, skip }, () => {
  let dir: string
  let manifest: NetworkManifest
  let network: string
  let datadirs: string[]
  let identities: Identity[]
  let partitions: string[]
  let testFile: string
  let spare: string[] = []
  let header = ''
  const daemons: DaemonProcess[] = []
  const exitCodes: Array<number | string> = []

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'murmur-e2e-'))
    const data = await partitionDataset('digits', 3, join(dir, 'data'), 11)
    partitions = data.partitions
    testFile = data.test
    // keep 100 rows of peer 1 aside: they are appended while it runs (continuous learning)
    const lines = readFileSync(partitions[1], 'utf8').trimEnd().split('\n')
    spare = lines.splice(lines.length - 100, 100)
    writeFileSync(partitions[1], lines.join('\n') + '\n')
    const net = await createTestNetwork({ dir, peers: 3, name: 'e2e', model: { type: 'softmax', optimizer: { type: 'adam', learningRate: 0.05 } }, datasetSpec: data.spec, rule: { rule: 'epidemic', fanout: 2, maxStalenessRounds: 1000 } })
    manifest = net.manifest; network = net.network; datadirs = net.datadirs; identities = net.identities
    header = ''
  })

  after(async () => {
    for (const d of daemons) exitCodes.push(await d.stop())
    rmSync(dir, { recursive: true, force: true })
  })

  it('three daemons join by the bootstrap address and converge toward the centralized baseline', async () => {
    const common = { network, roundIntervalMs: 150, localSteps: 5, evaluateEvery: 4 }
    const first = await spawnDaemon({ ...common, datadir: datadirs[0], data: partitions[0] })
    daemons.push(first)
    assert.match(first.addresses[0], /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW/)
    // peer 1's operator skips their own bad appended rows (--on-bad-row overrides the network's dataset rule)
    daemons.push(...await Promise.all([1, 2].map(async (i) => await spawnDaemon({ ...common, datadir: datadirs[i], data: partitions[i], bootstrap: [first.addresses[0]], extraArgs: i === 1 ? ['--on-bad-row', 'skip'] : [] }))))
    // everyone reaches the rounds and hears from both others through gossip
    await Promise.all(daemons.map(async (d, i) => await waitFor(`peer ${i} at round ${ROUNDS} with merged updates`, async () => await d.get('/status'),
      (s) => s.round >= ROUNDS && s.totals.updatesMerged >= 4 && s.neighbours.length >= 1, { timeoutMs: 90_000 })))
    const models = await Promise.all(daemons.map(async (d) => decode((await d.get('/model')).weights)))
    const accs = await Promise.all(models.map(async (w) => (await evaluateWeightsOnFile(manifest, testFile, w)).metrics.accuracy))
    // centralized: the same model trained on the pooled rows for as many steps as one peer did
    const pooled = join(dir, 'pooled.csv')
    writeFileSync(pooled, partitions.map((p) => readFileSync(p, 'utf8')).join(''))
    const { dataset, model } = await loadLocalData(manifest, pooled, 'wasm')
    const central = createLearner({ model, dataset, seed: 1, initSeed: manifest.id })
    await central.train(ROUNDS * 5 * 3)
    const centralAcc = (await evaluateWeightsOnFile(manifest, testFile, central.weights())).metrics.accuracy
    const mean = accs.reduce((a, b) => a + b, 0) / accs.length
    assert.ok(centralAcc > 0.85, `centralized accuracy ${centralAcc}`)
    assert.ok(mean >= centralAcc - 0.05, `decentralized mean ${mean.toFixed(3)} vs centralized ${centralAcc.toFixed(3)} (${accs.map((a) => a.toFixed(3)).join(', ')})`)
    for (const a of accs) assert.ok(a >= centralAcc - 0.08, `a peer at ${a.toFixed(3)} vs centralized ${centralAcc.toFixed(3)}`)
  })

  it('learns rows appended to its data file without a restart; a bad appended row is skipped, counted and named by its file line', async () => {
    const before = await daemons[1].get('/status')
    const fileLines = readFileSync(partitions[1], 'utf8').trimEnd().split('\n').length
    const badAt = 50
    const chunk = [...spare.slice(0, badAt), spare[0].replace(/^[^,]*/, 'not-a-number'), ...spare.slice(badAt)]
    appendFileSync(partitions[1], chunk.join('\n') + '\n')
    const s = await waitFor('peer 1 to load the appended rows', async () => await daemons[1].get('/status'), (x) => x.rowsAppended === 100, { timeoutMs: 20_000 })
    assert.equal(s.examples, before.examples + 100, 'the 100 good rows around the bad one are all learned')
    assert.equal(s.badRows.count, 1, `one bad row counted in /status: ${JSON.stringify(s.badRows)}`)
    assert.deepEqual(s.badRows.lines, [fileLines + badAt + 1], 'the bad row is named by its line in the file')
    assert.match(String(await daemons[1].get('/metrics')), /murmur_data_bad_rows_total 1/, 'and counted in the metrics')
    const r0 = s.round
    await waitFor('peer 1 to train rounds on the grown data', async () => await daemons[1].get('/status'), (x) => x.round >= r0 + 2, { timeoutMs: 20_000 })
  })

  it('serves status, metrics and a verifiable update log; exports a model stock tfjs loads', async () => {
    const cli = spawnSync(process.execPath, [MURMUR_BIN, 'status', '--datadir', datadirs[0], '--json'], { cwd: REPO_ROOT, encoding: 'utf8' })
    assert.equal(cli.status, 0, cli.stderr)
    const st = JSON.parse(cli.stdout)
    assert.equal(st.peerKey, Buffer.from(identities[0].signPublicKey).toString('hex'))
    assert.ok(st.addresses.length > 0 && typeof st.round === 'number' && st.refusedByReason != null, 'expected st.addresses.length > 0 && typeof st.round === \'number\' && st.refusedByReason != null')
    const metrics: string = await daemons[0].get('/metrics')
    assert.match(metrics, /murmur_engine_rounds_total \d+/)
    assert.match(metrics, /libp2p_/)
    for (const d of daemons) {
      const v = await d.get('/log/verify')
      assert.equal(v.ok, true, v.errors.join('; '))
      assert.ok(v.signaturesChecked > 0, 'expected v.signaturesChecked > 0')
    }
    const model = await daemons[0].get('/model')
    const out = join(dir, 'export')
    await writeLayersModel(manifest, decode(model.weights), out, { dataFile: partitions[0] })
    const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'))
    const bin = readFileSync(join(out, 'weights.bin'))
    const loaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) }))
    const { dataset } = await loadLocalData(manifest, testFile, 'wasm')
    const n = 50
    const x = tf.tensor2d(dataset.x.subarray(0, n * dataset.numFeatures), [n, dataset.numFeatures])
    const pred = (loaded.predict(x) as import('@tensorflow/tfjs').Tensor).argMax(1).dataSync()
    let right = 0
    for (let i = 0; i < n; i++) if (pred[i] === dataset.y[i]) right++
    x.dispose(); loaded.dispose()
    assert.ok(right / n > 0.75, `exported model accuracy ${right / n}`)
  })

  it('refuses a non-member: the gater closes its connection and its daemon does not start', async () => {
    const outsider = await createIdentityFile(join(dir, 'outsider'))
    const t = await createLibp2pTransport({ seed: outsider.seed, networkId: manifest.id, listen: ['/ip4/127.0.0.1/tcp/0'], targetPeers: 0 })
    await t.start()
    try {
      // the noise handshake completes, then the member's gater closes the connection: nothing gets through
      await t.dial(daemons[0].addresses[0], { signal: AbortSignal.timeout(10_000) }).catch(() => null)
      await assert.rejects(t.sendWithVerdict(Buffer.from(identities[0].signPublicKey).toString('hex'), new Uint8Array(100)), { name: 'PeerUnreachableError' })
      await waitFor('the outsider to be disconnected', async () => t.connectedPeers().length, (n) => n === 0, { timeoutMs: 10_000 })
    } finally { await t.stop() }
    const r = spawnSync(process.execPath, [MURMUR_BIN, 'daemon', '--datadir', join(dir, 'outsider'), '--network', network, '--data', partitions[0], '--listen', '/ip4/127.0.0.1/tcp/0'], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, MURMUR_LOG_LEVEL: 'silent' } })
    assert.equal(r.status, 1)
    assert.match(r.stderr, /PeerNodeConfigError: this identity \([0-9a-f]{64}\) is not a member/)
  })

  it('a peer killed with SIGKILL restarts from its database, verifies its log and catches up', async () => {
    const victim = daemons[2]
    const before = await victim.get('/status')
    assert.equal(await victim.kill(), 'SIGKILL')
    const restarted = await spawnDaemon({ network, roundIntervalMs: 150, localSteps: 5, evaluateEvery: 4, datadir: datadirs[2], data: partitions[2], bootstrap: [daemons[0].addresses[0]] })
    daemons[2] = restarted
    const s0 = await restarted.get('/status')
    assert.ok(s0.round >= before.round - 1, `resumed at round ${s0.round}, was at ${before.round}`)
    assert.ok(s0.updateLog.count >= before.updateLog.count, 'expected s0.updateLog.count >= before.updateLog.count')
    const s = await waitFor('the restarted peer to merge updates again', async () => await restarted.get('/status'), (x) => x.totals.updatesMerged >= 2 && x.round >= s0.round + 3, { timeoutMs: 40_000 })
    assert.ok(s.updateLog.count > before.updateLog.count, 'expected s.updateLog.count > before.updateLog.count')
    const v = await restarted.get('/log/verify')
    assert.equal(v.ok, true, v.errors.join('; '))
    const others = await Promise.all([0, 1].map(async (i) => decode((await daemons[i].get('/model')).weights)))
    const mine = decode((await restarted.get('/model')).weights)
    const accs = await Promise.all([...others, mine].map(async (w) => (await evaluateWeightsOnFile(manifest, testFile, w)).metrics.accuracy))
    assert.ok(accs[2] >= Math.min(accs[0], accs[1]) - 0.05, `restarted peer ${accs[2].toFixed(3)} vs others ${accs[0].toFixed(3)}, ${accs[1].toFixed(3)}`)
  })

  it('a removed member cannot read the new epoch, and a member on the new manifest refuses its connection', async () => {
    const removedKey = Buffer.from(identities[2].signPublicKey).toString('hex')
    const v2 = removeMember(manifest, removedKey, identities[0])
    assert.ok(v2.epochs.length === manifest.epochs.length + 1, 'expected v2.epochs.length === manifest.epochs.length + 1')
    assert.throws(() => createKeyring(v2, { identity: identities[2] }), { name: 'EpochKeyError' })
    assert.doesNotThrow(() => createKeyring(v2, { identity: identities[1] }))
    const network2 = join(dir, 'network-v2.json')
    writeFileSync(network2, serializeManifest(v2))
    // the removed member stops (SIGTERM: checkpoint, close, exit 0); peer 1 restarts on version 2
    assert.equal(await daemons[2].stop(), 0)
    daemons.splice(2, 1)
    assert.equal(await daemons[1].stop(), 0)
    const p1 = await spawnDaemon({ network: network2, roundIntervalMs: 150, localSteps: 5, datadir: datadirs[1], data: partitions[1], bootstrap: [daemons[0].addresses[0]], extraArgs: ['--on-bad-row', 'skip'] })
    daemons[1] = p1
    const st = await p1.get('/status')
    assert.equal(st.network.version, v2.version)
    assert.equal(st.network.epoch, v2.epochs[v2.epochs.length - 1].epoch)
    const t = await createLibp2pTransport({ seed: identities[2].seed, networkId: manifest.id, listen: ['/ip4/127.0.0.1/tcp/0'], targetPeers: 0 })
    await t.start()
    try {
      await t.dial(p1.addresses[0], { signal: AbortSignal.timeout(10_000) }).catch(() => null)
      await assert.rejects(t.sendWithVerdict(st.peerKey, new Uint8Array(100)), { name: 'PeerUnreachableError' })
      await waitFor('the removed member to be disconnected', async () => t.connectedPeers().length, (n) => n === 0, { timeoutMs: 10_000 })
    } finally { await t.stop() }
    // its daemon cannot start on version 2 either
    const r = spawnSync(process.execPath, [MURMUR_BIN, 'daemon', '--datadir', datadirs[2], '--network', network2, '--data', partitions[2], '--listen', '/ip4/127.0.0.1/tcp/0'], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, MURMUR_LOG_LEVEL: 'silent' } })
    assert.equal(r.status, 1)
    assert.match(r.stderr, /EpochKeyError|not a member/)
  })

  it('SIGTERM stops every daemon cleanly (exit 0)', async () => {
    while (daemons.length > 0) exitCodes.push(await daemons.pop()!.stop())
    assert.deepEqual(exitCodes.filter((c) => c !== 0), [])
  })
})
