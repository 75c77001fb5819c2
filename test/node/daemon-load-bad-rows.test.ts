import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDaemonLearner } from '../../node/wiring.js'

const dir = mkdtempSync(join(tmpdir(), 'murmur-daemon-bad-'))
after(() => { rmSync(dir, { recursive: true, force: true }) })

test('the daemon learner keeps the rows its start-up load skipped (for /status badRows.load)', async () => {
  const file = join(dir, 'peer.csv')
  writeFileSync(file, 'a,y\n1,0\nnope,1\n2,1\n3,0\n,1\n')
  // the parts of a network manifest the learner reads: the dataset spec, the model, the rule, the id (initial weights)
  const manifest = {
    id: 'bad-rows-net',
    dataset: { spec: { name: 'peer', file: 'peer.csv', columns: [{ name: 'a', role: 'numeric', mean: 0, std: 1 }, { name: 'y', role: 'label', kind: 'binary', classes: ['0', '1'] }] } },
    model: { type: 'logistic' },
    rule: { name: 'epidemic', params: {} }
  }
  const learner = await createDaemonLearner({ manifest: manifest as never, dataFile: file, seed: 1, backend: 'wasm', onBadRow: 'skip', localValidation: 0 })
  try {
    assert.equal(learner.numExamples(), 3, 'the three good rows')
    assert.equal(learner.loadBadRows?.count, 2, 'two rows skipped at start')
    assert.deepEqual(learner.loadBadRows?.lines, [3, 6], 'with their file lines')
    assert.match(learner.loadBadRows?.examples[0] ?? '', /peer\.csv: line 3, column a: 'nope' is not a number/, 'and what was wrong')
  } finally { learner.dispose?.() }
})
