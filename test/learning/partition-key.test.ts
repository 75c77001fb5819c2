import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadDataset, partition, parseDatasetSpec, type DatasetSpecInput } from '../../learning/index.js'
import { intervalLabels, intervalOf, quantileCuts } from '../../learning/dataset/partition-key.js'

const dir = mkdtempSync(join(tmpdir(), 'murmur-partkey-'))
after(() => { rmSync(dir, { recursive: true, force: true }) })
let k = 0
const file = (text: string): string => {
  const path = join(dir, `p${k++}.csv`)
  writeFileSync(path, text)
  return path
}
// 12 policies: driver ages and departments
const AGES = [18, 22, 25, 25, 31, 40, 41, 47, 60, 61, 75, 90]
const DEPTS = ['75', '92', '93', '13', '69', '75', '38', '13', '92', '06', '69', '75']
const CSV = 'age,dept,y\n' + AGES.map((a, i) => `${a},${DEPTS[i]},${i % 2}`).join('\n') + '\n'
const spec = (key: Record<string, unknown>, extra: Partial<DatasetSpecInput> = {}): DatasetSpecInput => ({
  name: 'drivers',
  file: file(CSV),
  testFraction: 0,
  columns: [
    { name: 'age', role: 'numeric' },
    { name: 'y', role: 'label', kind: 'binary', classes: ['0', '1'] },
    { role: 'partition', ...key } as never
  ],
  ...extra
})
const keysOf = (d: { partitionValues: string[] | null, partitionCodes: Int32Array | null }): string[] => Array.from(d.partitionCodes!, (c) => d.partitionValues![c])

test('fixed vectors: interval names, interval of a value, type-1 quantile cut points', () => {
  assert.deepEqual(intervalLabels('age', [25, 40.5]), ['age(-Inf,25]', 'age(25,40.5]', 'age(40.5,Inf)'], 'R cut() style, right-closed')
  assert.deepEqual([10, 25, 25.01, 40.5, 41, -Infinity].map((v) => intervalOf(v, [25, 40.5])), [0, 0, 1, 1, 2, 0], 'values on a cut point fall below it')
  const rows = Uint32Array.from(AGES.keys())
  // 12 values, 4 groups: the 3rd, 6th and 9th smallest values
  assert.deepEqual(quantileCuts(AGES, rows, 4), [25, 40, 60], 'quartiles of the ages')
  assert.deepEqual(quantileCuts(AGES, rows, 3), [25, 47], 'terciles: the 4th and 8th smallest')
  assert.deepEqual(quantileCuts([1, 1, 1, 1, 1, 2], Uint32Array.from([0, 1, 2, 3, 4, 5]), 3), [1], 'ties merge groups; no empty top group')
  assert.deepEqual(quantileCuts([5, 5, 5], Uint32Array.from([0, 1, 2]), 4), [], 'one value: one group')
  assert.deepEqual(quantileCuts(AGES, Uint32Array.from([0, 1, 2, 3]), 2), [22], 'over the given rows only')
})

test('bins: the key is the interval of a numeric column; keys and shards in interval order', async () => {
  const d = await loadDataset(spec({ name: 'age', bins: [25, 40, 60] }))
  assert.deepEqual(d.partitionValues, ['age(-Inf,25]', 'age(25,40]', 'age(40,60]', 'age(60,Inf)'], 'every interval has a code, in order')
  assert.deepEqual(keysOf(d).slice(0, 6), ['age(-Inf,25]', 'age(-Inf,25]', 'age(-Inf,25]', 'age(-Inf,25]', 'age(25,40]', 'age(25,40]'], 'rows keyed by interval')
  assert.deepEqual(d.partitionCuts, [25, 40, 60], 'cut points kept')
  assert.equal(d.partitionColumn, 'age', 'the partition column is named')
  const shards = partition(d, { kind: 'key' })
  assert.deepEqual(shards.map((s) => [s.id, s.indices.length]), [['age(-Inf,25]', 4], ['age(25,40]', 2], ['age(40,60]', 3], ['age(60,Inf)', 3]], 'one shard per interval, in interval order')
  // appended rows get the same intervals
  const added = d.appendRecords([['39', '75', '1'], ['100', '13', '0']])
  assert.deepEqual(Array.from(added, (r) => d.partitionValues![d.partitionCodes![r]]), ['age(25,40]', 'age(60,Inf)'], 'appended rows cut the same way')
  // interval order, not name order ('age(100,Inf)' sorts before 'age(25,100]' by name)
  const w = await loadDataset(spec({ name: 'age', bins: [25, 100] }))
  w.appendRecords([['150', '75', '1']])
  assert.deepEqual(partition(w, { kind: 'key' }).map((s) => [s.id, s.indices.length]), [['age(-Inf,25]', 4], ['age(25,100]', 8], ['age(100,Inf)', 1]], 'shards in interval order')
})

