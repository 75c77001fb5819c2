/**
 * Differential privacy for rule glm-newton (learning/glm/private-stats.ts): each evaluation is one Gaussian
 * release of the clipped working statistics, accounted at sampling rate 1; the noisy Fisher information is
 * floored to positive definite; the fit lands near the non-private one; a spent budget stops the peer sending.
 * Synthetic Poisson frequency data (test/learning/glm-peers.ts), 10 peers of 10,000 rows (each peer's release is
 * private on its own, so its Fisher information must stand well above the noise: a few thousand rows here).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRng } from '../../protocol/rng.js'
import { PeerPrivacy, epsilonOf, noiseForTarget } from '../../learning/privacy/index.js'
import { glmFamily, privateWorkingStats, workingStats, eigenFloor, sensitivity, symmetricEigen, unpackSymmetric } from '../../learning/glm/index.js'
import { buildWorld, runRounds, maxDiffFrom, synthRows } from './glm-peers.js'

const PHASES = [3, 6, 6, 6, 19]
const ROUNDS = 40
const RELEASES = 5 // phases begun in 40 rounds

const privacyOf = (epsilon: number, noiseMultiplier: number, clip = 3) => (k: number): PeerPrivacy => {
  const rng = createRng('glm-dp').fork(`peer-${k}`)
  return new PeerPrivacy({ spec: { epsilon, delta: 1e-5, clip, noiseMultiplier }, normal: () => rng.normal(), sampleRate: 1 })
}

test('a private release: records clipped, every slot noisy, the Fisher information floored to positive definite (the floor stated)', () => {
  const { design, rows } = synthRows(1, 300)
  const family = glmFamily('poisson')
  const beta = new Float64Array(design.p); beta[0] = -1.5
  const rng = createRng('release')
  const clean = workingStats(design, family, rows, beta, -1.5)
  const r = privateWorkingStats(design, family, rows, beta, -1.5, { clip: 3, noiseMultiplier: 2, normal: () => rng.normal() })
  assert.equal(r.noiseStd, 2 * sensitivity(3), 'noise std = noiseMultiplier x sensitivity (two clipped parts: sqrt(2) C)')
  assert.ok(Math.abs(r.stats.n - clean.n) < 6 * r.noiseStd && r.stats.n !== clean.n, `the count is noisy (${r.stats.n} vs ${clean.n})`)
  const { values } = symmetricEigen(unpackSymmetric(r.stats.info, design.p), design.p)
  const floor = eigenFloor(design.p, r.noiseStd)
  assert.ok(Math.min(...values) >= floor * (1 - 1e-9), `every eigenvalue at least the floor ${floor}: ${Math.min(...values)}`)
  assert.ok(r.ridge > 0, `the empty factor levels' directions were lifted, and the lift is reported (${r.ridge})`)
})

test('glm-newton with privacy: epsilon spent as composed releases at q = 1, the fit near the non-private one, no honest share refused', async () => {
  const clean = buildWorld({ peers: 10, rowsPerPeer: 10000, averaging: { phases: PHASES } })
  await runRounds(clean, ROUNDS)
  const reference = Array.from(clean.pooled.coefficients)
  const sigma = noiseForTarget(8, 1e-5, 1, RELEASES)
  const w = buildWorld({ peers: 10, rowsPerPeer: 10000, averaging: { phases: PHASES }, privacy: privacyOf(8, sigma) })
  await runRounds(w, ROUNDS)
  const status = w.peers[1].learner.privacy?.status()
  assert.ok(status != null, 'the learner has its privacy')
  assert.equal(status.steps, RELEASES, 'one release a phase')
  const expected = epsilonOf(1, sigma, RELEASES, 1e-5).epsilon
  assert.ok(Math.abs(status.epsilon - expected) < 1e-9 && status.epsilon <= 8, `epsilon spent ${status.epsilon} = ${RELEASES} Gaussian releases at q = 1 (${expected}), within the budget 8`)
  const diff = maxDiffFrom(w, reference)
  assert.ok(diff < 0.1, `coefficients within 0.1 of the non-private pooled fit (${diff})`)
  const refused = w.peers.reduce((s, p) => s + Object.values(p.engine.totals().refused).reduce((a: number, b) => a + (b ?? 0), 0), 0)
  assert.equal(refused, 0, 'noisy honest shares pass the statistics bound')
  assert.ok(w.peers[1].learner.privateRidge() > 0, 'the floor applied is reported')
})

test('glm-newton with privacy: a peer whose budget is spent evaluates no more and sends nothing (it still receives)', async () => {
  // budget for 3 releases at this noise: the fourth phase finds it spent
  const sigma = 2
  const budget = (epsilonOf(1, sigma, 3, 1e-5).epsilon + epsilonOf(1, sigma, 4, 1e-5).epsilon) / 2
  const w = buildWorld({ peers: 4, rowsPerPeer: 300, averaging: { phases: PHASES }, privacy: privacyOf(budget, sigma) })
  await runRounds(w, 16, 2)
  const p = w.peers[0]
  const status = p.learner.privacy?.status()
  assert.ok(status?.exhausted === true, 'the budget is spent')
  assert.equal(status.steps, 3, 'three releases, none past the budget')
  assert.ok(status.epsilon <= budget, `spent ${status.epsilon} within ${budget}`)
  assert.ok(p.learner.privacyExhausted(), 'the learner says so to the engine')
  const sent = p.engine.totals().updatesSent
  await runRounds(w, 3, 2)
  assert.equal(p.engine.totals().updatesSent, sent, 'nothing more is sent')
  assert.ok(p.engine.totals().updatesMerged > 0, 'it still merges what it receives')
})
