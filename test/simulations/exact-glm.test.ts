/**
 * The exact GLM in the simulator: a scenario with rule glm-newton on R's Insurance data (the fixture's rows as a
 * CSV, 8 peers) reports `exactGlm`: every peer's coefficients against the pooled fit, the worst peer's deviance on
 * the training rows, and R's summary(glm) table from a peer's estimate.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseScenario } from '../../simulations/scenario.js'
import { runScenario } from '../../simulations/run.js'
import { fixtureCase } from '../learning/glm-fixture.js'

const run = async (extra: Record<string, unknown>): Promise<NonNullable<Awaited<ReturnType<typeof runScenario>>['exactGlm']>> => {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-glm-sim-'))
  try {
    const c = fixtureCase('insurance-poisson-offset')
    const header = [c.response, c.exposure as string, ...c.terms.map((t) => t.name)]
    const n = c.data[c.response].length
    writeFileSync(join(dir, 'insurance.csv'), [header.join(','), ...Array.from({ length: n }, (_, r) => header.map((h) => String(c.data[h][r])).join(','))].join('\n') + '\n')
    const scenario = parseScenario({
      name: 'insurance-glm', peers: 8, rounds: 30, localSteps: 1, seed: 3,
      dataset: {
        name: 'insurance', file: join(dir, 'insurance.csv'), testFraction: 0.1,
        columns: [{ name: c.response, role: 'label', kind: 'count' }, { name: c.exposure, role: 'exposure' }, ...c.terms.map((t) => ({ name: t.name, role: 'categorical', categories: t.levels }))]
      },
      model: { type: 'poisson-glm' }, rule: { rule: 'glm-newton', phases: [3, 6, 6, 15] }, topology: { kind: 's-random', s: 4 },
      ...extra
    }, 'test')
    const r = await runScenario(scenario, { workers: 0, baselines: false, variants: false })
    assert.ok(r.exactGlm != null, 'results.exactGlm is there for rule glm-newton')
    return r.exactGlm
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('8 simulated peers with rule glm-newton reach the pooled fit; results carry exactGlm and the table', async () => {
  {
    const e = await run({})
    assert.equal(e.peers, 8, 'every honest peer compared')
    assert.ok(e.maxAbsCoefDiff < 1e-4, `max coefficient difference from the pooled fit ${e.maxAbsCoefDiff}`)
    assert.ok(e.roundsTo1e3 != null && e.roundsTo1e3 <= 30, `within 1e-3 after ${e.roundsTo1e3} rounds`)
    assert.ok(e.deviance5Digits, `the worst peer's deviance to 5 digits (${e.worstPeerDevianceRelDiff})`)
    assert.ok(e.worstPeerPredictedOverObserved != null && Math.abs(e.worstPeerPredictedOverObserved - 1) < 1e-3, `predicted / observed ${e.worstPeerPredictedOverObserved}`)
    assert.ok(e.table != null && /Residual deviance/.test(e.table.text), 'the summary(glm) table from a peer\'s estimate')
    assert.equal(e.trace.length, 30, 'one trace entry per round')
  }
})

test('with personal models\' validation rows held out, the pooled fit is on the rows the peers train on', async () => {
  const e = await run({ personal: { validation: 0.2 } })
  assert.ok(e.maxAbsCoefDiff < 1e-4, `max coefficient difference from the pooled fit of the same rows ${e.maxAbsCoefDiff}`)
  assert.ok(e.deviance5Digits, `the worst peer's deviance to 5 digits (${e.worstPeerDevianceRelDiff})`)
})
