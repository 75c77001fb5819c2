/** Engine-level refusals, evidence, metrics, the trainer seam, the behaviour seam, checkpoints and the loop. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { peerEngine, MemoryStore, type Behaviour, type PeerEngineInit, type UpdateLogEntry } from '../../protocol/engine/index.js'
import { createRng } from '../../protocol/rng.js'
import { buildPeers, startAndWaitRounds, syncRound } from './setup.js'
import { StepClock, VectorLearner } from './helpers.js'
import { complete } from '../averaging/graphs.js'

const DIM = 4

/** Two epidemic peers (fanout 1, no training unless `init` says so). */
function twoPeers (init: PeerEngineInit = {}, extra: Pick<Parameters<typeof buildPeers>[0], 'targets' | 'behaviours'> = {}): ReturnType<typeof buildPeers> {
  return buildPeers({ n: 2, dim: DIM, graph: complete, init: { averaging: { rule: 'epidemic', fanout: 1 }, localSteps: 0, ...init }, ...extra })
}

async function logOf (store: MemoryStore): Promise<UpdateLogEntry[]> {
  const out: UpdateLogEntry[] = []
  for await (const e of store.updateLog()) out.push(e)
  return out
}

test('a replayed envelope is refused REPLAYED, counted in metrics with a reason label, and logged', async () => {
  const { net, peers } = twoPeers()
  await peers[0].engine.beginRound()
  const [d] = net.queue.splice(0)
  assert.equal(d.to, peers[1].key)
  assert.equal(await peers[1].engine.handleMessage(d.message), null)
  assert.equal(await peers[1].engine.handleMessage(d.message), 'REPLAYED')
  assert.equal(peers[1].metrics.counters.get('murmur_engine_updates_refused_total{reason=REPLAYED}'), 1)
  assert.equal(peers[1].engine.totals().refused.REPLAYED, 1)
  const log = await logOf(peers[1].store)
  assert.deepEqual(log.map((e) => [e.verdict, e.reason]), [['accepted', null], ['refused', 'REPLAYED']])
  assert.equal(log[0].sender, peers[0].key)
  assert.deepEqual([...log[0].bytes], [...d.message.bytes])
  const marks = await peers[1].store.replayMarks()
  assert.equal(marks[0].sender, peers[0].key)
  // a restarted engine on the same store still refuses the replay
  const again = peerEngine({ averaging: { rule: 'epidemic', fanout: 1 }, localSteps: 0 })({
    transport: net.transport(peers[1].key), learner: peers[1].learner, store: peers[1].store, clock: new StepClock(),
    rng: createRng(1), envelopes: peers[1].envelopes
  })
  assert.equal(await again.handleMessage(d.message), 'REPLAYED')
})

test('a flipped signature bit is refused BAD_SIGNATURE; a flipped ciphertext bit is refused too', async () => {
  const { net, peers } = twoPeers()
  await peers[0].engine.beginRound()
  const [d] = net.queue.splice(0)
  const bytes = d.message.bytes
  // flips in the version byte, the middle and the last (ciphertext) byte are all refused
  const reasons: string[] = []
  for (const pos of [2, Math.floor(bytes.length / 2), bytes.length - 1]) {
    const bad = bytes.slice(); bad[pos] ^= 1
    const reason = await peers[1].engine.handleMessage({ ...d.message, bytes: bad })
    assert.notEqual(reason, null, `flip at ${pos} must be refused`)
    reasons.push(reason as string)
  }
  assert.equal(reasons[2], 'BAD_PAYLOAD_HASH', 'the last byte is ciphertext')
  // flip a bit inside the signature (envelope = u16 header length || header || 64-byte signature || ...)
  const signatureAt = 2 + ((bytes[0] << 8) | bytes[1])
  const badSig = bytes.slice(); badSig[signatureAt + 5] ^= 0x80
  assert.equal(await peers[1].engine.handleMessage({ ...d.message, bytes: badSig }), 'BAD_SIGNATURE')
  const badSignatures = 1 + reasons.filter((r) => r === 'BAD_SIGNATURE').length
  assert.equal(peers[1].engine.totals().refused.BAD_SIGNATURE, badSignatures, 'counted')
  assert.equal(peers[1].metrics.counters.get('murmur_engine_updates_refused_total{reason=BAD_SIGNATURE}'), badSignatures, 'metric with reason label')
  // the original still goes through afterwards (nothing was committed for the bad ones)
  assert.equal(await peers[1].engine.handleMessage(d.message), null)
})

