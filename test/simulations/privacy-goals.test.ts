// The privacy goals on fixed figures (simulations/privacy.ts privacyGoals): the cost of privacy in the goal
// metric, or in the metric `costMetric` names (issue 17 states it in accuracy points, a binary task's goal
// metric being AUC), and a named metric the run does not have said so.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { privacyGoals, type PrivacyResults } from '../../simulations/privacy.js'

const privacy = { epsilon: 7.99, delta: 1e-5, attackAuc: 0.52, attackPairs: 10, attackAucWithoutPrivacy: 0.57, metricWithoutPrivacy: 0.893, metricsWithoutPrivacy: { auc: 0.893, accuracy: 0.841, logLoss: 0.35 } } as unknown as PrivacyResults
const metric = { mean: 0.865, higherIsBetter: true, metrics: { auc: 0.865, accuracy: 0.814, logLoss: 0.39 } }

test('the cost of privacy in the goal metric, in a named one, and a named metric the run lacks', () => {
  const [inAuc] = privacyGoals({ maxCostPoints: 3 }, privacy, metric)
  assert.equal(inAuc.goal, 'cost of privacy in the metric', 'the goal metric by default')
  assert.equal(inAuc.pass, true, `0.893 - 0.865 = 2.8 points: within 3 (${inAuc.measured})`)
  const [inAccuracy] = privacyGoals({ maxCostPoints: 2.5, costMetric: 'accuracy' }, privacy, metric)
  assert.equal(inAccuracy.goal, 'cost of privacy in accuracy', 'named')
  assert.match(inAccuracy.measured, /^2\.70 points \(0\.814 vs 0\.841 without\)/, `accuracy 0.841 - 0.814 = 2.70 points (${inAccuracy.measured})`)
  assert.equal(inAccuracy.pass, false, 'beyond 2.5 points')
  const [inLoss] = privacyGoals({ maxCostPoints: 5, costMetric: 'logLoss' }, privacy, metric)
  assert.match(inLoss.measured, /^4\.00 points/, `lower is better for log loss: 0.39 - 0.35 = 4 points (${inLoss.measured})`)
  assert.equal(inLoss.pass, true, 'within 5')
  const [typo] = privacyGoals({ maxCostPoints: 3, costMetric: 'acuracy' }, privacy, metric)
  assert.equal(typo.pass, null, 'not judged')
  assert.match(typo.measured, /no metric 'acuracy'.*accuracy/, `the missing metric is named, with those the run has (${typo.measured})`)
})
