/**
 * Robust merges inside real engines (real sealing and validation): one outlier among the received models moves a
 * plain mean far away but not the median or the trimmed mean. Each robust case asserts a value the plain mean
 * cannot produce, so a robust merge replaced by the mean fails here.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { complete } from '../averaging/graphs.js'
import { buildPeers, syncRound } from './setup.js'
import type { PeerEngineInit } from '../../protocol/engine/index.js'

// peer 0 holds 0; the others send 1, 2, 6 and an outlier 1000 (every coordinate)
const VALUES = [0, 1, 2, 6, 1000]

// the merges themselves, with the engine's bound step off (test/engine/bounded-influence.test.ts has it on)
async function mergedAtPeer0 (averaging: PeerEngineInit['averaging']): Promise<number[]> {
  const { net, peers } = buildPeers({ n: 5, dim: 3, graph: complete, init: { averaging: { ...(averaging as object), clip: 'off' }, localSteps: 0, evaluateEveryRounds: 0 } })
  peers.forEach((p, i) => { p.learner.w = Float32Array.from([VALUES[i], VALUES[i], VALUES[i]]) })
  for (const p of peers) await p.engine.beginRound()
  await net.deliverAll()
  await peers[0].engine.endRound()
  assert.equal(peers[0].engine.totals().updatesMerged, 4, 'peer 0 merged the four received models')
  return [...peers[0].learner.w]
}

test('epidemic, merge mean: the outlier drags the model to the plain mean (the reference the robust merges must beat)', async () => {
  const w = await mergedAtPeer0({ rule: 'epidemic', fanout: 4, merge: 'mean' })
  for (const v of w) assert.ok(Math.abs(v - 1009 / 5) < 1e-3, `mean of ${VALUES.join(', ')} is 201.8, got ${v}`)
})

test('epidemic, merge median: the coordinate-wise median of own and received models (2), not the mean', async () => {
  const w = await mergedAtPeer0({ rule: 'epidemic', fanout: 4, merge: 'median' })
  for (const v of w) assert.equal(v, 2, `median of ${VALUES.join(', ')} is 2, got ${v}`)
})

test('epidemic, merge trimmed-mean: one value dropped at each end (beta 0.2 of 5), the mean of 1, 2, 6', async () => {
  const w = await mergedAtPeer0({ rule: 'epidemic', fanout: 4, merge: 'trimmed-mean', trimBeta: 0.2 })
  for (const v of w) assert.ok(Math.abs(v - 3) < 1e-6, `trimmed mean of ${VALUES.join(', ')} is 3, got ${v}`)
})

test('dpsgd, merge median: the robust merge applies to the synchronous rule too', async () => {
  const w = await mergedAtPeer0({ rule: 'dpsgd', merge: 'median' })
  for (const v of w) assert.equal(v, 2, `median of ${VALUES.join(', ')} is 2, got ${v}`)
})

test('epidemic, merge median: the outlier cannot pull any honest peer past the honest range over several rounds', async () => {
  const { net, peers } = buildPeers({ n: 5, dim: 3, graph: complete, init: { averaging: { rule: 'epidemic', fanout: 4, merge: 'median' }, localSteps: 0, evaluateEveryRounds: 0 } })
  peers.forEach((p, i) => { p.learner.w = Float32Array.from([VALUES[i], VALUES[i], VALUES[i]]) })
  for (let r = 0; r < 3; r++) {
    await syncRound(net, peers)
    peers[4].learner.w.fill(1000) // the outlier keeps sending 1000
  }
  for (const p of peers.slice(0, 4)) for (const v of p.learner.w) assert.ok(v >= 0 && v <= 6, `honest model ${v} stays within the honest values`)
})
