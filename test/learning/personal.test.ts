import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BLEND_GRID, blendPredictions, blendWeights, chooseBlend, holdOutRows, labelsCanTell, pairedDifference, rowContributions, selectionLoss } from '../../learning/personal.js'
import { pairedAucDifference } from '../../learning/auc-compare.js'
import { blendModeOf, choosePersonal, evaluatePersonal, personalWeights, predictPersonal } from '../../learning/personal-model.js'
import { computeMetrics } from '../../learning/metrics.js'
import { datasetFromArrays } from '../../learning/dataset.js'
import { Model } from '../../learning/model.js'
import { createRng } from '../../protocol/rng.js'

const close = (a: number, b: number, eps = 1e-9): boolean => Math.abs(a - b) <= eps

test('holdOutRows: a seeded, disjoint split of the rows; none held out at fraction 0 or below two rows', () => {
  const rows = Uint32Array.from({ length: 50 }, (_, i) => i * 3)
  const a = holdOutRows(rows, 0.2, 'seed-1')
  assert.equal(a.validation.length, 10, '20% of 50 rows')
  assert.equal(a.train.length, 40, 'the rest train')
  assert.deepEqual([...a.train, ...a.validation].sort((x, y) => x - y), [...rows], 'together they are the rows')
  assert.ok(a.validation.every((r) => !a.train.includes(r)), 'disjoint')
  assert.deepEqual(holdOutRows(rows, 0.2, 'seed-1'), a, 'same seed, same split')
  assert.notDeepEqual(holdOutRows(rows, 0.2, 'seed-2').validation, a.validation, 'another seed, another split')
  assert.equal(holdOutRows(rows, 0, 's').validation.length, 0, 'fraction 0 holds nothing out')
  assert.equal(holdOutRows(Uint32Array.of(7), 0.5, 's').validation.length, 0, 'one row is kept for training')
  assert.equal(holdOutRows(Uint32Array.of(1, 2), 0.01, 's').validation.length, 1, 'at least one row when two or more')
  assert.throws(() => holdOutRows(rows, 1, 's'), (e: Error) => e.name === 'PersonalSelectionError', 'fraction 1 leaves nothing to train')
})

test('blends: parameter interpolation and prediction blend run from the network (z 0) to the local model (z 1)', () => {
  const net = Float32Array.of(1, 2, 3)
  const loc = Float32Array.of(3, 2, 1)
  assert.deepEqual([...blendWeights(net, loc, 0)], [1, 2, 3], 'z 0: the network model')
  assert.deepEqual([...blendWeights(net, loc, 1)], [3, 2, 1], 'z 1: the local model')
  assert.deepEqual([...blendWeights(net, loc, 0.5)], [2, 2, 2], 'halfway')
  assert.ok(close(blendPredictions([0.2], [0.6], 0.25)[0], 0.3, 1e-7), '0.75 x 0.2 + 0.25 x 0.6')
  assert.throws(() => blendWeights(net, Float32Array.of(1), 0.5), (e: Error) => e.name === 'PersonalSelectionError', 'lengths must match')
  assert.deepEqual(BLEND_GRID, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1], 'the credibility grid')
  assert.equal(selectionLoss('count'), 'poissonDeviance', 'Poisson tasks by deviance')
  assert.equal(selectionLoss('binary'), 'logLoss', 'classifiers by log loss')
})

