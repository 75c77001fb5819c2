import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setBackend, Model, createLearner, datasetFromArrays, type ModelSpecInput, type Task } from '../../learning/index.js'
import { PeerPrivacy, RdpAccountant, clipRows, parsePrivacySpec, type DpSgdOptions } from '../../learning/privacy/index.js'
import { createRng } from '../../protocol/rng.js'
import { buildLayout } from '../../learning/model/layout.js'
import { parseModelSpec } from '../../learning/specs.js'
import { createTrainer } from '../../learning/trainers/index.js'
import { ring } from '../averaging/graphs.js'
import { buildPeers } from '../engine/setup.js'

await setBackend('wasm')

function synthetic (task: Task, n = 200, d = 6, seed = 1): ReturnType<typeof datasetFromArrays> {
  const rng = createRng(seed)
  const x = new Float32Array(n * d)
  const y = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    let s = 0
    // a few rows far out, so that some per-example gradients are large and get clipped
    const scale = i % 7 === 0 ? 8 : 1
    for (let j = 0; j < d; j++) { const v = scale * rng.normal(); x[i * d + j] = v; s += v * (j % 2 === 0 ? 1 : -0.5) }
    y[i] = task === 'binary' ? (s + rng.normal() > 0 ? 1 : 0) : task === 'multiclass' ? (s < -0.7 ? 0 : s < 0.7 ? 1 : 2) : s
  }
  return datasetFromArrays({ name: `dp-${task}`, x, y, numFeatures: d, task, testFraction: 0.25, splitSeed: 3 })
}

const noNoise = (clip: number): DpSgdOptions => ({ clip, noiseMultiplier: 0, normal: () => { throw new Error('no draws expected') } })

function norm (v: ArrayLike<number>): number { let s = 0; for (let i = 0; i < v.length; i++) s += v[i] * v[i]; return Math.sqrt(s) }

test('clipRows scales fixed vectors to the clip norm and leaves short ones alone', () => {
  const g = Float64Array.from([3, 4, 0.3, 0.4, 0, 0])
  const f = clipRows(g, 3, 1)
  assert.deepEqual(Array.from(g).map((v) => Math.round(v * 1e12) / 1e12), [0.6, 0.8, 0.3, 0.4, 0, 0], 'first row to norm 1, the others unchanged')
  assert.deepEqual(Array.from(f), [0.2, 1, 1], 'the factors')
})

/**
 * The reference: each example's own gradient (a batch of one), clipped in JS, then averaged. The trainers'
 * vectorised clipping (dense: norms by outer products; glm: per row) must give the same mean gradient.
 */
function referenceClippedMean (model: Model, w: Float32Array, data: ReturnType<typeof synthetic>, rows: Uint32Array): { mean: Float64Array, clipped: number, clip: number } {
  const mean = new Float64Array(w.length); let clipped = 0
  const grads = Array.from(rows, (r) => model.gradient(w, data, Uint32Array.of(r)).grad)
  const norms = grads.map(norm).sort((a, b) => a - b)
  const clip = norms[Math.floor(norms.length * 0.6)] // about 40% of the rows get clipped
  for (const g of grads) {
    const n = norm(g)
    if (n > clip) clipped++
    const f = n > clip ? clip / n : 1
    for (let i = 0; i < g.length; i++) mean[i] += g[i] * f / rows.length
  }
  return { mean, clipped, clip }
}

const cases: Array<[ModelSpecInput, Task]> = [
  [{ type: 'logistic', optimizer: { type: 'sgd', learningRate: 1 } }, 'binary'],
  [{ type: 'softmax', optimizer: { type: 'sgd', learningRate: 1 } }, 'multiclass'],
  [{ type: 'linear', optimizer: { type: 'sgd', learningRate: 1 } }, 'regression'],
  [{ type: 'mlp', hidden: [8, 5], activation: 'tanh', optimizer: { type: 'sgd', learningRate: 1 } }, 'multiclass'],
  [{ type: 'mlp', hidden: [6], activation: 'relu', dropout: 0, optimizer: { type: 'sgd', learningRate: 1 } }, 'binary']
]

