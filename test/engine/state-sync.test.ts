/** State sync (protocol/engine/state-sync.ts): a peer that is behind adopts a robust choice of its members' states. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chooseState } from '../../protocol/engine/index.js'
import { buildPeers, syncRound, type TestPeer } from './setup.js'
import { complete } from '../averaging/graphs.js'
import type { MemoryNetwork } from './helpers.js'

const DIM = 3
const init = { averaging: { rule: 'epidemic' as const, fanout: 3, weighting: 'uniform' as const, maxStalenessRounds: 5 }, localSteps: 0, evaluateEveryRounds: 0 }

test('chooseState: the lower median of the rounds and the coordinate-wise median; one liar of three moves neither', () => {
  const honest = [
    { round: 40, weights: Float32Array.from([1, 2, 3]) },
    { round: 41, weights: Float32Array.from([2, 3, 4]) }
  ]
  const liar = { round: 40 + 999, weights: Float32Array.from([1e29, -1e29, 1e29]) }
  const c = chooseState([...honest, liar])
  assert.equal(c.round, 41, 'the median round of 40, 41 and 1039')
  assert.deepEqual([...c.weights], [2, 2, 4], 'each coordinate is the median of three: the liar is outvoted')
  const two = chooseState(honest)
  assert.equal(two.round, 40, 'with two answers the earlier round')
  assert.deepEqual([...two.weights], [1.5, 2.5, 3.5], 'with two answers their mean')
  assert.throws(() => chooseState([]), { name: 'RangeError' }, 'no state to choose from')
})

/** Runs rounds for the peers in `live` only; messages to the others fail (they are down). */
async function runRounds (net: MemoryNetwork, peers: TestPeer[], live: number[], rounds: number): Promise<void> {
  const down = peers.filter((_, i) => !live.includes(i))
  for (const p of down) net.unreachable.add(p.key)
  for (let r = 0; r < rounds; r++) await syncRound(net, live.map((i) => peers[i]))
  for (const p of down) net.unreachable.delete(p.key)
}

test('a member back after a downtime longer than the window: its round clock catches up, it wants state, adopts the members\' median and is merged again', async () => {
  const { net, peers } = buildPeers({ n: 4, dim: DIM, graph: complete, init })
  for (const p of peers) await p.engine.init()
  const late = peers[3]
  // a fresh start wants state; with everyone at round 0 there is nothing to adopt
  assert.equal(late.engine.wantsState, true, 'a peer without a checkpoint wants state')
  const early = await late.engine.adoptState(await Promise.all(peers.slice(0, 3).map(async (p) => ({ from: p.key, bytes: await p.engine.stateEnvelope() }))))
  assert.equal(early.adopted, false, 'members at round 0 are not ahead')
  assert.equal(late.engine.wantsState, false, 'not-ahead clears the wish')
  await runRounds(net, peers, [0, 1, 2, 3], 2)
  // peer 3 goes down for 40 rounds (window: 5)
  await runRounds(net, peers, [0, 1, 2], 40)
  const before = Float32Array.from(late.learner.w)
  // it comes back: the first round's updates from the others are too new for its window, but their median round
  // is authenticated: the round clock adopts it and the engine wants state
  const refused: string[] = []
  peers[0].engine.addEventListener('refused', (e) => { refused.push(e.detail.reason) })
  await syncRound(net, peers)
  assert.ok(late.engine.round >= 40, `the returning peer's round ${late.engine.round} caught up with the network`)
  assert.equal(late.engine.wantsState, true, 'after catching up the peer wants state')
  const answers = await Promise.all(peers.slice(0, 3).map(async (p) => ({ from: p.key, bytes: await p.engine.stateEnvelope() })))
  // one answer tampered with in transit: refused by the envelope checks, the other two still decide
  const bad = Uint8Array.from(answers[2].bytes); bad[bad.length - 1] ^= 1
  const r = await late.engine.adoptState([answers[0], answers[1], { from: answers[2].from, bytes: bad }, answers[0]])
  assert.equal(r.adopted, true, `adopted: ${JSON.stringify(r)}`)
  if (!r.adopted) return
  assert.equal(r.from.length, 2, 'two members\' answers counted (the duplicate once, the tampered one refused)')
  assert.equal(r.refused, 1, 'the tampered answer is refused')
  const expected = Array.from({ length: DIM }, (_, i) => (peers[0].learner.w[i] + peers[1].learner.w[i]) / 2)
  for (let i = 0; i < DIM; i++) assert.ok(Math.abs(late.learner.w[i] - expected[i]) < 1e-5, `coordinate ${i}: ${late.learner.w[i]} vs ${expected[i]}`)
  assert.ok(Math.abs(late.learner.w[0] - before[0]) > 1e-3, 'the stale model was replaced')
  assert.equal(late.engine.wantsState, false, 'adopting clears the wish')
  // a checkpoint of the adopted state is in the store
  const cp = await late.store.latestCheckpoint()
  assert.ok(cp != null && cp.round === late.engine.round, `checkpoint at the adopted round (${String(cp?.round)})`)
  // and it is merged by the others from now on: no round-window refusals of its updates
  const n = refused.length
  await runRounds(net, peers, [0, 1, 2, 3], 3)
  assert.deepEqual(refused.slice(n).filter((x) => /ROUND/.test(x)), [], 'no round-window refusals after the adoption')
  const again = await late.engine.adoptState(answers)
  assert.equal(again.adopted, false, 'a peer that does not want state adopts nothing')
})

test('epidemic momentum: an adopted state restarts the velocity (the jump to the network is no step to carry on)', async () => {
  const { net, peers } = buildPeers({ n: 4, dim: DIM, graph: complete, init: { ...init, averaging: { ...init.averaging, momentum: 0.8 } } })
  for (const p of peers) await p.engine.init()
  const late = peers[3]
  await runRounds(net, peers, [0, 1, 2, 3], 2)
  // the late peer drifts far from the others while it is down (its own velocity and model are stale)
  late.learner.w = Float32Array.from(late.learner.w, (v) => v + 500)
  await runRounds(net, peers, [3], 3)
  await runRounds(net, peers, [0, 1, 2], 40)
  await syncRound(net, peers)
  assert.equal(late.engine.wantsState, true, 'after catching up the peer wants state')
  const answers = await Promise.all(peers.slice(0, 3).map(async (p) => ({ from: p.key, bytes: await p.engine.stateEnvelope() })))
  const r = await late.engine.adoptState(answers)
  assert.equal(r.adopted, true, `adopted: ${JSON.stringify(r)}`)
  await runRounds(net, peers, [0, 1, 2, 3], 3)
  let gap = 0
  for (let i = 0; i < DIM; i++) gap = Math.max(gap, Math.abs(late.learner.w[i] - peers[0].learner.w[i]))
  assert.ok(gap < 1, `the adopted peer stays with the network (largest gap ${gap}; the 500 it was off would return with the velocity)`)
})