test('chooseBlend, rule min: the lowest loss; ties and non-finite losses go to the network side', () => {
  const c = (z: number, loss: number): { z: number, loss: number } => ({ z, loss })
  assert.equal(chooseBlend([c(0, 0.5), c(0.5, 0.3), c(1, 0.4)]).z, 0.5, 'the lowest loss wins')
  assert.equal(chooseBlend([c(1, 0.2), c(0, 0.5)]).z, 1, 'the local model when it is best')
  assert.equal(chooseBlend([c(0, 0.3), c(0.5, 0.3), c(1, 0.3)]).z, 0, 'a tie keeps the network model')
  assert.equal(chooseBlend([c(0, 0.3), c(0.5, NaN), c(1, 0.4)]).z, 0, 'a NaN loss never wins')
  const r = chooseBlend([c(0, 0.5), c(0.3, 0.2), c(1, 0.4)])
  assert.deepEqual(r, { z: 0.3, loss: 0.2, networkLoss: 0.5, localLoss: 0.4, bestZ: 0.3 }, 'both ends reported')
  assert.throws(() => chooseBlend([c(0, 0.5), c(0.5, 0.3)]), (e: Error) => e.name === 'PersonalSelectionError' && /z = 1/.test(e.message), 'the local model must be a candidate')
  assert.throws(() => chooseBlend([c(1, 0.5)]), (e: Error) => e.name === 'PersonalSelectionError' && /z = 0/.test(e.message), 'the network model must be a candidate')
})

test('chooseBlend, one-standard-error rule: noise keeps the network model, evidence moves to the local side', () => {
  // Ten validation rows. Noisy: z 1 is lower on average but the paired differences swing widely.
  const noisyNet = [1, 0, 2, 0, 1, 0, 3, 0, 1, 0]
  const noisyLocal = [0, 1, 0, 2, 0, 1, 0, 2, 0, 1] // mean 0.7 vs 0.8
  const mean = (a: number[]): number => a.reduce((s, x) => s + x, 0) / a.length
  const cand = (z: number, rows: number[]): { z: number, loss: number, rows: number[] } => ({ z, loss: mean(rows), rows })
  const noisy = chooseBlend([cand(0, noisyNet), cand(1, noisyLocal)])
  assert.equal(noisy.bestZ, 1, 'the local model has the lowest mean loss')
  assert.equal(noisy.z, 0, 'but within one standard error: keep the network model')
  assert.equal(chooseBlend([cand(0, noisyNet), cand(1, noisyLocal)], { rule: 'min' }).z, 1, 'rule min chases the noise')
  // Clear: the local model is better on every row by about 0.5; the halfway blend is within one SE of it.
  const net = [1.5, 1.6, 1.4, 1.5, 1.7, 1.3, 1.5, 1.6, 1.4, 1.5]
  const local = net.map((x) => x - 0.5)
  const half = local.map((x, i) => x + (i % 2 === 0 ? 0.05 : -0.03)) // 0.01 worse on average, SE 0.013
  const clear = chooseBlend([cand(0, net), cand(0.5, half), cand(1, local)])
  assert.equal(clear.bestZ, 1, 'the local model is best')
  assert.equal(clear.z, 0.5, 'the smallest z within one standard error of the best')
  const far = chooseBlend([cand(0, net), cand(0.5, net.map((x) => x - 0.2)), cand(1, local)])
  assert.equal(far.z, 1, 'a blend clearly worse than the best is passed over')
  // The gate: the network model 1.5 paired standard errors behind the local one (10 rows) is within the paired
  // 95% interval and kept (the one-SE rule alone would move); 2.5 standard errors behind, it is left.
  const spread = [0.1, 2.5, 0.3, 1.9, 0.05, 2.7, 0.6, 1.2, 0.2, 2.2]
  const e = [1, -1, 0.5, -0.5, 1, -1, 0.5, -0.5, 1, -1] // paired noise, mean 0
  const sdE = Math.sqrt(e.reduce((s2, x) => s2 + x * x, 0) / 9)
  const behindBy = (k: number): number[] => spread.map((x, i) => x + 0.1 * e[i] + k * 0.1 * sdE / Math.sqrt(10))
  const d15 = pairedDifference(behindBy(1.5), spread, false)
  assert.ok(close(-d15.mean / (d15.halfWidth / 1.96), 1.5, 1e-9), `1.5 paired SE behind: ${-d15.mean / (d15.halfWidth / 1.96)}`)
  const inside = chooseBlend([cand(0, behindBy(1.5)), cand(1, spread)])
  assert.equal(inside.bestZ, 1, 'the local model has the lower mean loss')
  assert.equal(inside.z, 0, 'within the paired 95% interval: the network model is kept')
  assert.equal(chooseBlend([cand(0, behindBy(2.5)), cand(1, spread)]).z, 1, 'beyond it: the local model')
})

