/** MemoryStore contract, push-sum mass under send failures, the daemon loop for dpsgd with a silent neighbour, restarts and named errors. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryStore, peerEngine, sealedEnvelopes, UpdateKind, type Checkpoint, type UpdateLogEntry } from '../../protocol/engine/index.js'
import { createSigner, generateIdentity } from '../../crypto/index.js'
import { createRng } from '../../protocol/rng.js'
import { buildPeers, startAndWaitRounds } from './setup.js'
import { VectorLearner } from './helpers.js'
import { complete } from '../averaging/graphs.js'

const entry = (i: number): UpdateLogEntry => ({
  id: `id${i}`, sender: i % 2 === 0 ? 'aa' : 'bb', round: i, seq: i, kind: 0, verdict: 'accepted', reason: null, merged: true,
  receivedAt: i, parents: [], bytes: new Uint8Array(0)
})

test('MemoryStore: batches apply whole, the log is bounded and queryable, a closed store refuses commits', async () => {
  const store = new MemoryStore({ maxLogEntries: 5, maxMetricsSnapshots: 2 })
  const cp: Checkpoint = { round: 3, seq: 9, weights: Float32Array.of(1, 2), pushSumWeight: 0.5, rule: 'push-sum', schemaHash: 'ab', savedAt: 1 }
  await store.commit({ log: [entry(0), entry(1)], replay: [{ sender: 'aa', highWater: 0, recent: [[0, 'id0']] }], checkpoint: cp })
  for (let i = 2; i < 8; i++) await store.commit({ log: [entry(i)], metrics: [{ round: i, at: i, values: { x: i } }] })
  const all: UpdateLogEntry[] = []
  for await (const e of store.updateLog()) all.push(e)
  assert.deepEqual(all.map((e) => e.seq), [3, 4, 5, 6, 7])
  const bb: number[] = []
  for await (const e of store.updateLog({ sender: 'bb', reverse: true, limit: 2 })) bb.push(e.seq)
  assert.deepEqual(bb, [7, 5])
  assert.deepEqual((await store.metricsHistory()).map((m) => m.round), [6, 7])
  assert.equal((await store.latestCheckpoint())?.seq, 9)
  assert.equal((await store.replayMarks())[0].highWater, 0)
  await assert.rejects(store.commit({ checkpoint: { ...cp, weights: [1] as unknown as Float32Array } }), TypeError)
  assert.equal((await store.latestCheckpoint())?.seq, 9, 'a rejected batch changes nothing')
  await store.close()
  await assert.rejects(store.commit({ log: [entry(9)] }), (e: Error) => e.name === 'StoreClosedError')
})

test('push-sum: shares that cannot be sent come back, so the total weight stays exact', async () => {
  const { net, peers } = buildPeers({ n: 4, dim: 3, graph: complete, init: { averaging: { rule: 'push-sum', fanout: 2 }, localSteps: 0 } })
  for (const p of peers) await p.engine.init()
  const total = (): number => peers.reduce((s, p) => s + p.engine.pushSumWeight, 0)
  const w0 = total()
  net.unreachable.add(peers[3].key)
  for (let r = 0; r < 10; r++) {
    for (const p of peers.slice(0, 3)) await p.engine.beginRound()
    await net.deliverAll()
    for (const p of peers.slice(0, 3)) await p.engine.endRound()
  }
  assert.ok(peers.slice(0, 3).some((p) => p.engine.totals().sendFailures > 0), 'some sends failed')
  assert.ok(Math.abs(total() - w0) < 1e-9 * w0, `total weight ${total()} vs ${w0}`)
})

test('daemon loop, dpsgd: a silent neighbour does not stall the round (roundTimeoutMs on the injected clock)', async () => {
  const { peers } = buildPeers({ n: 2, dim: 3, graph: () => [[1], [0]], init: { averaging: { rule: 'dpsgd', roundTimeoutMs: 50 }, localSteps: 0, roundIntervalMs: 5 } })
  const e = peers[0].engine
  await startAndWaitRounds(e, 2)
  await e.stop()
  assert.ok(e.round >= 2, 'rounds advanced without the neighbour')
  assert.equal(e.totals().updatesMerged, 0)
})

test('restart: an epidemic update accepted after the last checkpoint but not yet merged is recovered from the log', async () => {
  const { net, peers, clock } = buildPeers({ n: 2, dim: 3, graph: () => [[1], [0]], init: { averaging: { rule: 'epidemic', fanout: 1, weighting: 'uniform' }, localSteps: 0 } })
  const [a, b] = peers
  await b.engine.init()
  // b finishes round 0 (checkpoint at t=0)
  await b.engine.beginRound(); await b.engine.endRound()
  net.queue.length = 0
  clock.t = 10
  await a.engine.beginRound()
  await net.deliverAll() // b accepts and buffers a's model, then "crashes"
  const expected = Float32Array.from(b.learner.w, (v, i) => (v + a.learner.w[i]) / 2)
  const learner = new VectorLearner(new Float32Array(3))
  const restarted = peerEngine({ averaging: { rule: 'epidemic', fanout: 1, weighting: 'uniform' }, localSteps: 0 })({
    transport: net.transport(b.key), learner, store: b.store, clock, rng: createRng(3), envelopes: b.envelopes
  })
  await restarted.init()
  const report = await restarted.endRound()
  assert.equal(report.updatesMerged, 1)
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(learner.w[i] - expected[i]) < 1e-6, `coordinate ${i}`)
})

test('restart: an update accepted while the round ends (after the merge, before the checkpoint) is recovered', async () => {
  const init = { averaging: { rule: 'epidemic' as const, fanout: 1, weighting: 'uniform' as const }, localSteps: 0, evaluateEveryRounds: 1, checkpointEveryRounds: 1 }
  const { net, peers, clock } = buildPeers({ n: 2, dim: 3, graph: () => [[1], [0]], init })
  const [a, b] = peers
  await b.engine.init()
  await a.engine.init()
  await b.engine.beginRound()
  net.queue.length = 0
  await a.engine.beginRound() // a's model is in flight to b
  clock.t = 10
  // b's evaluation runs between taking its buffer for merging and committing the checkpoint: deliver then
  const evaluate = b.learner.evaluate.bind(b.learner)
  b.learner.evaluate = async () => { clock.t = 11; await net.deliverAll(); return await evaluate() }
  const first = await b.engine.endRound()
  assert.equal(first.updatesMerged, 0, 'a\'s model arrived after the buffer was taken')
  assert.equal((await b.store.latestCheckpoint())?.round, 1, 'the checkpoint was committed after the delivery')
  const expected = Float32Array.from(b.learner.w, (v, i) => (v + a.learner.w[i]) / 2)
  // b "crashes" here; the restarted engine must find a's acknowledged model in the log and merge it
  const learner = new VectorLearner(new Float32Array(3))
  const restarted = peerEngine(init)({ transport: net.transport(b.key), learner, store: b.store, clock, rng: createRng(3), envelopes: b.envelopes })
  await restarted.init()
  const report = await restarted.endRound()
  assert.equal(report.updatesMerged, 1)
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(learner.w[i] - expected[i]) < 1e-6, `coordinate ${i}`)
})

test('Lamport rounds: a slow epidemic peer follows the round of the updates it accepts, so it is not left STALE', async () => {
  const { net, peers } = buildPeers({ n: 2, dim: 3, graph: () => [[1], [0]], init: { averaging: { rule: 'epidemic', fanout: 1, maxStalenessRounds: 2 }, localSteps: 0 } })
  const [fast, slow] = peers
  await slow.engine.init()
  for (let r = 0; r < 20; r++) { await fast.engine.beginRound(); await fast.engine.endRound() }
  net.queue.length = 0
  // one sender alone moves it by at most roundClockStep (2) per round (round-clock.ts): it closes the gap by 2 a round
  const verdicts: Array<string | null> = []
  for (let r = 0; r < 12 && verdicts.at(-1) !== null; r++) {
    await fast.engine.beginRound()
    await net.deliverAll()
    await fast.engine.endRound()
    await slow.engine.endRound()
    await slow.engine.beginRound()
    for (const d of net.queue.splice(0)) verdicts.push(await fast.engine.handleMessage(d.message))
  }
  assert.equal(verdicts.at(-1), null, `the slow peer's update is accepted once it caught up (${verdicts.join(',')})`)
  assert.ok(verdicts.length >= 5, `not in one jump from a lone sender (${verdicts.length} rounds)`)
})

test('a model that cannot be sealed (NaN) sends nothing, reports an error event, and push-sum keeps its mass', async () => {
  const { net, peers } = buildPeers({ n: 3, dim: 3, graph: complete, init: { averaging: { rule: 'push-sum', fanout: 2 }, localSteps: 0 } })
  const p = peers[0]
  const errors: string[] = []
  p.engine.addEventListener('error', (e) => { errors.push(e.detail.name) })
  const w0 = p.engine.pushSumWeight
  p.learner.w[0] = Number.NaN
  await p.engine.beginRound()
  assert.equal(net.queue.length, 0)
  assert.equal(errors.length, 1)
  assert.equal(p.engine.pushSumWeight, w0)
  assert.equal((await p.engine.endRound()).sendFailures, 2)
})

test('a checkpoint of another model is refused at init (CheckpointMismatchError); sealing without the epoch key, NoEpochKeyError', async () => {
  const { net, peers, clock } = buildPeers({ n: 2, dim: 3, graph: complete, init: { averaging: { rule: 'epidemic', fanout: 1 }, localSteps: 0 } })
  const p = peers[0]
  await p.engine.runRound()
  const open = (learner: VectorLearner): Promise<void> => peerEngine({ averaging: { rule: 'epidemic', fanout: 1 } })({
    transport: net.transport(p.key), learner, store: p.store, clock, rng: createRng(4), envelopes: p.envelopes
  }).init()
  await assert.rejects(open(new VectorLearner(new Float32Array(4))), (e: Error) => e.name === 'CheckpointMismatchError' && /4/.test(e.message))
  const otherSchema = new VectorLearner(new Float32Array(3))
  Object.defineProperty(otherSchema, 'schemaHash', { value: 'cd'.repeat(32) })
  await assert.rejects(open(otherSchema), (e: Error) => e.name === 'CheckpointMismatchError' && /schema/.test(e.message))
  await open(new VectorLearner(new Float32Array(3))) // the right learner still restores
  const envelopes = sealedEnvelopes({ networkId: 'ab'.repeat(32), schemaHash: 'ab'.repeat(32), numParams: 3 })({
    signer: createSigner(generateIdentity(new Uint8Array(32).fill(1))), membership: { currentEpoch: 2, isMember: () => true, epochKey: () => null }
  })
  assert.throws(() => envelopes.seal({ kind: UpdateKind.UPDATE, round: 0, seq: 0, examples: 1, weight: 1, parents: [] }, new Float32Array(3)),
    (e: Error) => e.name === 'NoEpochKeyError' && /epoch 2/.test(e.message))
})

test('restart with the database lost (identity kept): the new sequence numbers start past the clock floor, nothing is EQUIVOCATION or REPLAYED', async () => {
  const init = { averaging: { rule: 'epidemic' as const, fanout: 1, weighting: 'uniform' as const }, localSteps: 0, evaluateEveryRounds: 0 }
  const { net, peers, clock } = buildPeers({ n: 2, dim: 3, graph: () => [[1], [0]], init })
  const [a, b] = peers
  clock.t = 1_000
  await a.engine.init(); await b.engine.init()
  const refusals: string[] = []
  b.engine.addEventListener('refused', (e) => { refusals.push((e as CustomEvent<{ reason: string }>).detail.reason) })
  for (let r = 0; r < 3; r++) {
    await a.engine.beginRound(); await b.engine.beginRound(); await net.deliverAll(); await a.engine.endRound(); await b.engine.endRound()
    clock.t += 1_000
  }
  assert.equal(b.engine.totals().updatesMerged, 3, 'b merged a\'s three updates before the loss')
  const before = a.engine.seq
  // a loses its database: a fresh store, the same identity and envelopes, some time later
  clock.t += 5_000
  const fresh = peerEngine(init)({ transport: net.transport(a.key), learner: new VectorLearner(new Float32Array(3)), store: new MemoryStore(), clock, rng: createRng(9), envelopes: a.envelopes })
  await fresh.init()
  assert.ok(fresh.seq > before, `the restarted peer starts at seq ${fresh.seq}, past the ${before} it had used`)
  for (let r = 0; r < 3; r++) {
    await fresh.beginRound(); await b.engine.beginRound(); await net.deliverAll(); await fresh.endRound(); await b.engine.endRound()
    clock.t += 1_000
  }
  assert.deepEqual(refusals, [], `b refused the restarted peer: ${refusals.join(', ')}`)
  assert.equal(b.engine.totals().updatesMerged, 6, 'b merged the restarted peer\'s updates')
})
