import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  tf, setBackend, Model, createLearner, datasetFromArrays, flattenWeights, unflattenWeights, schemaHashOf, sharedModel,
  BackendUnavailableError, type ModelSpecInput, type Task
} from '../../learning/index.js'
import { createRng } from '../../protocol/rng.js'

await setBackend('wasm')

/** A small synthetic dataset whose label depends on the features. */
function synthetic (task: Task, n = 200, d = 5, seed = 1): ReturnType<typeof datasetFromArrays> {
  const rng = createRng(seed)
  const x = new Float32Array(n * d)
  const y = new Float32Array(n)
  const exposure = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    let s = 0
    for (let j = 0; j < d; j++) { const v = rng.normal(); x[i * d + j] = v; s += v * (j % 2 === 0 ? 1 : -0.5) }
    exposure[i] = 0.1 + rng.next()
    if (task === 'binary') y[i] = s + 0.3 * rng.normal() > 0 ? 1 : 0
    else if (task === 'multiclass') y[i] = s < -0.7 ? 0 : s < 0.7 ? 1 : 2
    else if (task === 'count') { const mu = exposure[i] * Math.exp(-1 + 0.5 * s); let k = 0; let p = Math.exp(-mu); let c = p; const u = rng.next(); while (u > c && k < 20) { k++; p *= mu / k; c += p } y[i] = k } else y[i] = s + 0.1 * rng.normal()
  }
  return datasetFromArrays({ name: `syn-${task}`, x, y, numFeatures: d, task, exposure: task === 'count' ? exposure : null, testFraction: 0.25, splitSeed: 3 })
}

const cases: Array<[ModelSpecInput, Task]> = [
  [{ type: 'logistic' }, 'binary'],
  [{ type: 'softmax' }, 'multiclass'],
  [{ type: 'linear' }, 'regression'],
  [{ type: 'poisson-glm' }, 'count'],
  [{ type: 'mlp', hidden: [7, 4], activation: 'tanh' }, 'multiclass'],
  [{ type: 'mlp', hidden: [6], activation: 'sigmoid' }, 'binary'],
  [{ type: 'mlp', hidden: [6], activation: 'elu' }, 'regression'],
  [{ type: 'poisson-mlp', hidden: [6, 3], activation: 'relu' }, 'count']
]

test('hand-written gradients match TF.js autodiff for every model type', () => {
  for (const [spec, task] of cases) {
    const data = synthetic(task)
    const model = new Model(spec, data.info)
    const w = model.initialWeights(5)
    // move away from the zero init of linear models
    const rng = createRng(9)
    for (let i = 0; i < w.length; i++) w[i] += 0.1 * rng.normal()
    const rows = data.train.subarray(0, 40)
    const mine = model.gradient(w, data, rows).grad
    const auto = model.autodiffGradient(w, data, rows)
    let maxAbs = 0; let maxDiff = 0
    for (let i = 0; i < w.length; i++) { maxAbs = Math.max(maxAbs, Math.abs(auto[i])); maxDiff = Math.max(maxDiff, Math.abs(auto[i] - mine[i])) }
    assert.ok(maxAbs > 1e-4, `${spec.type}: gradient is not trivially zero`)
    assert.ok(maxDiff <= 1e-4 * Math.max(1, maxAbs), `${spec.type}/${task}: max diff ${maxDiff} (max |g| ${maxAbs})`)
    model.dispose()
  }
})

test('training lowers the loss and beats chance for each task', async () => {
  for (const [spec, task] of cases) {
    const data = synthetic(task, 400)
    const model = new Model({ ...spec, optimizer: { type: 'adam', learningRate: 0.05 } }, data.info)
    const learner = createLearner({ model, dataset: data, seed: 2, batchSize: 32 })
    const first = await learner.train(5)
    const later = await learner.train(150)
    assert.ok(later.loss < first.loss, `${spec.type}: loss ${first.loss} -> ${later.loss}`)
    const m = await learner.evaluate({ split: 'test' })
    if (task === 'binary') assert.ok(m.accuracy > 0.8, `${spec.type} accuracy ${m.accuracy}`)
    if (task === 'multiclass') assert.ok(m.accuracy > 0.7, `${spec.type} accuracy ${m.accuracy}`)
    // 300 training rows: a small net started at the mean frequency explains ~5% after 155 steps
    if (task === 'count') assert.ok(m.devianceExplained > 0.03, `${spec.type} deviance explained ${m.devianceExplained}`)
    if (task === 'regression') assert.ok(m.r2 > 0.8, `${spec.type} r2 ${m.r2}`)
    model.dispose()
  }
})