test('chooseBlend, one-standard-error rule below two rows, and labelsCanTell: rows that cannot tell keep the network model', () => {
  // one validation row: no standard error (a zero spread would let any lower loss win, as rule min does)
  const one = chooseBlend([{ z: 0, loss: 0.9, rows: [0.9] }, { z: 0.5, loss: 0.5, rows: [0.5] }, { z: 1, loss: 0.1, rows: [0.1] }])
  assert.equal(one.bestZ, 1, 'the local model has the lowest loss on the one row')
  assert.equal(one.z, 0, 'one row cannot tell: the network model')
  assert.equal(one.loss, 0.9, 'the network model\'s loss reported as the choice\'s')
  assert.equal(chooseBlend([{ z: 0, loss: 0.9, rows: [0.9, 0.9] }, { z: 1, loss: 0.1, rows: [0.1, 0.11] }]).z, 1, 'two rows with a clear gap: the local model')
  assert.equal(labelsCanTell([0, 0, 0, 0, 0]), false, 'one class: cannot tell')
  assert.equal(labelsCanTell([1]), false, 'one row: cannot tell')
  assert.equal(labelsCanTell([]), false, 'no rows: cannot tell')
  assert.equal(labelsCanTell([0, 0, 1]), true, 'both classes: can tell')
  assert.equal(labelsCanTell([0, 2, 0]), true, 'counts that differ: can tell')
})

test('rowContributions: their mean is the metric (accuracy, log loss, Poisson deviance; weighted too); pairedDifference', () => {
  const rng = createRng('rows')
  const n = 40
  const y = Float32Array.from({ length: n }, () => rng.next() < 0.3 ? 1 : 0)
  const p = Float32Array.from({ length: n }, () => rng.next())
  const w = Float32Array.from({ length: n }, () => 0.5 + rng.next())
  const m = computeMetrics('binary', y, p, { weight: w })
  const mean = (a: ArrayLike<number>): number => Array.from(a).reduce((s, x) => s + x, 0) / a.length
  assert.ok(close(mean(rowContributions('binary', 'accuracy', y, p, { weight: w })!), m.accuracy), 'weighted accuracy')
  assert.ok(close(mean(rowContributions('binary', 'logLoss', y, p, { weight: w })!), m.logLoss, 1e-7), 'weighted log loss')
  const counts = Float32Array.from({ length: n }, () => rng.int(3))
  const mu = Float32Array.from({ length: n }, () => 0.1 + rng.next())
  const pm = computeMetrics('count', counts, mu)
  assert.ok(close(mean(rowContributions('count', 'poissonDeviance', counts, mu)!), pm.poissonDeviance, 1e-7), 'Poisson deviance')
  assert.equal(rowContributions('binary', 'auc', y, p), null, 'AUC is not a mean over rows')
  const d = pairedDifference([1, 2, 3, 4], [2, 2, 4, 4], false)
  assert.ok(close(d.mean, 0.5), 'lower is better: b - a')
  // differences 1, 0, 1, 0: sd = sqrt(1/3), SE = sd / 2
  assert.ok(close(d.halfWidth, 1.96 * Math.sqrt(1 / 3) / 2), '95% half-width of the paired mean')
  assert.ok(close(pairedDifference([1, 1], [0, 0], true).mean, 1), 'higher is better: a - b')
})

