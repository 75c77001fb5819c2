import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { parse as parseSync } from 'csv-parse/sync'
import fc from 'fast-check'
import { loadDataset, type DatasetSpecInput } from '../../learning/index.js'
import { DelimitedReader } from '../../learning/records/index.js'

const dir = mkdtempSync(join(tmpdir(), 'murmur-learning-'))
after(() => { rmSync(dir, { recursive: true, force: true }) })
let k = 0
const file = (text: string, gz = false): string => {
  const path = join(dir, `f${k++}.csv${gz ? '.gz' : ''}`)
  writeFileSync(path, gz ? gzipSync(text) : text)
  return path
}

const claims = (path: string, extra: Partial<DatasetSpecInput> = {}): DatasetSpecInput => ({
  name: 'claims',
  file: path,
  testFraction: 0,
  columns: [
    { name: 'id', role: 'ignore' },
    { name: 'n', role: 'label', kind: 'count', cap: 4 },
    { name: 'exposure', role: 'exposure', cap: 1 },
    { name: 'age', role: 'numeric' },
    { name: 'density', role: 'log-numeric', mean: 0, std: 1 },
    { name: 'area', role: 'categorical', categories: ['A', 'B'] },
    { name: 'region', role: 'partition' }
  ],
  ...extra
})

const CLAIMS = 'id,n,exposure,age,density,area,region\n' +
  '1,0,0.5,20,1,A,north\n' +
  '2,7,2,40,100,B,south\n' +
  '3,1,1,60,10,"Z",north\n'

test('loads a CSV: roles, caps, standardization from own rows, one-hot with other, offset', async () => {
  const d = await loadDataset(claims(file(CLAIMS)))
  assert.equal(d.size, 3)
  assert.equal(d.task, 'count')
  assert.deepEqual(d.featureNames, ['age', 'log(density)', 'area=A', 'area=B', 'area=other'])
  assert.deepEqual(Array.from(d.y), [0, 4, 1]) // capped at 4
  assert.deepEqual(Array.from(d.exposure!), [0.5, 1, 1]) // capped at 1
  assert.ok(Math.abs(d.offset![0] - Math.log(0.5)) < 1e-6, 'expected Math.abs(d.offset![0] - Math.log(0.5)) < 1e-6')
  const row = (i: number): number[] => Array.from(d.x.subarray(i * 5, i * 5 + 5)).map((v) => Math.round(v * 1000) / 1000)
  // age mean 40, std sqrt(800/3) = 16.33
  assert.deepEqual(row(0), [-1.225, 0, 1, 0, 0])
  assert.deepEqual(row(2), [1.225, Math.round(Math.log(10) * 1000) / 1000, 0, 0, 1]) // Z -> other
  assert.deepEqual(d.encoding.columns.age, { mean: 40, std: Math.sqrt(800 / 3) })
  assert.deepEqual(d.partitionValues, ['north', 'south'])
  assert.deepEqual(Array.from(d.partitionCodes!), [0, 1, 0])
})

test('gzip, TSV without header, quotes and text hashing', async () => {
  const tsv = 'spam\tWIN a prize, win now\nham\tsee you "later"\n\nham\tok\n'
  const d = await loadDataset({
    name: 'sms',
    file: file(tsv, true),
    format: { header: false, delimiter: '\t', quote: false },
    testFraction: 0,
    columns: [{ name: 'label', role: 'label', kind: 'binary', classes: ['ham', 'spam'] }, { name: 'text', role: 'text', buckets: 16, weighting: 'binary' }]
  })
  assert.equal(d.size, 3)
  assert.equal(d.task, 'binary')
  assert.deepEqual(Array.from(d.y), [1, 0, 0])
  const sum = (i: number): number => d.x.subarray(i * 16, i * 16 + 16).reduce((a, b) => a + b, 0)
  assert.ok(sum(0) >= 1 && sum(0) <= 4, 'expected sum(0) >= 1 && sum(0) <= 4') // win, a, prize, now (lowercased, 'win' twice counted once)
  assert.ok(sum(2) === 1, 'expected sum(2) === 1')
})

test('a bad row stops the load with file, line and column', async () => {
  const path = file(CLAIMS + '4,0,0.5,abc,1,A,north\n')
  await assert.rejects(loadDataset(claims(path)), (err: Error & { line: number, column: string, file: string }) => {
    assert.equal(err.name, 'BadRowError')
    assert.equal(err.line, 5)
    assert.equal(err.column, 'age')
    assert.ok(err.message.includes(path.split('/').pop()!), 'expected err.message.includes(path.split(\'/\').pop()!)')
    assert.match(err.message, /line 5, column age: 'abc' is not a number/)
    return true
  })
  const negative = file(CLAIMS + '5,0,-1,30,1,A,north\n')
  await assert.rejects(loadDataset(claims(negative)), (err: Error & { line: number, column: string }) =>
    err.name === 'BadRowError' && err.line === 5 && err.column === 'exposure' && /positive/.test(err.message))
  const missingLabel = file(CLAIMS + '6,,1,30,1,A,north\n')
  await assert.rejects(loadDataset(claims(missingLabel)), (err: Error & { column: string }) => err.name === 'BadRowError' && err.column === 'n')
  const missingColumn = file('id,n,exposure\n1,0,1\n')
  await assert.rejects(loadDataset(claims(missingColumn)), (err: Error & { field: string }) => err.name === 'InvalidSpecError' && /'age' is not in the header/.test(err.message))
})

