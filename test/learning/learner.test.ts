import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  tf, setBackend, createFileLearner, evaluateWeightsOnFile, exportLayersModel, Model, createLearner, datasetFromArrays,
  evaluateWeights, type DatasetSpecInput, type ModelSpecInput
} from '../../learning/index.js'
import { createRng } from '../../protocol/rng.js'

await setBackend('wasm')
const dir = mkdtempSync(join(tmpdir(), 'murmur-learner-'))
after(() => { rmSync(dir, { recursive: true, force: true }) })

/** Claims whose frequency doubles with x. */
function claimsCsv (n: number, seed: number): string {
  const rng = createRng(seed)
  const lines = ['x,kind,exposure,claims']
  for (let i = 0; i < n; i++) {
    const x = rng.normal()
    const kind = rng.next() < 0.5 ? 'a' : 'b'
    const exposure = 0.2 + 0.8 * rng.next()
    const mu = exposure * Math.exp(-1.5 + 0.7 * x + (kind === 'b' ? 0.4 : 0))
    let k = 0; let p = Math.exp(-mu); let c = p; const u = rng.next()
    while (u > c && k < 10) { k++; p *= mu / k; c += p }
    lines.push(`${x.toFixed(4)},${kind},${exposure.toFixed(3)},${k}`)
  }
  return lines.join('\n') + '\n'
}

const spec: DatasetSpecInput = {
  name: 'claims',
  file: 'unused.csv',
  columns: [
    { name: 'x', role: 'numeric', mean: 0, std: 1 },
    { name: 'kind', role: 'categorical', categories: ['a', 'b'] },
    { name: 'exposure', role: 'exposure' },
    { name: 'claims', role: 'label', kind: 'count' }
  ]
}

test('file learner: local rows only, local validation, appended records are trained on', async () => {
  const path = join(dir, 'branch.csv')
  writeFileSync(path, claimsCsv(2000, 1))
  const learner = await createFileLearner({ model: { type: 'poisson-glm', optimizer: { type: 'adam', learningRate: 0.05 } }, dataset: spec, dataFile: path, seed: 1 })
  assert.equal(learner.numExamples(), 1800) // 10% held out locally
  assert.equal(learner.loadedBytes, statSync(path).size)
  assert.deepEqual(learner.primaryMetric, { name: 'poissonDeviance', higherIsBetter: false })
  const before = await learner.evaluate({ split: 'local' })
  await learner.train(300)
  const afterTraining = await learner.evaluate({ split: 'local' })
  assert.ok(afterTraining.poissonDeviance < before.poissonDeviance, 'expected afterTraining.poissonDeviance < before.poissonDeviance')
  assert.ok(afterTraining.devianceExplained > 0.03, `explained ${afterTraining.devianceExplained}`)
  const more = claimsCsv(100, 2).trim().split('\n').slice(1).map((l) => l.split(','))
  const total = learner.appendRecords(more)
  assert.equal(total + learner.validationRows().length, 2100)
  assert.ok(total > 1860 && total < 1900, `appended split ${total}`)
  const r = await learner.train(10)
  assert.equal(r.examples, 10 * 32)
  // evaluating the weights on another file
  const other = join(dir, 'other.csv')
  writeFileSync(other, claimsCsv(500, 3))
  const ev = await evaluateWeightsOnFile({ model: learner.model.spec, dataset: spec, dataFile: other, weights: learner.weights() })
  assert.equal(ev.rows, 500)
  assert.ok(ev.metrics.devianceExplained > 0.02, 'expected ev.metrics.devianceExplained > 0.02')
})

test('exported Layers model gives the same predictions (classifier and Poisson with offset)', async () => {
  const rng = createRng(4)
  const n = 50; const d = 4
  const x = Float32Array.from({ length: n * d }, () => rng.normal())
  const y = Float32Array.from({ length: n }, (_, i) => i % 3)
  const exposure = Float32Array.from({ length: n }, () => 0.1 + rng.next())
  const cases: Array<[ModelSpecInput, 'multiclass' | 'count']> = [
    [{ type: 'mlp', hidden: [5], activation: 'tanh' }, 'multiclass'],
    [{ type: 'poisson-mlp', hidden: [3] }, 'count'],
    [{ type: 'cnn', inputShape: [2, 2, 1], conv: [{ filters: 3, kernel: 2, pool: 2 }], hidden: [4] }, 'multiclass']
  ]
  for (const [specInput, task] of cases) {
    if (specInput.type === 'cnn') await setBackend('cpu') // wasm cannot train convolutions

    const data = datasetFromArrays({ name: 't', x, y, numFeatures: d, task, exposure: task === 'count' ? exposure : null, testFraction: 0.5 })
    const model = new Model(specInput, data.info)
    const w = model.initialWeights(7)
    const out = join(dir, `export-${task}`)
    const { files } = await exportLayersModel(model, w, out, { dataset: data })
    assert.equal(files.length, 3)
    const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as { modelTopology: object, weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }> }
    const bin = readFileSync(join(out, 'weights.bin'))
    const loaded = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights,
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength)
    }))
    const rows = data.test
    const mine = model.predict(w, data, rows, { cache: false })
    const xs = new Float32Array(rows.length * d)
    rows.forEach((r, i) => { xs.set(x.subarray(r * d, r * d + d), i * d) })
    const theirs = tf.tidy(() => {
      const xt = tf.tensor2d(xs, [rows.length, d])
      if (task === 'count') {
        const off = tf.tensor2d(Array.from(rows, (r) => Math.log(exposure[r])), [rows.length, 1])
        return tf.exp(loaded.predict([xt, off]) as tf.Tensor).dataSync()
      }
      return (loaded.predict(xt) as tf.Tensor).dataSync()
    })
    assert.equal(theirs.length, mine.length)
    for (let i = 0; i < mine.length; i++) assert.ok(Math.abs(mine[i] - theirs[i]) < 1e-4 * Math.max(1, Math.abs(mine[i])), `${task} row ${i}: ${mine[i]} vs ${theirs[i]}`)
    loaded.dispose()
    model.dispose()
  }
  await setBackend('wasm')
})

test('label flip trains the opposite classifier; cached evaluation of a linear model can repeat', async () => {
  const rng = createRng(5)
  const n = 400
  const x = Float32Array.from({ length: n * 2 }, () => rng.normal())
  const y = Float32Array.from({ length: n }, (_, i) => x[i * 2] > 0 ? 1 : 0)
  const data = datasetFromArrays({ name: 'flip', x, y, numFeatures: 2, task: 'binary', testFraction: 0.25 })
  const model = new Model({ type: 'logistic', optimizer: { type: 'adam', learningRate: 0.1 } }, data.info)
  const honest = createLearner({ model, dataset: data, seed: 1 })
  const flipped = createLearner({ model, dataset: data, seed: 1, labelFlip: true })
  await honest.train(100)
  await flipped.train(100)
  assert.ok((await honest.evaluate({ split: 'test' })).accuracy > 0.9, 'expected (await honest.evaluate({ split: \'test\' })).accuracy > 0.9')
  assert.ok((await flipped.evaluate({ split: 'test' })).accuracy < 0.1, 'expected (await flipped.evaluate({ split: \'test\' })).accuracy < 0.1')
  const again = evaluateWeights(model, data, data.test, honest.weights())
  assert.deepEqual(again, evaluateWeights(model, data, data.test, honest.weights()))
  const prefix = await honest.evaluate({ split: 'test', maxRows: 20 })
  assert.equal(prefix.examples, 20)
  model.dispose()
})
