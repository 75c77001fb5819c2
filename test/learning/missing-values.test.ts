import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadDataset, parseDatasetSpec, type DatasetSpecInput } from '../../learning/index.js'
import { glmDesign } from '../../learning/glm/design.js'

const dir = mkdtempSync(join(tmpdir(), 'murmur-missing-'))
after(() => { rmSync(dir, { recursive: true, force: true }) })
let k = 0
const file = (text: string): string => {
  const path = join(dir, `m${k++}.csv`)
  writeFileSync(path, text)
  return path
}
const spec = (path: string, age: Record<string, unknown>, extra: Partial<DatasetSpecInput> = {}): DatasetSpecInput => ({
  name: 'insurer',
  file: path,
  testFraction: 0,
  columns: [
    { name: 'n', role: 'label', kind: 'count' },
    { name: 'age', role: 'numeric', ...age } as never,
    { name: 'power', role: 'numeric', mean: 0, std: 1 }
  ],
  ...extra
})
const rowsOf = (d: { x: Float32Array, numFeatures: number, size: number }): number[][] =>
  Array.from({ length: d.size }, (_, i) => Array.from(d.x.subarray(i * d.numFeatures, (i + 1) * d.numFeatures), (v) => Math.round(v * 1e4) / 1e4))

test('an empty cell becomes the mean of the observed values plus a missing(age) indicator; statistics skip the missing', async () => {
  const d = await loadDataset(spec(file('n,age,power\n0,20,1\n1,,2\n0,40,3\n2,,4\n'), { missing: {} }))
  assert.deepEqual(d.featureNames, ['age', 'missing(age)', 'power'], 'the indicator follows its column')
  // observed ages 20 and 40: mean 30, std 10
  assert.deepEqual(d.encoding.columns.age, { mean: 30, std: 10, fill: 30 }, 'mean and std of the observed rows only, and the fill')
  assert.deepEqual(rowsOf(d), [[-1, 0, 1], [0, 1, 2], [1, 0, 3], [0, 1, 4]], 'missing rows: the mean (0 standardized) and indicator 1')
  const appended = d.appendRecords([['1', '', '5'], ['0', '50', '6']])
  assert.deepEqual(rowsOf(d).slice(appended[0]), [[0, 1, 5], [2, 0, 6]], 'appended rows filled the same way')
})

test('a fixed fill goes through the column transform; indicator false is plain imputation', async () => {
  const path = file('n,age,power\n0,1,1\n1,,2\n0,100,3\n')
  const logged = await loadDataset({ ...spec(path, {}), columns: [{ name: 'n', role: 'label', kind: 'count' }, { name: 'age', role: 'log-numeric', mean: 0, std: 1, missing: { fill: 10 } }, { name: 'power', role: 'numeric', mean: 0, std: 1 }] })
  assert.deepEqual(rowsOf(logged).map((r) => r.slice(0, 2)), [[0, 0], [Math.round(Math.log(10) * 1e4) / 1e4, 1], [Math.round(Math.log(100) * 1e4) / 1e4, 0]], 'fill 10 -> log(10)')
  const plain = await loadDataset(spec(path, { mean: 0, std: 1, missing: { fill: 7, indicator: false } }))
  assert.deepEqual(plain.featureNames, ['age', 'power'], 'no indicator feature')
  assert.deepEqual(rowsOf(plain).map((r) => r[0]), [1, 7, 100], 'the fill value')
  // the number form is unchanged: the value for an empty cell, the column must exist
  const zero = await loadDataset(spec(path, { mean: 0, std: 1, missing: 0 }))
  assert.deepEqual(rowsOf(zero).map((r) => r[0]), [1, 0, 100], 'missing: 0')
  await assert.rejects(loadDataset(spec(file('n,power\n0,1\n'), { missing: 0 })), (err: Error) => err.name === 'InvalidSpecError' && /'age' is not in the header/.test(err.message))
})

test('an insurer whose file lacks the column: every row missing, the same features and schema as the others', async () => {
  const shared = { mean: 45, std: 15, missing: {} }
  const a = await loadDataset(spec(file('n,age,power\n0,30,1\n1,60,2\n'), shared))
  const b = await loadDataset(spec(file('n,power\n0,1\n2,2\n1,3\n'), shared))
  assert.deepEqual(b.featureNames, a.featureNames, 'same feature layout')
  assert.equal(b.schemaHash, a.schemaHash, 'same schema: the two can train one model')
  assert.deepEqual(rowsOf(a), [[-1, 0, 1], [1, 0, 2]], 'insurer A: values, indicator 0')
  assert.deepEqual(rowsOf(b), [[0, 1, 1], [0, 1, 2], [0, 1, 3]], 'insurer B: the shared mean (0 standardized), indicator 1')
  // a network's encoding fixes the fill for every peer
  const c = await loadDataset(spec(file('n,power\n0,1\n'), { missing: {} }), { encoding: { columns: { age: { mean: 40, std: 10, fill: 60 } } } })
  assert.deepEqual(rowsOf(c), [[2, 1, 1]], 'the given fill 60 at mean 40, std 10')
})

test('the GLM design keeps the indicator as its own column', async () => {
  const d = await loadDataset(spec(file('n,age,power\n0,30,1\n1,,2\n0,50,2\n'), { missing: {} }))
  assert.deepEqual(glmDesign(d).names, ['(Intercept)', 'age', 'missing(age)', 'power'], 'R-style names with the indicator')
})

test('spec validation names the field', async () => {
  const columns = (missing: unknown): DatasetSpecInput => ({ file: 'x.csv', columns: [{ name: 'y', role: 'label', kind: 'numeric' }, { name: 'a', role: 'numeric', missing } as never] })
  assert.throws(() => parseDatasetSpec(columns({ fil: 1 })), (err: Error & { field: string }) => err.name === 'InvalidSpecError' && err.field === 'dataset.columns.1.missing' && /fil/.test(err.message))
  assert.throws(() => parseDatasetSpec(columns({ fill: 'median' })), (err: Error & { field: string }) => err.name === 'InvalidSpecError' && err.field.startsWith('dataset.columns.1.missing'))
  const path = file('y,a\n1,2\n2,\n')
  await assert.rejects(loadDataset({ file: path, testFraction: 0, columns: [{ name: 'y', role: 'label', kind: 'numeric' }, { name: 'a', role: 'log-numeric', missing: { fill: -1 } }] }),
    (err: Error & { field: string }) => err.name === 'InvalidSpecError' && err.field === 'dataset.columns.1.missing.fill' && /log of a non-positive value/.test(err.message))
})