test('quantiles: equal-count groups from the training rows, deterministic, recorded in the encoding', async () => {
  const d = await loadDataset(spec({ name: 'age', quantiles: 4 }))
  assert.deepEqual(d.partitionCuts, [25, 40, 60], 'the quartiles of the ages')
  assert.deepEqual(d.encoding.partition, { cuts: [25, 40, 60] }, 'recorded so that other rows are cut the same way')
  assert.deepEqual(partition(d, { kind: 'key' }).map((s) => s.indices.length), [4, 2, 3, 3], 'about 12 / 4 each (ties at 25 stay together)')
  // an encoding given (e.g. the network's) wins over this process's rows
  const e = await loadDataset(spec({ name: 'age', quantiles: 4 }), { encoding: { columns: {}, partition: { cuts: [50] } } })
  assert.deepEqual(e.partitionValues, ['age(-Inf,50]', 'age(50,Inf)'], 'the given cut points')
  // cut points come from the training rows only
  const t = await loadDataset(spec({ name: 'age', quantiles: 2 }, { testFraction: 0.5, splitSeed: 7 }))
  const trainAges = Array.from(t.train, (r) => AGES[r]).sort((a, b) => a - b)
  assert.deepEqual(t.partitionCuts, [trainAges[2]], 'the median of the 6 training ages')
})

test('map: raw values to groups; unmapped values keep their own, or go to other', async () => {
  const map = { 75: 'Ile-de-France', 92: 'Ile-de-France', 93: 'Ile-de-France', 13: 'South', '06': 'South' }
  const d = await loadDataset(spec({ name: 'dept', map }))
  assert.deepEqual([...new Set(keysOf(d))].sort(), ['38', '69', 'Ile-de-France', 'South'], 'mapped and kept values')
  const o = await loadDataset(spec({ name: 'dept', map, other: 'rest' }))
  assert.deepEqual(partition(o, { kind: 'key' }).map((s) => [s.id, s.indices.length]), [['Ile-de-France', 6], ['South', 3], ['rest', 3]], 'three groups')
})

test('spec validation names the field', () => {
  const base = (key: Record<string, unknown>) => ({ file: 'x.csv', columns: [{ name: 'y', role: 'label', kind: 'numeric' }, { name: 'a', role: 'numeric' }, { name: 'a', role: 'partition', ...key }] })
  const refuses = (key: Record<string, unknown>, field: string, pattern: RegExp): void => {
    assert.throws(() => parseDatasetSpec(base(key)), (err: Error & { field: string }) => {
      assert.equal(err.name, 'InvalidSpecError', 'a named error')
      assert.equal(err.field, field, `the field of ${JSON.stringify(key)}`)
      assert.match(err.message, pattern, 'says why')
      return true
    })
  }
  refuses({ bins: [10, 5] }, 'dataset.columns.2.bins.1', /cut points must increase \(10 then 5\)/)
  refuses({ bins: [1], quantiles: 3 }, 'dataset.columns.2.quantiles', /one of bins, quantiles or map/)
  refuses({ quantiles: 1 }, 'dataset.columns.2.quantiles', /2/)
  refuses({ other: 'rest' }, 'dataset.columns.2.other', /only with map/)
  refuses({ bucket: 3 }, 'dataset.columns.2', /unknown field\(s\) 'bucket'/)
  assert.equal(parseDatasetSpec(base({ bins: [5, 10] })).columns[2].role, 'partition', 'bins accepted on a partition column')
})

test('a non-numeric cell of a binned key is a bad row naming the column', async () => {
  const s = spec({ name: 'age', bins: [30] })
  writeFileSync(s.file as string, CSV + 'old,75,1\n')
  await assert.rejects(loadDataset(s), (err: Error & { column: string }) => err.name === 'BadRowError' && err.column === 'age' && /line 14/.test(err.message))
})