test('per-example clipping in the glm and dense trainers equals clipping each example alone', () => {
  for (const [spec, task] of cases) {
    const data = synthetic(task)
    const model = new Model(spec, data.info)
    const state = model.initialState(5)
    const rng = createRng(9)
    for (let i = 0; i < state.weights.length; i++) state.weights[i] += 0.3 * rng.normal()
    const rows = data.train.subarray(0, 40)
    const before = Float32Array.from(state.weights)
    const ref = referenceClippedMean(model, before, data, rows)
    const clip = ref.clip
    assert.ok(ref.clipped >= 5 && ref.clipped < rows.length, `${spec.type}: some rows clipped, not all (${ref.clipped})`)
    // one sgd step at learning rate 1 moves the weights by minus the (clipped, noiseless) gradient
    model.trainSteps(state, data, 1, () => rows, { privacy: noNoise(clip) })
    let maxDiff = 0; let maxAbs = 0
    for (let i = 0; i < before.length; i++) {
      const g = before[i] - state.weights[i]
      maxAbs = Math.max(maxAbs, Math.abs(ref.mean[i])); maxDiff = Math.max(maxDiff, Math.abs(g - ref.mean[i]))
    }
    assert.ok(maxAbs > 1e-3, `${spec.type}: gradient is not trivially zero`)
    assert.ok(maxDiff <= 2e-5 * Math.max(1, maxAbs), `${spec.type}/${task}: clipped step differs from the reference by ${maxDiff}`)
    // and the mean of clipped gradients is within the clip norm
    assert.ok(norm(ref.mean) <= clip + 1e-9, `${spec.type}: mean of clipped gradients within the clip`)
    model.dispose()
  }
})

test('the noise has standard deviation noiseMultiplier * clip on the sum (seeded)', () => {
  const clip = 2; const sigma = 1.5 // std 3; a variance-for-std mistake would give 9
  for (const [spec, task] of [cases[1], cases[3]]) {
    const data = synthetic(task)
    const model = new Model(spec, data.info)
    const start = model.initialState(5)
    const rows = data.train.subarray(0, 25)
    const n = rows.length
    const noiseless = model.initialState(5)
    model.trainSteps(noiseless, data, 1, () => rows, { privacy: noNoise(clip) })
    const rng = createRng('dp-noise')
    const samples: number[] = []
    for (let rep = 0; samples.length < 4000; rep++) {
      const s = model.initialState(5)
      s.weights.set(start.weights)
      model.trainSteps(s, data, 1, () => rows, { privacy: { clip, noiseMultiplier: sigma, normal: () => rng.normal() } })
      // the step divides (sum + noise) by n; learning rate 1
      for (let i = 0; i < s.weights.length; i++) samples.push((noiseless.weights[i] - s.weights[i]) * n)
    }
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length
    const std = Math.sqrt(samples.reduce((a, b) => a + (b - mean) * (b - mean), 0) / (samples.length - 1))
    assert.ok(Math.abs(mean) < 0.2, `${spec.type}: noise mean ${mean} ~ 0`)
    assert.ok(Math.abs(std - sigma * clip) < 0.1 * sigma * clip, `${spec.type}: noise std ${std}, expected ${sigma * clip}`)
    model.dispose()
  }
})

test('a learner stops training at its budget, never overspends, and a reload remembers what was spent', async () => {
  const data = synthetic('binary', 400)
  const model = new Model({ type: 'logistic', batchSize: 30 }, data.info)
  const spec = parsePrivacySpec({ epsilon: 2, delta: 1e-5, clip: 1, noiseMultiplier: 1.1 })
  const rng = createRng('dp-learner')
  const mk = (state?: ReturnType<PeerPrivacy['toJSON']>): PeerPrivacy => new PeerPrivacy({ spec, normal: () => rng.normal(), sampleRate: 0.1, state })
  const privacy = mk()
  const learner = createLearner({ model, dataset: data, batchSize: 30, seed: 1, privacy })
  let total = 0; let calls = 0
  while (!learner.privacyExhausted() && calls < 1000) { total += (await learner.train(20)).steps; calls++ }
  assert.ok(learner.privacyExhausted(), 'exhausted within 1000 calls')
  const st = privacy.status()
  assert.ok(st.epsilon <= 2 && st.epsilon > 1.9, `spent ${st.epsilon} just within the budget 2`)
  assert.equal(st.steps, total, 'the accountant counts every step trained')
  assert.equal((await learner.train(20)).steps, 0, 'no more steps once exhausted')
  // what one more step would cost is over the budget
  const acc = RdpAccountant.fromJSON(privacy.toJSON())
  assert.ok(acc.spentAfter(st.sampleRate, st.noiseMultiplier, 1, 1e-5).epsilon > 2, 'one more step would overspend')
  // a restart from the saved state is exhausted at once
  const again = mk(JSON.parse(JSON.stringify(privacy.toJSON())))
  assert.ok(again.exhausted, 'a reload from the saved state is exhausted')
  assert.equal(again.status().epsilon, st.epsilon, 'and has spent the same')
  model.dispose()
})

