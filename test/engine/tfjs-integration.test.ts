/** One integration test with the real TF.js learner: 6 peers, logistic model, epidemic averaging, real sealing. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setBackend, createLearner, datasetFromArrays, sharedModel } from '../../learning/index.js'
import { peerEngine, simulatedNetwork, MemoryStore } from '../../protocol/engine/index.js'
import { createRng } from '../../protocol/rng.js'
import { MemoryNetwork, StepClock } from './helpers.js'

test('TF.js learners behind the engine: epidemic averaging trains a shared model every peer agrees on', async () => {
  await setBackend('wasm')
  const rng = createRng('tfjs-int')
  const n = 600; const d = 5
  const x = new Float32Array(n * d); const y = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    let s = 0
    for (let j = 0; j < d; j++) { const v = rng.normal(); x[i * d + j] = v; s += v * (j % 2 === 0 ? 1 : -0.5) }
    y[i] = s + 0.3 * rng.normal() > 0 ? 1 : 0
  }
  const data = datasetFromArrays({ name: 'syn', x, y, numFeatures: d, task: 'binary', testFraction: 0.25, splitSeed: 3 })
  const model = await sharedModel({ type: 'logistic', optimizer: { type: 'sgd', learningRate: 0.1 } }, data.info)
  // non-IID shards: sort training rows by label, cut into 6 contiguous pieces
  const rows = Array.from(data.train).sort((a, b) => y[a] - y[b])
  const peersN = 6
  const shards = Array.from({ length: peersN }, (_, i) => Uint32Array.from(rows.slice(Math.floor(i * rows.length / peersN), Math.floor((i + 1) * rows.length / peersN))))
  const sim = simulatedNetwork({ members: peersN, rng: rng.fork('net'), schemaHash: model.schemaHash, numParams: model.numParams })
  const net = new MemoryNetwork()
  const keys = sim.members.map((m) => m.key)
  keys.forEach((k) => net.neighbours.set(k, keys.filter((o) => o !== k)))
  const clock = new StepClock()
  // one common start for the network (as a manifest's outputBiasInit gives): here the pooled rows' log-odds; each
  // one-label shard's own log-odds (about +-5) would start the peers apart
  const start = model.outputPrior(data, data.train)
  const learners = shards.map((shard, i) => createLearner({ model, dataset: data, shard, seed: i, batchSize: 16, outputBias: start }))
  const engines = sim.members.map((m, i) => peerEngine({ averaging: { rule: 'epidemic', fanout: 2 }, localSteps: 5, evaluateEveryRounds: 0 })({
    transport: net.transport(m.key), learner: learners[i], store: new MemoryStore(), clock, rng: rng.fork(`p${i}`), envelopes: m.envelopes
  }))
  for (const e of engines) await e.init()
  let lastConsensus = Infinity
  let firstConsensus = NaN
  for (let r = 0; r < 20; r++) {
    for (const e of engines) await e.beginRound()
    await net.deliverAll()
    const reports = []
    for (const e of engines) reports.push(await e.endRound())
    lastConsensus = Math.max(...reports.map((p) => p.relativeConsensusDistance ?? 0))
    if (r === 0) firstConsensus = lastConsensus
    for (const p of reports) assert.ok(Number.isFinite(p.loss), 'training loss reported')
  }
  const refused = engines.reduce((s, e) => s + Object.values(e.totals().refused).reduce((a, b) => a + (b ?? 0), 0), 0)
  assert.equal(refused, 0)
  const accs = []
  for (const l of learners) accs.push((await l.evaluate({ split: 'test' })).accuracy)
  // each shard alone sees (almost) one label; only averaging makes every peer a good classifier
  for (const a of accs) assert.ok(a > 0.8, `accuracies ${accs.join(', ')}`)
  assert.ok(lastConsensus < firstConsensus / 2, `relative consensus distance ${firstConsensus} -> ${lastConsensus}`)
})
