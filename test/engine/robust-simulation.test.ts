/**
 * The byzantine scenario's goal at a small size, through the simulator and real engines: 12 peers, 4 rounds,
 * 2 of them sending sign-flipped models x1000. The median and the trimmed mean keep the honest peers learning;
 * the plain mean collapses. A robust merge replaced by the mean collapses too, and fails here.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { loadScenario } from '../../simulations/scenario.js'
import { runScenario } from '../../simulations/run.js'

async function accuracy (merge: 'mean' | 'median' | 'trimmed-mean'): Promise<number> {
  const scenario = await loadScenario('byzantine', {
    peers: 12,
    rounds: 4,
    // the engine's default bound step off: this is the merges' own robustness (bounded-influence.test.ts has it on)
    rule: { rule: 'epidemic', fanout: 16, merge, trimBeta: 0.2, clip: 'off' },
    adversaries: { fraction: 2 / 12, attack: { kind: 'sign-flip', scale: 1000 } },
    evaluation: { every: 4, curveRows: 300 },
    baselines: { centralized: false, localOnly: false, fedavg: false }
  })
  const r = await runScenario(scenario, { workers: 0, variants: false })
  assert.ok(r.decentralized.mean != null, 'the run reports the honest peers\' accuracy')
  return r.decentralized.mean
}

test('byzantine at 12 peers: median and trimmed mean keep learning under sign-flip x1000, the plain mean collapses', async () => {
  const median = await accuracy('median')
  const trimmed = await accuracy('trimmed-mean')
  const mean = await accuracy('mean')
  assert.ok(mean < 0.5, `plain mean should collapse under the attack, accuracy ${mean}`)
  assert.ok(median > 0.6, `median should keep the honest peers learning, accuracy ${median}`)
  assert.ok(trimmed > 0.6, `trimmed mean should keep the honest peers learning, accuracy ${trimmed}`)
})
