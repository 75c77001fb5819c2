import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setBackend, Model, createLearner, datasetFromArrays } from '../../learning/index.js'
import { addPriorStats, priorBias } from '../../learning/model.js'
import { InvalidSpecError } from '../../learning/errors.js'

await setBackend('wasm')

/** n rows, 2 features; labels and exposures chosen so that the means are known exactly. */
function data (task: 'count' | 'binary' | 'multiclass' | 'regression', y: number[], exposure?: number[]): ReturnType<typeof datasetFromArrays> {
  const n = y.length
  const x = Float32Array.from({ length: n * 2 }, (_, i) => (i % 7) / 7)
  return datasetFromArrays({
    name: `prior-${task}`, x, y: Float32Array.from(y), numFeatures: 2, task,
    exposure: exposure != null ? Float32Array.from(exposure) : null, testFraction: 0, splitSeed: 1,
    ...(task === 'multiclass' ? { numClasses: 3 } : {})
  })
}

const biasOf = (model: Model, w: Float32Array): Float32Array => {
  const out = model.params[model.params.length - 1]
  return w.subarray(out.offset, out.offset + out.size)
}

test('a Poisson GLM learner starts its intercept at the log claim frequency of its own rows (with exposure)', () => {
  // 3 claims over 40 policy-years: frequency 0.075
  const y = Array.from({ length: 40 }, (_, i) => i < 3 ? 1 : 0)
  const d = data('count', y, Array.from({ length: 40 }, () => 1))
  const model = new Model({ type: 'poisson-glm' }, d.info)
  const learner = createLearner({ model, dataset: d, shard: d.train })
  assert.ok(Math.abs(biasOf(model, learner.state.weights)[0] - Math.log(3 / 40)) < 1e-6, `intercept ${biasOf(model, learner.state.weights)[0]} should be log(0.075)`)
  // half-year exposures double the frequency: the start follows exposure, not rows
  const half = data('count', y, Array.from({ length: 40 }, () => 0.5))
  const m2 = new Model({ type: 'poisson-glm' }, half.info)
  const l2 = createLearner({ model: m2, dataset: half, shard: half.train })
  assert.ok(Math.abs(biasOf(m2, l2.state.weights)[0] - Math.log(3 / 20)) < 1e-6, 'exposure should enter the log rate')
  // predicted total claims equal observed at the start (the kernel is zero)
  const pred = model.predict(learner.state.weights, d, d.train)
  const total = pred.reduce((s, v) => s + v, 0)
  assert.ok(Math.abs(total - 3) < 1e-4, `predicted ${total} claims at the start, observed 3`)
})

test('binary, multiclass and regression starts: log-odds, centred log priors, mean', () => {
  const b = data('binary', [1, 0, 0, 0, 1, 0, 0, 0, 0, 0])
  const mb = new Model({ type: 'logistic' }, b.info)
  const lb = createLearner({ model: mb, dataset: b, shard: b.train })
  assert.ok(Math.abs(biasOf(mb, lb.state.weights)[0] - Math.log(0.2 / 0.8)) < 1e-6, 'logistic bias should be the log-odds of 0.2')
  const c = data('multiclass', [0, 0, 0, 0, 0, 0, 1, 1, 1, 2])
  const mc = new Model({ type: 'softmax' }, c.info)
  const lc = createLearner({ model: mc, dataset: c, shard: c.train })
  const bc = biasOf(mc, lc.state.weights)
  assert.ok(Math.abs(bc[0] - bc[2] - Math.log(6)) < 1e-5 && Math.abs(bc[1] - bc[2] - Math.log(3)) < 1e-5, `softmax biases ${Array.from(bc).join(', ')} should give priors 0.6, 0.3, 0.1`)
  assert.ok(Math.abs(bc[0] + bc[1] + bc[2]) < 1e-5, 'softmax biases should be centred')
  const r = data('regression', [1, 2, 3, 6])
  const mr = new Model({ type: 'linear' }, r.info)
  const lr = createLearner({ model: mr, dataset: r, shard: r.train })
  assert.ok(Math.abs(biasOf(mr, lr.state.weights)[0] - 3) < 1e-6, 'linear bias should be the mean label')
  // an MLP's output bias too (its hidden kernels stay Glorot)
  const mm = new Model({ type: 'mlp', hidden: [4] }, c.info)
  const lm = createLearner({ model: mm, dataset: c, shard: c.train })
  assert.ok(Math.abs(biasOf(mm, lm.state.weights)[0] - biasOf(mm, lm.state.weights)[2] - Math.log(6)) < 1e-5, 'mlp output bias should start at the log priors')
})

test('one-sided shards stay finite; the spec and an explicit start win over the own mean', () => {
  const none = data('count', [0, 0, 0, 0], [1, 1, 1, 1])
  const m = new Model({ type: 'poisson-glm' }, none.info)
  const l = createLearner({ model: m, dataset: none, shard: none.train })
  assert.ok(Math.abs(biasOf(m, l.state.weights)[0] - Math.log(0.5 / 4)) < 1e-6, 'no claims: half a claim over the exposure')
  const allPos = data('binary', [1, 1, 1])
  const mb = new Model({ type: 'logistic' }, allPos.info)
  assert.ok(Number.isFinite(createLearner({ model: mb, dataset: allPos, shard: allPos.train }).state.weights[2]), 'all positive: a finite log-odds')
  const fixed = new Model({ type: 'poisson-glm', outputBiasInit: -2 }, none.info)
  assert.equal(biasOf(fixed, createLearner({ model: fixed, dataset: none, shard: none.train, outputBias: [5] }).state.weights)[0], -2, 'the spec outputBiasInit is the common start')
  assert.equal(biasOf(m, createLearner({ model: m, dataset: none, shard: none.train, outputBias: [-1.5] }).state.weights)[0], -1.5, 'an explicit outputBias (the network start) is used')
  assert.throws(() => new Model({ type: 'softmax', outputBiasInit: [0, 1] }, data('multiclass', [0, 1, 2]).info), (e: Error) => e instanceof InvalidSpecError && /outputBiasInit/.test(e.message), 'a bias list of the wrong length is refused')
})

test('pooled prior statistics add up to the prior of the union of the rows', () => {
  const y = [1, 0, 2, 0, 0, 1, 0, 0]
  const d = data('count', y, [1, 0.5, 1, 1, 0.25, 1, 1, 0.5])
  const m = new Model({ type: 'poisson-glm' }, d.info)
  const rows = d.train
  const pooled = priorBias(addPriorStats([m.priorStats(d, rows.subarray(0, 3)), m.priorStats(d, rows.subarray(3))]))
  assert.ok(Math.abs(pooled[0] - m.outputPrior(d, rows)[0]) < 1e-6, 'pooled stats should give the prior of all rows')
  assert.ok(Math.abs(pooled[0] - Math.log(4 / 6.25)) < 1e-6, 'pooled frequency 4 claims / 6.25 years')
})