/** A logistic problem where the network and the local model disagree: which the validation rows prefer is known. */
function logisticProblem (): { dataset: ReturnType<typeof datasetFromArrays>, model: Model, good: Float32Array, bad: Float32Array } {
  const rng = createRng('personal-logistic')
  const n = 400
  const x = new Float32Array(n * 2)
  const y = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    x[2 * i] = rng.normal(); x[2 * i + 1] = rng.normal()
    y[i] = rng.next() < 1 / (1 + Math.exp(-(2 * x[2 * i] - 1.5 * x[2 * i + 1]))) ? 1 : 0
  }
  const dataset = datasetFromArrays({ name: 'p', x, y, numFeatures: 2, task: 'binary', testFraction: 0.5, splitSeed: 1 })
  const model = new Model({ type: 'logistic' }, dataset.info)
  const good = Float32Array.of(2, -1.5, 0)
  const bad = Float32Array.of(-1, 1, 0.5)
  assert.equal(model.numParams, 3, 'two coefficients and an intercept')
  return { dataset, model, good, bad }
}

test('choosePersonal on a logistic model: the local model when the own rows favour it, the network model otherwise', () => {
  const { dataset, model, good, bad } = logisticProblem()
  try {
    assert.equal(blendModeOf(model), 'parameters', 'a GLM blends its parameters')
    const rows = dataset.train
    const toLocal = choosePersonal(model, dataset, rows, bad, good)
    assert.ok(toLocal.z >= 0.8, `a far better local model gets the credibility (z ${toLocal.z})`)
    assert.ok(toLocal.validation.personal <= toLocal.validation.network, 'never worse than the network model on validation')
    assert.equal(toLocal.loss, 'logLoss', 'chosen by the task loss without a metric')
    const toNetwork = choosePersonal(model, dataset, rows, good, bad)
    assert.equal(toNetwork.z, 0, 'a far better network model is kept')
    const none = choosePersonal(model, dataset, new Uint32Array(0), bad, good)
    assert.equal(none.z, 0, 'no validation rows: the network model')
    const byAcc = choosePersonal(model, dataset, rows, bad, good, { metric: { name: 'accuracy', higherIsBetter: true } })
    assert.equal(byAcc.loss, 'accuracy', 'chosen by the run metric when it is a mean over rows')
    assert.ok(byAcc.validation.personal >= byAcc.validation.network, 'accuracy reported as accuracy (higher is better)')
    assert.deepEqual([...personalWeights(toLocal)!], [...blendWeights(bad, good, toLocal.z)], 'one GLM: the interpolated coefficients')
    const f = evaluatePersonal(model, dataset, dataset.test, toLocal, { name: 'logLoss', higherIsBetter: false })
    assert.equal(f.rows, dataset.test.length, 'scored on the rows given')
    assert.ok((f.personal as number) < (f.network as number), 'better than the bad network model on the test rows')
    assert.ok(f.vsNetwork != null && f.vsNetwork.mean - f.vsNetwork.halfWidth > 0, 'significantly better')
    const direct = computeMetrics('binary', Float32Array.from(dataset.test, (r) => dataset.y[r]), predictPersonal(model, dataset, dataset.test, toLocal)).logLoss
    assert.ok(close(f.personal as number, direct, 1e-6), 'the personal figure is the personal predictions\' metric')
  } finally { model.dispose() }
})