test('onBadRow skip counts and reports bad rows', async () => {
  const path = file(CLAIMS + '4,0,0.5,abc,1,A,north\n5,0,0.5,30,-3,A,north\n6,1,0.5,30,3,B,south\n')
  const d = await loadDataset(claims(path, { onBadRow: 'skip' }))
  assert.equal(d.size, 4)
  assert.equal(d.badRows.count, 2)
  assert.match(d.badRows.examples[0], /line 5, column age/)
  assert.match(d.badRows.examples[1], /line 6, column density: log of a non-positive/)
})

test('test split: seeded fraction, kept apart, stable; separate test file with junk first line', async () => {
  const rows = Array.from({ length: 100 }, (_, i) => `${i},${i % 2},1,${i},1,A,r${i % 3}`).join('\n')
  const path = file('id,n,exposure,age,density,area,region\n' + rows + '\n')
  const a = await loadDataset(claims(path, { testFraction: 0.25, splitSeed: 9 }))
  const b = await loadDataset(claims(path, { testFraction: 0.25, splitSeed: 9 }))
  assert.equal(a.test.length, 25)
  assert.equal(a.train.length, 75)
  assert.deepEqual(a.test, b.test)
  const all = new Set([...a.train, ...a.test])
  assert.equal(all.size, 100)
  const testPath = file('|junk line\n' + '1,0,0.5,20,1,A,north\n2,1,0.5,20,1,A,north\n', false)
  const c = await loadDataset(claims(path, { testFile: testPath, testFormat: { skipLines: 1, header: false } }))
  assert.equal(c.train.length, 100)
  assert.deepEqual(Array.from(c.test), [100, 101])
  assert.deepEqual(Array.from(c.y.subarray(100, 102)), [0, 1])
})

test('appendRecords grows the dataset with the same encoding', async () => {
  const d = await loadDataset(claims(file(CLAIMS)))
  const idx = d.appendRecords([['9', '2', '0.25', '40', '1', 'B', 'east']])
  assert.deepEqual(Array.from(idx), [3])
  assert.equal(d.size, 4)
  assert.equal(d.y[3], 2)
  assert.equal(d.x[3 * 5], 0) // age 40 = the mean
  assert.deepEqual(d.partitionValues, ['north', 'south', 'east'])
  assert.throws(() => d.appendRecords([['9', 'x', '0.25', '40', '1', 'B', 'east']]), (e: Error & { column: string }) => e.name === 'BadRowError' && e.column === 'n')
})

test('the embedded MNIST digits load without a data directory', async () => {
  const d = await loadDataset('mnist', { dataDir: join(dir, 'does-not-exist') })
  assert.equal(d.size, 10000)
  assert.equal(d.numFeatures, 784)
  assert.equal(d.task, 'multiclass')
  assert.equal(d.test.length, 2000)
  assert.ok(d.x.every((v) => v >= 0 && v <= 1), 'expected d.x.every((v) => v >= 0 && v <= 1)')
})

test('the delimited reader agrees with csv-parse (one- and two-character delimiters)', () => {
  const cell = fc.oneof(
    fc.stringMatching(/^[a-z0-9 ]{0,6}$/),
    fc.stringMatching(/^[a-z,"\n ]{0,6}$/).map((s) => `"${s.replace(/"/g, '""')}"`)
  )
  const rowArb = fc.array(cell, { minLength: 1, maxLength: 5 })
  fc.assert(fc.property(fc.array(rowArb, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 7 }), fc.constantFrom(',', '||'), (rows, cut, delimiter) => {
    const text = rows.map((r) => r.join(delimiter)).join('\n') + '\n'
    const expected = (parseSync(text, { delimiter, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, trim: true }) as string[][])
    const reader = new DelimitedReader({ delimiter, quote: '"', trim: true })
    const got: string[][] = []
    for (let i = 0; i < text.length; i += cut) got.push(...reader.push(text.slice(i, i + cut)).map((r) => r.fields))
    got.push(...reader.end().map((r) => r.fields))
    assert.deepEqual(got, expected)
  }), { numRuns: 300, seed: 42 })
})
