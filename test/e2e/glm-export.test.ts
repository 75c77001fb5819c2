/**
 * The exact GLM in real daemons: `murmur testnet` runs two daemon processes with rule glm-newton on R's
 * Insurance data (test/fixtures/glm-r-reference.json, half the rows each), then `murmur export --format glm`
 * (exportGlm, read-only on the stopped datadir) prints R's summary(glm) table: compared with R's coefficients,
 * standard errors and deviance (to the network goal's 1e-3: the daemons' rounds drift, so a phase's estimate mixes
 * a little unevenly; 1e-6 in most runs). Eight Newton steps by round 30, then the statistics at the fit keep mixing (the
 * daemons' rounds are asynchronous: the last phase is long, so the table does not depend on where they stop).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runTestnet } from '../../node/testnet.js'
import { exportGlm } from '../../node/model-io.js'
import { fixtureCase } from '../learning/glm-fixture.js'

describe('exact GLM over real daemons', { timeout: 180_000 }, () => {
  it('two daemons fit R\'s Insurance Poisson GLM; export --format glm gives R\'s table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'murmur-glm-e2e-'))
    try {
      const c = fixtureCase('insurance-poisson-offset')
      const header = [c.response, c.exposure as string, ...c.terms.map((t) => t.name)]
      const n = c.data[c.response].length
      const lines = [header.join(','), ...Array.from({ length: n }, (_, r) => header.map((h) => String(c.data[h][r])).join(','))]
      writeFileSync(join(dir, 'insurance.csv'), lines.join('\n') + '\n')
      const columns = [
        { name: c.response, role: 'label', kind: 'count' }, { name: c.exposure, role: 'exposure' },
        ...c.terms.map((t) => ({ name: t.name, role: 'categorical', categories: t.levels }))
      ]
      const scenario = {
        name: 'insurance-glm', peers: 2, rounds: 40, localSteps: 1, partition: { kind: 'iid' },
        dataset: { name: 'insurance', file: join(dir, 'insurance.csv'), testFraction: 0, columns },
        model: { type: 'poisson-glm' }, rule: { rule: 'glm-newton', phases: [3, 4, 4, 4, 4, 4, 4, 4, 100] }
      }
      writeFileSync(join(dir, 'scenario.json'), JSON.stringify(scenario))
      const run = join(dir, 'run')
      await runTestnet({ peers: 2, scenario: join(dir, 'scenario.json'), dir: run, keep: true, roundIntervalMs: 100, timeoutMs: 150_000, baselines: false })
      const r = await exportGlm({ datadir: join(run, 'peer-1'), data: join(run, 'data', 'peer-1.csv') })
      assert.equal(r.peers, 2, 'the statistics average over the 2 members')
      c.names.forEach((name, k) => {
        const row = r.summary.coefficients.find((x) => x.name === name)
        assert.ok(row != null, `${name} in the table`)
        assert.ok(Math.abs(row.estimate - c.estimate[k]!) < 1e-3, `${name}: ${row.estimate} vs R ${c.estimate[k]}`)
        assert.ok(Math.abs(row.stdError - c.stdError[k]!) / c.stdError[k]! < 1e-2, `${name}: std. error ${row.stdError} vs R ${c.stdError[k]}`)
      })
      assert.ok(Math.abs(r.summary.deviance - c.deviance) / c.deviance < 1e-3, `deviance ${r.summary.deviance} vs R ${c.deviance}`)
      assert.equal(r.summary.dfResidual, c.dfResidual, 'residual df')
      assert.ok(Math.abs(r.summary.ratio - 1) < 1e-3, `predicted / observed ${r.summary.ratio}`)
      assert.match(r.text, /Residual deviance/, 'the printed table')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
