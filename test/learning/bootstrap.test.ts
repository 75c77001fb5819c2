import { test } from 'node:test'
import assert from 'node:assert/strict'
import { computeMetrics, goalMetric, poissonGini, rocAuc, UnknownMetricError, type Task } from '../../learning/metrics.js'
import { drawResamples, metricsAt, percentileInterval, resampledMetrics, rowTerms } from '../../learning/bootstrap.js'

const close = (a: number, b: number, eps: number, what: string): void => assert.ok(Math.abs(a - b) <= eps, `${what}: ${a} != ${b}`)

const cases: Array<{ task: Task, y: number[], pred: number[], exposure?: number[], numClasses?: number }> = [
  { task: 'binary', y: [1, 0, 1, 0, 0, 1, 0], pred: [0.9, 0.2, 0.4, 0.6, 0.1, 0.7, 0.4] },
  { task: 'multiclass', y: [0, 2, 0, 1], pred: [0.7, 0.2, 0.1, 0.1, 0.3, 0.6, 0.3, 0.4, 0.3, 0.2, 0.5, 0.3], numClasses: 3 },
  { task: 'count', y: [0, 1, 0, 2, 0, 0, 1], pred: [0.1, 0.4, 0.05, 0.9, 0.2, 0.1, 0.3], exposure: [1, 0.5, 1, 1, 0.25, 1, 0.8] },
  { task: 'regression', y: [1, 2, 3], pred: [1.5, 2, 2] }
]

test('per-row terms give exactly computeMetrics, each row once and under integer counts (= duplicated rows)', () => {
  for (const c of cases) {
    const opts = { exposure: c.exposure ?? null, numClasses: c.numClasses, gini: true }
    const direct = computeMetrics(c.task, c.y, c.pred, opts)
    const terms = rowTerms(c.task, c.y, c.pred, opts)
    const once = metricsAt(terms, null)
    for (const [k, v] of Object.entries(once)) close(v, direct[k], 1e-9, `${c.task} ${k}`)
    assert.ok(Object.keys(direct).filter((k) => k !== 'examples' && k !== 'nullDeviance' && k !== 'poissonDeviancePerExposure' && k !== 'rmse' && k !== 'r2').every((k) => k in once), `${c.task}: every metric has its bootstrap form`)
    // counts 0/1/2/3: the same as computeMetrics on rows repeated that often
    const n = c.y.length
    const counts = Uint8Array.from({ length: n }, (_, i) => i % 4)
    const k = c.numClasses ?? 1
    const rows = Array.from({ length: n }, (_, i) => i).flatMap((i) => Array(counts[i]).fill(i) as number[])
    const dup = computeMetrics(c.task, rows.map((i) => c.y[i]), rows.flatMap((i) => c.pred.slice(i * k, i * k + k)), { ...opts, exposure: c.exposure != null ? rows.map((i) => c.exposure![i]) : null })
    const weighted = metricsAt(terms, counts)
    for (const [key, v] of Object.entries(weighted)) close(v, dup[key], 1e-9, `${c.task} ${key} under counts`)
  }
})

test('Poisson Gini on a hand-computed case; AUC with ties under weights', () => {
  // ranked by predicted frequency: claims 2, 1, 0 over equal exposures -> area 13/18, Gini 8/18
  close(poissonGini([0, 1, 2], [0.1, 0.5, 1]), 8 / 18, 1e-12, 'gini')
  close(poissonGini([0, 1, 2], [1, 0.5, 0.1]), -8 / 18, 1e-12, 'reversed gini')
  close(poissonGini([0, 1, 2], [0.3, 0.3, 0.3]), 0, 1e-12, 'one frequency for all')
  // the same expected count on half the exposure is twice the frequency: ranks first
  close(poissonGini([1, 0], [0.2, 0.2], [0.5, 1]), 2 * ((1 / 3) * 0.5 + (2 / 3) * 1) - 1, 1e-12, 'gini ranks by frequency, weighs by exposure')
  assert.equal(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]), (1 + 0.5 + 1 + 1) / 4, 'ties count half')
  const m = computeMetrics('binary', [0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])
  close(m.gini, 2 * m.auc - 1, 1e-12, 'binary gini is 2 AUC - 1')
})

test('resamples are deterministic from the seed, draw n rows each, and differ between seeds', () => {
  const a = drawResamples(500, 20, 'seed-1')
  const b = drawResamples(500, 20, 'seed-1')
  const c = drawResamples(500, 20, 'seed-2')
  assert.deepEqual(a.counts, b.counts, 'same seed, same resamples')
  assert.notDeepEqual(a.counts, c.counts, 'another seed, other resamples')
  assert.ok(a.counts.every((x) => x.reduce((s, v) => s + v, 0) === 500), 'each resample draws n rows')
})

test('bootstrap interval: contains the point, shrinks with more rows, and is the same for the same seed', () => {
  const make = (n: number): { y: number[], p: number[] } => {
    const y: number[] = []; const p: number[] = []
    for (let i = 0; i < n; i++) { const s = ((i * 7919) % 1000) / 1000; p.push(s); y.push(((i * 104729) % 1000) / 1000 < s ? 1 : 0) }
    return { y, p }
  }
  const small = make(200); const large = make(5000)
  const width = (d: { y: number[], p: number[] }): { iv: [number, number], point: number } => {
    const t = rowTerms('binary', d.y, d.p)
    const r = resampledMetrics(t, drawResamples(d.y.length, 200, 4))
    return { iv: percentileInterval(r.auc) as [number, number], point: metricsAt(t, null).auc }
  }
  const s = width(small); const l = width(large)
  assert.ok(s.iv[0] <= s.point && s.point <= s.iv[1], `point ${s.point} inside [${s.iv.join(', ')}]`)
  assert.ok(l.iv[1] - l.iv[0] < (s.iv[1] - s.iv[0]) / 2, `25x the rows, under half the width: ${l.iv[1] - l.iv[0]} vs ${s.iv[1] - s.iv[0]}`)
  assert.deepEqual(width(small).iv, s.iv, 'seeded: the same interval again')
  assert.deepEqual(percentileInterval([5, 1, 3, 2, 4, NaN], 0.5), [2, 4], 'central half of 1..5')
  assert.equal(percentileInterval([NaN]), null, 'no finite values, no interval')
})

test('goal metrics: a task accepts its own and refuses others by name', () => {
  assert.deepEqual(goalMetric('binary', 'auc'), { name: 'auc', higherIsBetter: true }, 'auc: higher is better')
  assert.deepEqual(goalMetric('count', 'devianceExplained'), { name: 'devianceExplained', higherIsBetter: true }, 'deviance explained: higher is better')
  assert.deepEqual(goalMetric('binary', 'logLoss'), { name: 'logLoss', higherIsBetter: false }, 'log loss: lower is better')
  assert.deepEqual(goalMetric('count'), { name: 'poissonDeviance', higherIsBetter: false }, 'default: the primary metric')
  assert.throws(() => goalMetric('multiclass', 'auc'), (e: Error) => e instanceof UnknownMetricError && e.name === 'UnknownMetricError' && /accuracy, logLoss/.test(e.message), 'multiclass has no auc')
  assert.throws(() => goalMetric('count', 'accuracy'), (e: Error) => e.name === 'UnknownMetricError', 'a count task has no accuracy')
})