test('the trainer seam is called in order: train, weights, then setWeights on merge', async () => {
  const { net, peers } = twoPeers({ localSteps: 3, evaluateEveryRounds: 1 }, { targets: () => new Float32Array(DIM) })
  const calls = peers[1].learner.calls
  calls.length = 0
  await peers[0].engine.beginRound()
  await peers[1].engine.beginRound()
  await net.deliverAll()
  const report = await peers[1].engine.endRound()
  const trainAt = calls.indexOf('train:3')
  const weightsAt = calls.indexOf('weights', trainAt)
  const setAt = calls.indexOf('setWeights', weightsAt)
  const evalAt = calls.indexOf('evaluate', setAt)
  assert.ok(trainAt >= 0 && weightsAt > trainAt && setAt > weightsAt && evalAt > setAt, `calls: ${calls.join(' ')}`)
  assert.equal(report.steps, 3)
  assert.ok(Number.isFinite(report.loss), 'loss reported')
  assert.equal(report.updatesMerged, 1)
  assert.ok(report.evaluation?.norm != null, 'evaluation in the report')
  assert.ok(report.bytesReceived > 0 && report.bytesSent > 0, 'bytes counted')
  assert.ok(report.consensusDistance != null && report.consensusDistance > 0, 'consensus distance estimated')
})

test('behaviour seam: equivocation (same seq, two envelopes) is refused EQUIVOCATION with both envelopes kept as evidence', async () => {
  // the same update twice to the same peer, with different weights but the same seq
  const twice: Behaviour = { name: 'equivocation', outgoing: (u) => [u, { ...u, weights: Float32Array.from(u.weights, (v) => -v) }] }
  const { net, peers } = twoPeers({}, { behaviours: new Map([[0, twice]]) })
  await peers[1].engine.init()
  await peers[0].engine.beginRound()
  assert.equal(net.queue.length, 2)
  await net.deliverAll()
  assert.deepEqual(net.verdicts.map((v) => v.reason), [null, 'EQUIVOCATION'])
  const ev = await peers[1].store.evidence()
  assert.equal(ev.length, 1)
  assert.equal(ev[0].sender, peers[0].key)
  assert.ok(ev[0].first.length > 0 && ev[0].second.length > 0 && ev[0].firstId !== ev[0].secondId, 'both envelopes kept')
})

test('push-sum, weight clamps off: a member\'s weight near Number.MAX_VALUE cannot overflow the receiver\'s weight (NON_FINITE)', async () => {
  const huge: Behaviour = { name: 'huge-weight', outgoing: (u) => ({ ...u, weight: Number.MAX_VALUE }) }
  const unbounded = { rule: 'push-sum', maxExampleCount: Number.MAX_VALUE, maxWeightRatio: Number.MAX_VALUE }
  const { net, peers } = buildPeers({ n: 2, dim: DIM, graph: complete, init: { averaging: unbounded, localSteps: 0 }, behaviours: new Map([[0, huge]]) })
  for (let r = 0; r < 3; r++) await syncRound(net, peers)
  const victim = peers[1]
  const toVictim = net.verdicts.filter((v) => v.to === victim.key).map((v) => v.reason)
  assert.equal(toVictim[0], null, 'the first huge weight still fits and is absorbed')
  assert.ok(toVictim.includes('NON_FINITE'), `verdicts ${toVictim.join(',')}`)
  assert.ok(Number.isFinite(victim.engine.pushSumWeight), `weight ${victim.engine.pushSumWeight}`)
  assert.ok(victim.learner.w.every(Number.isFinite), 'model stays finite')
})

