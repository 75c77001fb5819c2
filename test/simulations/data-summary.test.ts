import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseScenario } from '../../simulations/scenario.js'
import { runScenario } from '../../simulations/run.js'
import { renderTable } from '../../simulations/results.js'

const dir = mkdtempSync(join(tmpdir(), 'murmur-sim-data-'))
after(() => { rmSync(dir, { recursive: true, force: true }) })

test('a simulation reports the rows its load skipped: results.data and the table', async () => {
  const rows = Array.from({ length: 40 }, (_, i) => `${i % 7},${i % 2}`)
  rows.splice(5, 0, 'seven,1')
  rows.splice(20, 0, ',0')
  const path = join(dir, 'peers.csv')
  writeFileSync(path, 'a,y\n' + rows.join('\n') + '\n')
  const scenario = parseScenario({
    name: 'skipped-rows',
    peers: 2,
    rounds: 1,
    localSteps: 1,
    dataset: { name: 'tiny', file: path, onBadRow: 'skip', columns: [{ name: 'a', role: 'numeric' }, { name: 'y', role: 'label', kind: 'binary', classes: ['0', '1'] }] },
    model: 'logistic',
    partition: 'iid'
  })
  const results = await runScenario(scenario, { workers: 0, baselines: false, variants: false })
  assert.ok(results.data != null, 'the default peer environment describes its data')
  assert.equal(results.data.rows, 40, 'the 40 good rows')
  assert.equal(results.data.trainRows + results.data.testRows, 40, 'split among train and test')
  assert.equal(results.data.badRows.count, 2, 'two rows skipped')
  assert.deepEqual(results.data.badRows.lines, [7, 22], 'named by their file lines')
  const table = renderTable(results)
  assert.match(table, /skipped 2 bad row\(s\) of tiny/, 'the table gives the count')
  assert.match(table, /line 7, column a: 'seven' is not a number/, 'and the first bad rows')
})
