/** Each rule run by real engines over an in-memory transport with real sealing and validation (training off). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRng } from '../../protocol/rng.js'
import { connectedRandom, ring, randomRegular } from '../averaging/graphs.js'
import { buildPeers, maxError, syncRound, weightedAverage } from './setup.js'

const DIM = 6

test('push-sum engines: 40 peers, directed gossip, mass conserved and the example-weighted average reached', async () => {
  const rng = createRng('g-ps')
  const { net, peers } = buildPeers({ n: 40, dim: DIM, graph: (n) => connectedRandom(n, 0.1, rng), init: { averaging: { rule: 'push-sum', fanout: 1, clip: 'off', maxWeightRatio: 100 }, localSteps: 0, evaluateEveryRounds: 0 }, examples: (i) => 10 + i * 7 })
  const w0 = peers.map((p) => p.learner.w.slice())
  const n0 = peers.map((p) => p.engine.pushSumWeight)
  const target = weightedAverage(w0, n0)
  const mass = (): Float64Array => weightedAverage(peers.map((p) => p.learner.w), peers.map((p) => p.engine.pushSumWeight)).map((v) => v * peers.reduce((s, p) => s + p.engine.pushSumWeight, 0))
  const m0 = mass()
  for (let r = 0; r < 120; r++) await syncRound(net, peers)
  const m1 = mass()
  let rel = 0; let den = 0
  for (let i = 0; i < DIM; i++) { rel += (m1[i] - m0[i]) ** 2; den += m0[i] ** 2 }
  assert.ok(Math.sqrt(rel / den) <= 1e-5, `relative mass change ${Math.sqrt(rel / den)}`)
  const err = maxError(peers.map((p) => p.learner.w), target)
  assert.ok(err <= 1e-4, `max error ${err} (float32 models)`)
  const merged = peers.reduce((s, p) => s + p.engine.totals().updatesMerged, 0)
  assert.ok(merged >= 40 * 110, `merged ${merged}`)
})

test('pairwise engines: 40 peers, mass conserved exactly in float32 rounding, converge to the weighted average', async () => {
  const rng = createRng('g-pw')
  const { net, peers } = buildPeers({ n: 40, dim: DIM, graph: (n) => connectedRandom(n, 0.1, rng), init: { averaging: { rule: 'pairwise', initiateProbability: 0.5, clip: 'off', maxWeightRatio: 100 }, localSteps: 0, evaluateEveryRounds: 0 }, examples: (i) => 10 + i })
  const ex = peers.map((p) => p.learner.examples)
  const target = weightedAverage(peers.map((p) => p.learner.w), ex)
  for (let r = 0; r < 250; r++) await syncRound(net, peers)
  const now = weightedAverage(peers.map((p) => p.learner.w), ex)
  for (let i = 0; i < DIM; i++) assert.ok(Math.abs(now[i] - target[i]) <= 1e-4, `mass drift ${now[i] - target[i]}`)
  const err = maxError(peers.map((p) => p.learner.w), target)
  assert.ok(err <= 1e-3, `max error ${err}`)
  const busy = peers.reduce((s, p) => s + (p.engine.totals().refused.BUSY ?? 0), 0)
  assert.ok(busy > 0, 'simultaneous initiators answer BUSY')
  const busyMetric = peers.reduce((s, p) => s + (p.metrics.counters.get('murmur_engine_updates_refused_total{reason=BUSY}') ?? 0), 0)
  assert.equal(busyMetric, busy, 'every BUSY refusal is counted in the metric with its reason label')
})

test('dpsgd engines: ring of 12 with Metropolis-Hastings weights keeps the exact mean and converges', async () => {
  const { net, peers } = buildPeers({ n: 12, dim: DIM, graph: ring, init: { averaging: { rule: 'dpsgd', clip: 'off' }, localSteps: 0, evaluateEveryRounds: 0 } })
  const target = weightedAverage(peers.map((p) => p.learner.w), peers.map(() => 1))
  for (let r = 0; r < 200; r++) {
    for (const p of peers) await p.engine.beginRound()
    await net.deliverAll()
    for (const p of peers) assert.ok(p.engine.roundComplete(), 'all neighbours arrived')
    for (const p of peers) await p.engine.endRound()
  }
  const err = maxError(peers.map((p) => p.learner.w), target)
  assert.ok(err <= 1e-4, `max error ${err}`)
})

test('epidemic engines: consensus distance shrinks and models approach the average; a late update is STALE_ROUND', async () => {
  const rng = createRng('g-ep')
  const { net, peers } = buildPeers({ n: 30, dim: DIM, graph: (n) => randomRegular(n, 6, rng), init: { averaging: { rule: 'epidemic', fanout: 3, weighting: 'uniform', maxStalenessRounds: 2 }, localSteps: 0, evaluateEveryRounds: 0 } })
  const target = weightedAverage(peers.map((p) => p.learner.w), peers.map(() => 1))
  const firstDist: number[] = []
  const lastDist: number[] = []
  peers[0].engine.addEventListener('round', (e) => { (e.detail.round === 0 ? firstDist : lastDist).push(e.detail.consensusDistance ?? NaN) })
  for (let r = 0; r < 40; r++) await syncRound(net, peers)
  assert.ok(lastDist[lastDist.length - 1] < firstDist[0] / 100, `consensus distance ${firstDist[0]} -> ${lastDist[lastDist.length - 1]}`)
  // epidemic averaging is not mass-conserving: it approaches, but need not hit, the initial average
  const err = maxError(peers.map((p) => p.learner.w), target)
  assert.ok(err < 5, `max error ${err}`)
  // peer 1 sends to peer 0 only; peer 0 advances 3 rounds (maxStalenessRounds 2) before it arrives
  net.neighbours.set(peers[1].key, [peers[0].key])
  await peers[1].engine.beginRound()
  for (let r = 0; r < 3; r++) { await peers[0].engine.beginRound(); await peers[0].engine.endRound() }
  const q = net.queue.filter((d) => d.to === peers[0].key && d.message.from === peers[1].key)
  net.queue.length = 0
  assert.equal(q.length, 1)
  assert.equal(await peers[0].engine.handleMessage(q[0].message), 'STALE_ROUND')
})

test('epidemic momentum: heavy-ball over rounds carries slow local progress (error far below plain epidemic)', async () => {
  // every peer pulls toward the same target with a small rate: plain averaging closes (1 - lr) of the gap a round,
  // momentum 0.8 reaches a several times smaller error in the same rounds
  const target = Float32Array.from({ length: DIM }, (_, i) => i - 2)
  const errorAfter = async (momentum: number): Promise<number> => {
    const rng = createRng('g-ep-mom')
    const { net, peers } = buildPeers({ n: 20, dim: DIM, graph: (n) => randomRegular(n, 4, rng), targets: () => target, init: { averaging: { rule: 'epidemic', fanout: 3, weighting: 'uniform', momentum }, localSteps: 1, evaluateEveryRounds: 0 } })
    for (const p of peers) p.learner.lr = 0.02
    for (let r = 0; r < 60; r++) await syncRound(net, peers)
    return maxError(peers.map((p) => p.learner.w), target)
  }
  const plain = await errorAfter(0)
  const heavy = await errorAfter(0.8)
  assert.ok(plain > 1, `plain epidemic still ${plain} from the target after 60 rounds at rate 0.02`)
  assert.ok(heavy < plain / 4, `momentum 0.8: error ${heavy} against plain ${plain}`)
})

test('pairwise: a late reply after the initiator trained again still conserves the weighted sum (delta form)', async () => {
  const target = Float32Array.of(5, -5, 0, 1, 2, 3)
  const { net, peers } = buildPeers({ n: 2, dim: DIM, graph: () => [[1], [0]], init: { averaging: { rule: 'pairwise', initiateProbability: 1, clip: 'off', maxWeightRatio: 100 }, localSteps: 1, evaluateEveryRounds: 0 }, examples: (i) => (i === 0 ? 1 : 3), targets: (i) => (i === 0 ? target : null) })
  const [a, b] = peers
  await b.engine.init()
  const sum = (): Float64Array => Float64Array.from(a.learner.w, (v, i) => 1 * v + 3 * b.learner.w[i])
  await a.engine.beginRound() // trains, sends request 1
  const s1 = sum()
  await net.deliverAll(1) // B answers request 1 and merges; reply 1 stays queued
  await a.engine.endRound()
  const before = a.learner.w.slice()
  await a.engine.beginRound() // exchange 1 expires (not busy any more), trains again, sends request 2
  const trainedDelta = Float64Array.from(a.learner.w, (v, i) => v - before[i])
  await net.deliverAll() // reply 1 (late, applied as a delta), request 2, reply 2
  const s2 = sum()
  for (let i = 0; i < DIM; i++) assert.ok(Math.abs(s2[i] - (s1[i] + trainedDelta[i])) < 1e-4, `coordinate ${i}: ${s2[i]} vs ${s1[i] + trainedDelta[i]}`)
  assert.equal(a.engine.totals().updatesMerged, 2)
  assert.equal(b.engine.totals().updatesMerged, 2)
})