test('behaviour seam: replaying an old envelope through the context is refused REPLAYED', async () => {
  let replays = 0
  const replay: Behaviour = {
    afterSend: async (ctx) => {
      const old = ctx.sentLog[ctx.sentLog.length - 1]
      if (ctx.round > 0 && old != null) { replays++; for (const p of old.to) await ctx.send(p, old.bytes) }
    }
  }
  const { net, peers } = twoPeers({}, { behaviours: new Map([[0, replay]]) })
  await peers[1].engine.init()
  for (let r = 0; r < 3; r++) { await peers[0].engine.beginRound(); await net.deliverAll(); await peers[0].engine.endRound(); await peers[1].engine.beginRound(); await net.deliverAll(); await peers[1].engine.endRound() }
  assert.equal(replays, 2)
  assert.deepEqual(net.verdicts.filter((v) => v.to === peers[1].key).map((v) => v.reason), [null, null, 'REPLAYED', null, 'REPLAYED'])
  assert.equal(peers[1].engine.totals().refused.REPLAYED, 2)
})

test('checkpoint and restart: round, model and push-sum weight restored; seq jumps past anything sent', async () => {
  const { net, peers } = buildPeers({ n: 3, dim: DIM, graph: complete, init: { averaging: { rule: 'push-sum' }, localSteps: 0 } })
  for (let r = 0; r < 5; r++) { for (const p of peers) await p.engine.beginRound(); await net.deliverAll(); for (const p of peers) await p.engine.endRound() }
  const p = peers[0]
  const seqBefore = p.engine.seq
  const cp = await p.store.latestCheckpoint()
  assert.equal(cp?.round, 5)
  const learner = new VectorLearner(new Float32Array(DIM))
  const restarted = peerEngine({ averaging: { rule: 'push-sum' }, localSteps: 0 })({
    transport: net.transport(p.key), learner, store: p.store, clock: new StepClock(), rng: createRng(2), envelopes: p.envelopes
  })
  await restarted.init()
  assert.equal(restarted.round, 5)
  assert.ok(restarted.seq > seqBefore, 'seq never reused')
  assert.deepEqual([...learner.w], [...p.learner.w])
  assert.equal(restarted.pushSumWeight, p.engine.pushSumWeight)
})

test('start/stop loop on the injected clock runs rounds and writes a final checkpoint', async () => {
  const { peers } = twoPeers({ localSteps: 1, roundIntervalMs: 10 })
  const e = peers[0].engine
  await startAndWaitRounds(e, 3)
  assert.equal(e.running, true)
  await e.stop()
  assert.equal(e.running, false)
  const cp = await peers[0].store.latestCheckpoint()
  assert.equal(cp?.round, e.round)
  assert.ok(e.round >= 3, 'rounds ran')
})

test('bad options and out-of-order steps fail with named errors', async () => {
  assert.throws(() => buildPeers({ n: 1, dim: 2, graph: () => [[]], init: { averaging: { rule: 'epidemic', fanout: 0 } } }), (e: Error) => e.name === 'InvalidAveragingParamsError')
  assert.throws(() => buildPeers({ n: 1, dim: 2, graph: () => [[]], init: { localSteps: -1 } }), (e: Error) => e.name === 'InvalidEngineOptionsError' && /localSteps/.test(e.message))
  assert.throws(() => buildPeers({ n: 1, dim: 2, graph: () => [[]], init: { nope: 1 } as never }), (e: Error) => e.name === 'InvalidEngineOptionsError' && /nope/.test(e.message))
  const { peers } = buildPeers({ n: 1, dim: 2, graph: () => [[]], init: { localSteps: 0 } })
  await peers[0].engine.beginRound()
  await assert.rejects(peers[0].engine.beginRound(), (e: Error) => e.name === 'EngineStateError')
})
