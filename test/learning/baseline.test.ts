import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { runBaseline, defaultDataDir, loadDataset } from '../../learning/index.js'

const run = promisify(execFile)
const root = new URL('../..', import.meta.url).pathname

test('baseline on the embedded MNIST digits beats chance by far', async () => {
  const r = await runBaseline({ dataset: 'mnist', model: 'mlp', epochs: 1, seed: 1, backend: 'wasm' })
  assert.equal(r.metric.name, 'accuracy')
  assert.ok(r.test.accuracy > 0.85, `test accuracy ${r.test.accuracy}`)
  assert.equal(r.test.examples, 2000)
  assert.equal(r.trainRows, 8000)
  assert.ok(r.train.accuracy >= r.test.accuracy - 0.05, 'expected r.train.accuracy >= r.test.accuracy - 0.05')
})

test('murmur baseline --json prints the documented keys', async () => {
  const { stdout } = await run(process.execPath, ['bin/murmur.js', 'baseline', '--dataset', 'mnist', '--max-rows', '2000', '--epochs', '2', '--json'], { cwd: root, maxBuffer: 1 << 20 })
  const out = JSON.parse(stdout) as Record<string, unknown>
  for (const key of ['dataset', 'model', 'metric', 'test', 'train', 'epochs', 'wallSeconds']) assert.ok(key in out, `missing ${key}`)
  assert.deepEqual(out.metric, { name: 'accuracy', higherIsBetter: true })
  assert.equal(out.model, 'mlp')
  assert.equal(out.epochs, 2)
  assert.ok((out.test as { accuracy: number }).accuracy > 0.5, 'expected (out.test as { accuracy: number }).accuracy > 0.5')
})

test('murmur baseline refuses a bad model spec naming the field', async () => {
  await assert.rejects(run(process.execPath, ['bin/murmur.js', 'baseline', '--dataset', 'mnist', '--model', '{"type":"mlp","dropout":2}'], { cwd: root }),
    (err: Error & { stderr: string, code: number }) => {
      assert.equal(err.code, 1)
      assert.match(err.stderr, /InvalidSpecError: .*model\.dropout/)
      return true
    })
})

const data = defaultDataDir()
const has = (f: string): string | false => existsSync(join(data, f)) ? false : `shared dataset missing: ${join(data, f)}`

test('digits: softmax and MLP baselines', { skip: has('sklearn-digits.csv.gz') }, async () => {
  const r = await runBaseline({ dataset: 'digits', model: 'mlp', epochs: 10, seed: 1 })
  assert.ok(r.test.accuracy > 0.9, `digits mlp accuracy ${r.test.accuracy}`)
})

test('adult: logistic regression on the official test file', { skip: has('adult.test.gz') }, async () => {
  const d = await loadDataset('adult')
  assert.equal(d.train.length, 32561)
  assert.equal(d.test.length, 16281)
  const r = await runBaseline({ dataset: d, model: 'logistic', epochs: 1, seed: 1, batchSize: 128 })
  assert.ok(r.test.accuracy > 0.82, `adult accuracy ${r.test.accuracy}`)
  assert.ok(r.test.auc > 0.85, `adult auc ${r.test.auc}`)
})

test('freMTPL2freq: the Poisson GLM beats the null model', { skip: has('freMTPL2freq.csv.gz') }, async () => {
  const r = await runBaseline({ dataset: 'fremtpl2freq', model: 'poisson-glm', epochs: 2, seed: 1, maxRows: 120000, batchSize: 1024 })
  assert.equal(r.metric.name, 'poissonDeviance')
  assert.ok(r.test.poissonDeviance < r.test.nullDeviance, `deviance ${r.test.poissonDeviance} vs null ${r.test.nullDeviance}`)
  assert.ok(r.test.devianceExplained > 0.02, `explained ${r.test.devianceExplained}`)
})
