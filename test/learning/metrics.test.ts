import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  binaryAccuracy, binaryLogLoss, rocAuc, multiclassAccuracy, multiclassLogLoss, poissonUnitDeviance, poissonMetrics,
  regressionMetrics, computeMetrics, primaryMetric
} from '../../learning/metrics.js'

const close = (a: number, b: number, eps = 1e-9): void => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`)

test('binary accuracy and log loss on a fixed vector', () => {
  const y = [1, 0, 1, 0]
  const p = [0.9, 0.2, 0.4, 0.6]
  assert.equal(binaryAccuracy(y, p), 0.5)
  const expected = -(Math.log(0.9) + Math.log(0.8) + Math.log(0.4) + Math.log(0.4)) / 4
  close(binaryLogLoss(y, p), expected)
  // weights: only the first two rows count
  assert.equal(binaryAccuracy(y, p, [1, 1, 0, 0]), 1)
})

test('ROC AUC: perfect, reversed, ties and a hand-computed case', () => {
  assert.equal(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1)
  assert.equal(rocAuc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]), 0)
  assert.equal(rocAuc([0, 1], [0.5, 0.5]), 0.5)
  // pos scores 0.8, 0.4; neg 0.6, 0.2 -> pairs (0.8>0.6, 0.8>0.2, 0.4<0.6, 0.4>0.2) = 3/4
  assert.equal(rocAuc([1, 0, 1, 0], [0.8, 0.6, 0.4, 0.2]), 0.75)
  assert.ok(Number.isNaN(rocAuc([1, 1], [0.2, 0.3])), 'expected Number.isNaN(rocAuc([1, 1], [0.2, 0.3]))')
})

test('multiclass accuracy and log loss', () => {
  const probs = [0.7, 0.2, 0.1, 0.1, 0.3, 0.6, 0.3, 0.4, 0.3]
  const y = [0, 2, 0]
  close(multiclassAccuracy(y, probs, 3), 2 / 3)
  close(multiclassLogLoss(y, probs, 3), -(Math.log(0.7) + Math.log(0.6) + Math.log(0.3)) / 3)
})

test('Poisson unit deviance and deviance explained', () => {
  close(poissonUnitDeviance(0, 0.5), 1)
  close(poissonUnitDeviance(2, 2), 0)
  close(poissonUnitDeviance(1, 0.5), 2 * (0.5 - 1 - Math.log(0.5)))
  const y = [0, 1, 0, 2]
  const v = [1, 0.5, 1, 0.5]
  const mu = [0.1, 0.6, 0.2, 0.9]
  const m = poissonMetrics(y, mu, v)
  const dev = (poissonUnitDeviance(0, 0.1) + poissonUnitDeviance(1, 0.6) + poissonUnitDeviance(0, 0.2) + poissonUnitDeviance(2, 0.9))
  close(m.poissonDeviance, dev / 4)
  close(m.poissonDeviancePerExposure, dev / 3)
  const lambda = 3 / 3
  const dev0 = poissonUnitDeviance(0, lambda) + poissonUnitDeviance(1, lambda * 0.5) + poissonUnitDeviance(0, lambda) + poissonUnitDeviance(2, lambda * 0.5)
  close(m.nullDeviance, dev0 / 4)
  close(m.devianceExplained, 1 - dev / dev0)
  close(m.predictedOverObserved, 1.8 / 3)
  // the null model explains nothing
  close(poissonMetrics(y, v.map((e) => e * lambda), v).devianceExplained, 0)
})

test('regression metrics', () => {
  const r = regressionMetrics([1, 2, 3], [1, 2, 4])
  close(r.mse, 1 / 3)
  close(r.rmse, Math.sqrt(1 / 3))
  close(r.r2, 1 - 1 / 2)
})

test('computeMetrics per task and primary metrics', () => {
  assert.deepEqual(Object.keys(computeMetrics('binary', [1, 0], [0.7, 0.2])).sort(), ['accuracy', 'auc', 'examples', 'gini', 'logLoss'], 'binary metrics (gini added)')
  assert.deepEqual(Object.keys(computeMetrics('count', [1, 0], [0.7, 0.2])).sort(),
    ['devianceExplained', 'examples', 'nullDeviance', 'poissonDeviance', 'poissonDeviancePerExposure', 'predictedOverObserved'], 'count metrics')
  assert.ok('gini' in computeMetrics('count', [1, 0], [0.7, 0.2], { gini: true }), 'a count Gini on request (it sorts the rows)')
  assert.deepEqual(primaryMetric('count'), { name: 'poissonDeviance', higherIsBetter: false })
  assert.deepEqual(primaryMetric('multiclass'), { name: 'accuracy', higherIsBetter: true })
})
