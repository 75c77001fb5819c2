/**
 * Differential privacy for rule glm-newton in the simulator (issue 17): a scenario with a `privacy` block and rule
 * glm-newton runs every honest peer's releases through its own accountant (one Gaussian release a phase, at
 * sampling rate 1), reports the budget spent per peer in `results.privacy`, and the fit in `results.exactGlm`
 * lands near the pooled (non-private) fit, with the eigenvalue floor stated. The same scenario without the block
 * reaches the pooled fit exactly: the noise is real, and so is its price. The share of records the clip
 * down-weighted is reported: a clip far below the records' norms biases the totals (predicted / observed 0.72 at
 * clip 1, 0.94 at 3, 0.99 at 8 to 20 on these rows; docs/security.md).
 * Synthetic Poisson frequency data written as a CSV (seeded): 8 peers of about 5,600 training rows.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRng } from '../../protocol/rng.js'
import { poisson } from '../learning/glm-peers.js'
import { epsilonOf } from '../../learning/privacy/index.js'
import { parseScenario } from '../../simulations/scenario.js'
import { runScenario } from '../../simulations/run.js'

const PEERS = 8
const ROWS = 50_000
const PHASES = [3, 6, 6, 15]
const ROUNDS = 30 // phases begun: 3 + 6 + 6 + 15 = 4 releases

function writeCsv (file: string): void {
  const rng = createRng('glm-privacy-scenario')
  const lines = ['claims,exposure,area,fuel,age']
  for (let r = 0; r < ROWS; r++) {
    const area = rng.int(3); const fuel = rng.int(2); const age = rng.normal()
    const exposure = 0.2 + 0.8 * rng.next()
    const eta = -1.5 + [0, 0.3, 0.6][area] + [0, -0.4][fuel] + 0.25 * age
    lines.push(`${poisson(rng, exposure * Math.exp(eta))},${exposure.toFixed(4)},${'ABC'[area]},${'DE'[fuel]},${age.toFixed(4)}`)
  }
  writeFileSync(file, lines.join('\n') + '\n')
}

test('glm-newton with a privacy block in the simulator: budget per peer, the fit near the pooled one, the floor stated', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-glm-dp-sim-'))
  try {
    writeCsv(join(dir, 'synth.csv'))
    const base = {
      name: 'glm-dp', peers: PEERS, rounds: ROUNDS, localSteps: 1, seed: 5,
      dataset: {
        name: 'synth', file: join(dir, 'synth.csv'), testFraction: 0.1,
        columns: [
          { name: 'claims', role: 'label', kind: 'count' }, { name: 'exposure', role: 'exposure' },
          { name: 'area', role: 'categorical', categories: ['A', 'B', 'C'] }, { name: 'fuel', role: 'categorical', categories: ['D', 'E'] },
          { name: 'age', role: 'numeric' }
        ]
      },
      model: { type: 'poisson-glm' }, rule: { rule: 'glm-newton', phases: PHASES }, topology: { kind: 's-random', s: 4 }
    }
    const clean = await runScenario(parseScenario(base, 'clean'), { workers: 0, baselines: false, variants: false })
    assert.ok(clean.exactGlm != null, 'results.exactGlm without privacy')
    assert.equal(clean.privacy, undefined, 'no privacy section without a privacy block')
    assert.ok(clean.exactGlm.maxAbsCoefDiff < 1e-4, `without privacy the peers reach the pooled fit (${clean.exactGlm.maxAbsCoefDiff})`)
    assert.equal(clean.exactGlm.privateRidge, null, 'no floor without privacy')
    assert.equal(clean.exactGlm.privateClippedShare, null, 'no clipped records without privacy')

    const scenario = parseScenario({ ...base, privacy: { epsilon: 8, delta: 1e-5, clip: 12 } }, 'private')
    assert.equal(scenario.privacy?.steps, 4, 'the noise is planned for the four phases begun in 30 rounds')
    const r = await runScenario(scenario, { workers: 0, baselines: false, variants: false })
    const p = r.privacy
    assert.ok(p != null, 'results carry a privacy section')
    assert.equal(p.perPeer.length, PEERS, 'every honest peer reports its budget')
    const sigma = p.noiseMultiplier
    assert.ok(sigma != null && sigma > 0, `a noise multiplier was derived (${sigma})`)
    const expected = epsilonOf(1, sigma, 4, 1e-5).epsilon
    for (const q of p.perPeer) {
      assert.equal(q.steps, 4, `peer ${q.index}: one release a phase`)
      assert.equal(q.sampleRate, 1, `peer ${q.index}: every release reads all its rows (q = 1)`)
      assert.ok(Math.abs(q.spent - expected) < 1e-3 * expected, `peer ${q.index}: spent ${q.spent} = 4 releases at q = 1 (${expected})`)
      assert.ok(q.spent <= 8 && !q.exhausted, `peer ${q.index}: within the budget of 8 (${q.spent})`)
    }
    assert.ok(p.epsilon != null && p.epsilon <= 8, `largest epsilon spent ${p.epsilon}`)
    const e = r.exactGlm
    assert.ok(e != null, 'results.exactGlm with privacy')
    assert.ok(e.privateRidge != null && e.privateRidge > 0, `the eigenvalue floor is reported (${e.privateRidge})`)
    assert.ok(e.maxAbsCoefDiff > 1e-3, `the releases are noisy: the fit is not the pooled one to 1e-3 (${e.maxAbsCoefDiff})`)
    assert.ok(e.maxAbsCoefDiff < 0.15, `and still near it (${e.maxAbsCoefDiff}, ${e.worstColumn})`)
    assert.ok(e.worstPeerPredictedOverObserved != null && Math.abs(e.worstPeerPredictedOverObserved - 1) < 0.02, `predicted / observed ${e.worstPeerPredictedOverObserved}`)
    assert.ok(e.privateClippedShare != null && e.privateClippedShare > 0 && e.privateClippedShare < 0.05, `a few records clipped at clip 12 (${e.privateClippedShare})`)

    // a clip far below the records' norms down-weights every record: the fit's totals fall (claims under-predicted)
    const small = await runScenario(parseScenario({ ...base, privacy: { epsilon: 8, delta: 1e-5, clip: 1 } }, 'small clip'), { workers: 0, baselines: false, variants: false })
    const s = small.exactGlm
    assert.ok(s?.privateClippedShare != null && s.privateClippedShare > 0.9, `clip 1 clips nearly every record (${s?.privateClippedShare})`)
    assert.ok(s.worstPeerPredictedOverObserved != null && s.worstPeerPredictedOverObserved < 0.85, `and the clipped fit under-predicts (predicted / observed ${s.worstPeerPredictedOverObserved})`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