test('sgd and momentum optimizers with L2 train too', async () => {
  const data = synthetic('binary', 300)
  for (const optimizer of [{ type: 'sgd', learningRate: 0.5, l2: 1e-3 }, { type: 'momentum', learningRate: 0.1, l2: 1e-3 }] as const) {
    const model = new Model({ type: 'mlp', hidden: [8], optimizer }, data.info)
    const learner = createLearner({ model, dataset: data, seed: 1 })
    await learner.train(200)
    const m = await learner.evaluate({ split: 'test' })
    assert.ok(m.accuracy > 0.8, `${optimizer.type}: accuracy ${m.accuracy}`)
    assert.equal(model.optimizerSlots, optimizer.type === 'momentum' ? 1 : 0)
    model.dispose()
  }
})

test('weights flatten and unflatten; schemaHash is stable and layout-sensitive', () => {
  const data = synthetic('multiclass')
  const a = new Model({ type: 'mlp', hidden: [4] }, data.info)
  const b = new Model({ type: 'mlp', hidden: [4], dropout: 0.2, optimizer: { type: 'sgd' } }, data.info)
  const c = new Model({ type: 'mlp', hidden: [5] }, data.info)
  const d = new Model({ type: 'mlp', hidden: [4], activation: 'tanh' }, data.info)
  assert.equal(a.schemaHash, b.schemaHash) // same layers, shapes, dtypes
  assert.notEqual(a.schemaHash, c.schemaHash)
  assert.notEqual(a.schemaHash, d.schemaHash)
  assert.match(a.schemaHash, /^[0-9a-f]{64}$/)
  assert.equal(a.schemaHash, schemaHashOf([
    { name: 'hidden_0_relu/kernel', shape: [5, 4] }, { name: 'hidden_0_relu/bias', shape: [4] },
    { name: 'output_softmax/kernel', shape: [4, 3] }, { name: 'output_softmax/bias', shape: [3] }
  ]))
  const w = a.initialWeights(3)
  assert.equal(w.length, a.numParams)
  assert.equal(a.numParams, 5 * 4 + 4 + 4 * 3 + 3)
  const parts = unflattenWeights(w, a.params)
  assert.deepEqual(parts.map((p) => p.length), [20, 4, 12, 3])
  assert.deepEqual(flattenWeights(parts), w)
  assert.deepEqual(a.initialWeights(3), w) // deterministic from the seed
  assert.notDeepEqual(a.initialWeights(4), w)
  assert.throws(() => unflattenWeights(w.subarray(1), a.params), (e: Error) => e.name === 'WeightsMismatchError')
  const learner = createLearner({ model: a, dataset: data })
  assert.throws(() => learner.setWeights(new Float32Array(3)), (e: Error) => e.name === 'WeightsMismatchError')
})

test('no tensor leaks over 1,000 training steps and evaluations', async () => {
  const data = synthetic('multiclass', 300)
  const model = new Model({ type: 'mlp', hidden: [16], dropout: 0.1 }, data.info)
  const learner = createLearner({ model, dataset: data, seed: 1, batchSize: 16 })
  await learner.train(1) // warm-up (kernel setup)
  await learner.evaluate({ split: 'test' })
  const before = tf.memory().numTensors
  for (let i = 0; i < 100; i++) await learner.train(10)
  await learner.evaluate({ split: 'local' })
  model.clearCache()
  await learner.evaluate({ split: 'test' })
  assert.equal(tf.memory().numTensors, before)
  model.dispose()
})

test('peers sharing one model runtime get exactly what separate runtimes give', async () => {
  const data = synthetic('binary', 300)
  const spec: ModelSpecInput = { type: 'mlp', hidden: [8], dropout: 0.1 }
  const shared = await sharedModel(spec, data.info)
  assert.equal(await sharedModel(spec, data.info), shared)
  const halves = [data.train.subarray(0, 100), data.train.subarray(100)]
  const sharedPeers = halves.map((shard, i) => createLearner({ model: shared, dataset: data, shard, seed: i }))
  const ownPeers = halves.map((shard, i) => createLearner({ model: new Model(spec, data.info), dataset: data, shard, seed: i }))
  for (let round = 0; round < 3; round++) {
    for (const p of sharedPeers) await p.train(7) // interleaved on one runtime
    for (const p of ownPeers) await p.train(7)
  }
  for (let i = 0; i < 2; i++) assert.deepEqual(sharedPeers[i].weights(), ownPeers[i].weights())
  assert.notDeepEqual(sharedPeers[0].weights(), sharedPeers[1].weights())
  // growing a shard
  const n = sharedPeers[0].numExamples()
  sharedPeers[0].addRows(data.train.subarray(100, 110))
  assert.equal(sharedPeers[0].numExamples(), n + 10)
})

