import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadDataset, runBaseline, type DatasetSpecInput } from '../../learning/index.js'
import { badRowLines } from '../../node/cli/commands/baseline.js'

const dir = mkdtempSync(join(tmpdir(), 'murmur-skipped-'))
after(() => { rmSync(dir, { recursive: true, force: true }) })
let k = 0
const file = (text: string): string => {
  const path = join(dir, `s${k++}.csv`)
  writeFileSync(path, text)
  return path
}
const spec = (path: string, extra: Partial<DatasetSpecInput> = {}): DatasetSpecInput => ({
  name: 'tiny',
  file: path,
  onBadRow: 'skip',
  testFraction: 0.5,
  columns: [
    { name: 'a', role: 'numeric' },
    { name: 'y', role: 'label', kind: 'binary', classes: ['0', '1'] }
  ],
  ...extra
})
const GOOD = 'a,y\n1,0\n2,1\n3,0\n4,1\n5,0\n6,1\n'

const empty = (pattern: RegExp) => (err: Error) => {
  assert.equal(err.name, 'EmptyDatasetError', `a named error, got ${err.name}: ${err.message}`)
  assert.match(err.message, pattern, 'the message says why')
  return true
}

test('a file with a header and no rows is an EmptyDatasetError (not a crash further on)', async () => {
  await assert.rejects(loadDataset(spec(file('a,y\n'))), empty(/s\d+\.csv: the file has no data rows/))
})

test('every row skipped, in the main file or in the test file, is an EmptyDatasetError naming the file and the first bad rows', async () => {
  await assert.rejects(loadDataset(spec(file('a,y\nx,0\ny,1\n'))), empty(/every row of s\d+\.csv was skipped \(2 bad rows\).*line 2, column a: 'x' is not a number/))
  const test = file('a,y\nq,0\n')
  await assert.rejects(loadDataset(spec(file(GOOD + 'z,1\n'), { testFile: test })), empty(/every row of s\d+\.csv was skipped \(1 bad rows\).*line 2, column a: 'q'/))
  await assert.rejects(loadDataset(spec(file(GOOD), { testFile: file('a,y\n') })), empty(/the test file has no data rows/))
})

test('a split that leaves no training rows or no test rows is an EmptyDatasetError with the skipped rows', async () => {
  // one good row: testFraction 0.5 rounds it into the test split
  await assert.rejects(loadDataset(spec(file('a,y\n1,0\nbad,1\n'))), empty(/no training rows.*1 bad row\(s\) skipped, first: line 3, column a: 'bad'/))
  // two rows at testFraction 0.2: none in the test split
  await assert.rejects(loadDataset(spec(file('a,y\n1,0\n2,1\n'), { testFraction: 0.2 })), empty(/no test rows: testFraction 0\.2 of 2 row/))
  // testFraction 0 asks for no test split (a daemon's own file)
  const d = await loadDataset(spec(file('a,y\n1,0\n2,1\n'), { testFraction: 0 }))
  assert.equal(d.train.length, 2, 'both rows train')
})

test('a growing file (a daemon) may start with its header only; all-skipped is still an error', async () => {
  const d = await loadDataset(spec(file('a,y\n')), { growing: true })
  assert.equal(d.size, 0, 'no rows yet; the data feed appends them')
  await assert.rejects(loadDataset(spec(file('a,y\nx,0\n')), { growing: true }), empty(/every row of/))
})

test('the baseline reports the skipped rows; the summary shows their count and the first lines', async () => {
  const r = await runBaseline({ dataset: spec(file(GOOD + 'oops,1\n7,0\n8,1\n' + ',0\n')), model: 'logistic', epochs: 1, backend: 'wasm' })
  assert.equal(r.badRows.count, 2, 'two bad rows skipped')
  assert.deepEqual(r.badRows.lines, [8, 11], 'their file lines')
  assert.equal(r.trainRows + r.testRows, 8, 'the good rows all used')
  const lines = badRowLines(r.badRows)
  assert.match(lines[0], /skipped 2 bad row\(s\)/, 'count first')
  assert.match(lines[1], /line 8, column a: 'oops' is not a number/, 'then the first bad rows')
  assert.match(lines[2], /line 11, column a: empty cell/, 'with their problem')
  assert.deepEqual(badRowLines({ count: 0, examples: [] }), [], 'nothing skipped: nothing shown')
  assert.equal(badRowLines({ count: 12, examples: Array.from({ length: 10 }, (_, i) => `f: line ${i}`) }).length, 4, 'the count and the first three')
})