test('the noise multiplier is derived from a target epsilon over planned steps', () => {
  const spec = parsePrivacySpec({ epsilon: 4, steps: 500 })
  const p = new PeerPrivacy({ spec, normal: Math.random, sampleRate: 0.05 })
  assert.ok(p.noiseMultiplier > 0.5 && p.noiseMultiplier < 5, `sigma ${p.noiseMultiplier}`)
  assert.equal(p.allowedSteps(500), 500, 'the planned steps fit the budget')
  assert.ok(p.allowedSteps(5000) < 5000, 'ten times as many do not')
  assert.throws(() => parsePrivacySpec({ epsilon: 4 }), (e: Error) => e.name === 'InvalidSpecError' && /privacy\.noiseMultiplier/.test(e.message), 'neither noise nor steps')
  assert.throws(() => parsePrivacySpec({ epsilon: 4, steps: 5, clip: -1 }), (e: Error) => e.name === 'InvalidSpecError' && /privacy\.clip/.test(e.message), 'bad clip names the field')
})

test('the engine sends nothing from a peer whose privacy budget is spent, and still receives', async () => {
  const { net, peers } = buildPeers({ n: 4, dim: 3, graph: ring, init: { averaging: { rule: 'epidemic' }, localSteps: 1, evaluateEveryRounds: 0 } })
  let exhausted = false
  ;(peers[0].learner as unknown as { privacyExhausted: () => boolean }).privacyExhausted = () => exhausted
  const sentBy = (): number => net.queue.filter((d) => d.message.from === peers[0].key).length
  await peers[0].engine.beginRound()
  assert.ok(sentBy() > 0, 'sends while within budget')
  await net.deliverAll(); await peers[0].engine.endRound()
  exhausted = true
  await peers[0].engine.beginRound()
  assert.equal(sentBy(), 0, 'sends nothing once exhausted')
  await peers[0].engine.endRound()
  await peers[1].engine.beginRound()
  const toZero = net.queue.filter((d) => d.to === peers[0].key).length
  assert.ok(toZero > 0, 'neighbours still send to it')
  await net.deliverAll()
  assert.ok(net.verdicts.some((v) => v.to === peers[0].key && v.reason == null), 'and it accepts what they send')
})

test('a trainer without per-example clipping (cnn) refuses privacy by name', async () => {
  await setBackend('cpu') // the wasm backend has no convolution gradients at all (last test of this file)
  const data = synthetic('binary', 40, 4)
  const lay = buildLayout(parseModelSpec({ type: 'cnn', inputShape: [2, 2, 1], conv: [{ filters: 2, kernel: 3, pool: 1 }], hidden: [3] }), data.info)
  const trainer = createTrainer(lay, 2)
  const state = { weights: new Float32Array(lay.numParams), optimizer: new Float32Array(2 * lay.numParams), step: 0 }
  const rows = data.train.subarray(0, 8)
  assert.throws(() => trainer.trainSteps(state, data, 1, () => rows, { privacy: noNoise(1) }),
    (e: Error) => e.name === 'IncompatibleModelError' && /per-example clipping/.test(e.message), 'cnn has no per-example clipping')
  assert.equal(state.step, 0, 'refused before any step')
  trainer.dispose()
})

test('the round that takes the last allowed steps is not yet exhausted (its model may be sent); the next one is', () => {
  const spec = parsePrivacySpec({ epsilon: 2, delta: 1e-5, clip: 1, noiseMultiplier: 1.1 })
  const p = new PeerPrivacy({ spec, normal: () => 0, sampleRate: 0.1 })
  const last = p.allowedSteps(1_000_000)
  assert.ok(last > 0 && last < 1_000_000, `the budget allows ${last} steps`)
  p.record(last, last)
  assert.equal(p.exhausted, false, 'all requested steps were taken: what they trained may still be sent')
  assert.equal(p.allowedSteps(1), 0, 'but no further step fits')
  p.record(0, 5)
  assert.equal(p.exhausted, true, 'a call that could take no step marks the peer exhausted')
  assert.ok(p.status().remainingEpsilon >= 0 && p.status().epsilon <= 2, 'never overspent')
})