test('choosePersonal: validation rows of one class keep the network model, even where a local model fits them better', () => {
  const { dataset, model, good } = logisticProblem()
  try {
    // a small shard's validation rows, all negative (as an Adult country's few rows, all below 50K); its local
    // model predicts P(positive) near 0 everywhere, so its log loss on them is lower on every row
    const negatives = Uint32Array.from([...dataset.train].filter((r) => dataset.y[r] < 0.5).slice(0, 12))
    const nearZero = Float32Array.of(0, 0, -6)
    const c = choosePersonal(model, dataset, negatives, good, nearZero)
    assert.ok(c.validation.localOnly < c.validation.network, `the local model's log loss is lower on these rows (${c.validation.localOnly} vs ${c.validation.network})`)
    assert.equal(c.validation.canTell, false, 'one class: the rows cannot tell')
    assert.equal(c.z, 0, 'the network model is kept')
    assert.equal(c.validation.personal, c.validation.network, 'the personal figure is the network model\'s')
    assert.equal(choosePersonal(model, dataset, negatives, good, nearZero, { rule: 'min' }).z, 0, 'under rule min too')
    // the same local model on rows of both classes is judged on its merits (and loses: it ranks nothing)
    const mixed = choosePersonal(model, dataset, dataset.train, good, nearZero)
    assert.equal(mixed.validation.canTell, true, 'both classes: the rows can tell')
    assert.equal(mixed.z, 0, 'a far worse local model is not chosen')
  } finally { model.dispose() }
})

test('evaluatePersonal by AUC: a paired DeLong interval for each comparison (AUC is not a mean over rows)', () => {
  const { dataset, model, good, bad } = logisticProblem()
  try {
    const pm = { mode: 'parameters' as const, z: 1, network: bad, local: good }
    const f = evaluatePersonal(model, dataset, dataset.test, pm, { name: 'auc', higherIsBetter: true })
    assert.ok(f.vsNetwork != null && f.vsLocalOnly != null, 'both comparisons carry an interval')
    assert.ok(f.vsNetwork.mean - f.vsNetwork.halfWidth > 0, `the good model ranks significantly better than the bad one: ${JSON.stringify(f.vsNetwork)}`)
    assert.deepEqual(f.vsLocalOnly, { mean: 0, halfWidth: 0 }, 'at z 1 the personal model is the local one')
    const y = Float32Array.from(dataset.test, (r) => dataset.y[r])
    const d = pairedAucDifference(y, predictPersonal(model, dataset, dataset.test, pm), predictPersonal(model, dataset, dataset.test, { ...pm, z: 0 }))
    assert.ok(d != null && close(f.vsNetwork.mean, d.mean, 1e-12) && close(f.vsNetwork.halfWidth, d.halfWidth, 1e-12), 'DeLong\'s difference of the two models\' scores')
    assert.ok(close(f.vsNetwork.mean, (f.personal as number) - (f.network as number), 1e-9), 'the difference of the reported AUCs')
    const g = evaluatePersonal(model, dataset, dataset.test, pm, { name: 'gini', higherIsBetter: true })
    assert.ok(g.vsNetwork != null && close(g.vsNetwork.mean, 2 * f.vsNetwork.mean, 1e-12) && close(g.vsNetwork.halfWidth, 2 * f.vsNetwork.halfWidth, 1e-12), 'Gini = 2 AUC - 1: twice the AUC difference')
  } finally { model.dispose() }
})

test('choosePersonal on an MLP: a prediction blend, not one set of weights', () => {
  const { dataset } = logisticProblem()
  const model = new Model({ type: 'mlp', hidden: [4] }, dataset.info)
  try {
    assert.equal(blendModeOf(model), 'predictions', 'hidden units of two networks do not line up')
    const a = model.initialWeights('a')
    const b = model.initialWeights('b')
    const pm = { mode: 'predictions' as const, z: 0.5, network: a, local: b }
    assert.equal(personalWeights(pm), null, 'a halfway prediction blend is two models')
    const pa = model.predict(a, dataset, dataset.test)
    const pb = model.predict(b, dataset, dataset.test)
    const pp = predictPersonal(model, dataset, dataset.test, pm)
    const k = model.outputDim
    const pos = (arr: Float32Array, i: number): number => k === 2 ? arr[2 * i + 1] : arr[i]
    assert.ok(close(pp[0], 0.5 * pos(pa, 0) + 0.5 * pos(pb, 0), 1e-6), 'the mean of the two models\' probabilities')
    assert.deepEqual([...personalWeights({ ...pm, z: 1 })!], [...b], 'at z 1 the local model itself')
  } finally { model.dispose() }
})