test('asking for an uninstalled tfjs-node backend throws BackendUnavailableError with install advice', async () => {
  for (const name of ['tensorflow', 'tensorflow-gpu'] as const) {
    await assert.rejects(setBackend(name), (err: Error) => {
      assert.equal(err.name, BackendUnavailableError.name)
      assert.match(err.message, name === 'tensorflow' ? /npm install @tensorflow\/tfjs-node@4\.22\.0/ : /tfjs-node-gpu/)
      return true
    })
  }
  assert.equal(await setBackend('cpu'), 'cpu')
  assert.equal(tf.getBackend(), 'cpu')
  assert.equal(await setBackend('wasm'), 'wasm')
})

test('a cnn fails at build time on wasm naming the backends that can train it, and trains on cpu', async () => {
  const rng = createRng(11)
  const n = 240; const side = 6
  const x = new Float32Array(n * side * side)
  const y = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const left = rng.next() < 0.5
    y[i] = left ? 0 : 1
    for (let r = 0; r < side; r++) for (let c = 0; c < side; c++) x[i * 36 + r * side + c] = 0.3 * rng.next() + ((c < 3) === left ? 0.7 : 0)
  }
  const data = datasetFromArrays({ name: 'halves', x, y, numFeatures: 36, task: 'binary', testFraction: 0.25 })
  const spec: ModelSpecInput = { type: 'cnn', inputShape: [6, 6, 1], conv: [{ filters: 4, kernel: 3, pool: 2 }], hidden: [8], optimizer: { type: 'adam', learningRate: 0.02 } }
  await setBackend('wasm')
  assert.throws(() => new Model(spec, data.info), (err: Error) => {
    assert.equal(err.name, 'UnsupportedOnBackendError')
    assert.match(err.message, /Conv2DBackpropFilter/)
    assert.match(err.message, /--backend cpu/)
    assert.match(err.message, /tensorflow-gpu/)
    return true
  })
  await setBackend('cpu')
  try {
    const model = new Model(spec, data.info)
    assert.equal(model.numParams, 3 * 3 * 1 * 4 + 4 + 3 * 3 * 4 * 8 + 8 + 8 + 1)
    const learner = createLearner({ model, dataset: data, seed: 1, batchSize: 16 })
    const first = await learner.train(3)
    const later = await learner.train(80)
    assert.ok(later.loss < first.loss, `cnn loss ${first.loss} -> ${later.loss}`)
    const m = await learner.evaluate({ split: 'test' })
    assert.ok(m.accuracy > 0.9, `cnn accuracy ${m.accuracy}`)
    model.dispose()
  } finally {
    await setBackend('wasm')
  }
})

test('the plain-JS step of linear models matches the TF.js step', () => {
  const linear: Array<[ModelSpecInput['type'], Task]> = [['logistic', 'binary'], ['softmax', 'multiclass'], ['linear', 'regression'], ['poisson-glm', 'count']]
  const optimizers = [{ type: 'adam', learningRate: 0.05, l2: 0.01 }, { type: 'sgd', learningRate: 0.1 }, { type: 'momentum', learningRate: 0.05, l2: 0.001 }] as const
  for (const [type, task] of linear) {
    for (const optimizer of optimizers) {
      const data = synthetic(task, 300)
      const js = new Model({ type, optimizer }, data.info)
      const tfjs = new Model({ type, optimizer }, data.info, { engine: 'tfjs' })
      assert.equal(js.engine, 'js')
      assert.equal(tfjs.engine, 'tfjs')
      assert.equal(js.schemaHash, tfjs.schemaHash)
      const a = createLearner({ model: js, dataset: data, seed: 3, batchSize: 16, labelFlip: task === 'binary' })
      const b = createLearner({ model: tfjs, dataset: data, seed: 3, batchSize: 16, labelFlip: task === 'binary' })
      const ra = a.trainSync(60)
      const rb = b.trainSync(60)
      assert.ok(Math.abs(ra.loss - rb.loss) <= 1e-4 * Math.max(1, Math.abs(rb.loss)), `${type}/${optimizer.type}: loss ${ra.loss} vs ${rb.loss}`)
      const wa = a.weights(); const wb = b.weights()
      let maxDiff = 0; let maxAbs = 0
      for (let i = 0; i < wa.length; i++) { maxDiff = Math.max(maxDiff, Math.abs(wa[i] - wb[i])); maxAbs = Math.max(maxAbs, Math.abs(wb[i])) }
      assert.ok(maxAbs > 0.01, `${type}: weights moved`)
      assert.ok(maxDiff <= 1e-3 * Math.max(1, maxAbs), `${type}/${optimizer.type}: weights differ by ${maxDiff}`)
      js.dispose(); tfjs.dispose()
    }
  }
  assert.throws(() => new Model({ type: 'mlp' }, { inputDim: 3, task: 'binary' }, { engine: 'js' }), (e: Error) => e.name === 'IncompatibleModelError')
})
