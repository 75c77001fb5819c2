/**
 * Replay protection has one owner: the engine's replay guard, checked by the validator inside `open()` (cheap
 * first) and committed by the engine's admission, which serialises check and commit. Copies of one envelope (or
 * two envelopes with one seq) arriving at the same time must not both pass.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildPeers } from './setup.js'
import { complete } from '../averaging/graphs.js'

const DIM = 4

test('two copies of one envelope handled at the same time: one accepted, one REPLAYED, merged once', async () => {
  const { net, peers } = buildPeers({ n: 2, dim: DIM, graph: complete, init: { averaging: { rule: 'push-sum' }, localSteps: 0, evaluateEveryRounds: 0 } })
  const [a, b] = peers
  await b.engine.init()
  const w0 = b.engine.pushSumWeight
  await a.engine.beginRound()
  const [d] = net.queue.splice(0)
  assert.equal(d.to, b.key, 'the update goes to peer 1')
  const share = a.engine.pushSumWeight // push-sum keeps the same share it sends
  const verdicts = await Promise.all([b.engine.handleMessage(d.message), b.engine.handleMessage(d.message)])
  assert.deepEqual(verdicts.map(String).sort(), ['REPLAYED', 'null'], `verdicts ${JSON.stringify(verdicts)}`)
  assert.equal(b.engine.totals().updatesMerged, 1, 'the update is merged once')
  assert.ok(Math.abs(b.engine.pushSumWeight - (w0 + share)) < 1e-9, `push-sum weight ${b.engine.pushSumWeight}, expected ${w0 + share}`)
})

test('two envelopes with the same seq handled at the same time: one accepted, the other EQUIVOCATION with evidence', async () => {
  const { peers } = buildPeers({ n: 2, dim: DIM, graph: complete, init: { averaging: { rule: 'epidemic', fanout: 1 }, localSteps: 0, evaluateEveryRounds: 0 } })
  const [a, b] = peers
  await b.engine.init()
  const fields = { kind: 0 as const, round: 0, seq: 5, examples: 10, weight: 10, parents: [] }
  const first = await a.envelopes.seal(fields, new Float32Array(DIM).fill(1))
  const second = await a.envelopes.seal(fields, new Float32Array(DIM).fill(2))
  const verdicts = await Promise.all([
    b.engine.handleMessage({ from: a.key, bytes: first.bytes, via: 'direct' }),
    b.engine.handleMessage({ from: a.key, bytes: second.bytes, via: 'direct' })
  ])
  assert.deepEqual(verdicts.map(String).sort(), ['EQUIVOCATION', 'null'], `verdicts ${JSON.stringify(verdicts)}`)
  const evidence = await b.store.evidence()
  assert.equal(evidence.length, 1, 'the equivocation is kept as evidence')
  assert.deepEqual(new Set([evidence[0].firstId, evidence[0].secondId]), new Set([first.id, second.id]), 'both envelope ids are named')
})
