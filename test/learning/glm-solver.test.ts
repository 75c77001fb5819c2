/** The exact GLM's parts: special functions, design, Cholesky, statistics guards, solver rounds and robustness. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRng } from '../../protocol/rng.js'
import type { ColumnSpecInput } from '../../learning/specs.js'
import {
  lgamma, twoSidedNormal, twoSidedT, cutLabels, glmDesign, glmFamily, computeStats, decodeStats, GlmStats, GlmSolver,
  fitGlm, fitPooled, simulateDecentralized, summarizeGlm, formatGlmSummary, cholesky, choleskySolve, choleskyInverse,
  statsLength, type GlmRows
} from '../../learning/glm/index.js'

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300)

test('special functions match R (values from R 4.2.2, printed with digits = 17)', () => {
  const cases: Array<[number, number, string]> = [
    [lgamma(0.5), 5.7236494292470008e-01, 'lgamma(0.5)'], [lgamma(3.7), 1.4280723266653881, 'lgamma(3.7)'],
    [lgamma(150.2), 6.0101106392589224e+02, 'lgamma(150.2)'], [lgamma(1e-5), 1.1512919692895826e+01, 'lgamma(1e-5)'],
    [twoSidedNormal(1.96), 4.9995790296440856e-02, '2*pnorm(-1.96)'], [twoSidedNormal(7.5), 6.3817833458217927e-14, '2*pnorm(-7.5)'],
    [twoSidedT(2, 10), 7.3388034770740393e-02, '2*pt(-2, 10)'], [twoSidedT(-0.3, 3), 7.8376329203991901e-01, '2*pt(-0.3, 3)'],
    [twoSidedT(12, 40), 7.8241713042559961e-15, '2*pt(-12, 40)']
  ]
  for (const [mine, r, what] of cases) assert.ok(rel(mine, r) <= 1e-12, `${what}: ${mine} vs R ${r}`)
})

test('cut labels are R\'s levels(cut(x, c(-Inf, 4, 5, 6, 7, 8, Inf)))', () => {
  assert.deepEqual(cutLabels([4, 5, 6, 7, 8]), ['(-Inf,4]', '(4,5]', '(5,6]', '(6,7]', '(7,8]', '(8, Inf]'], 'labels as R prints them')
  assert.deepEqual(cutLabels([0.5, 1000]), ['(-Inf,0.5]', '(0.5,1e+03]', '(1e+03, Inf]'], '%.3g formatting')
})

const columns: ColumnSpecInput[] = [
  { name: 'y', role: 'label', kind: 'count' },
  { name: 'e', role: 'exposure' },
  { name: 'age', role: 'numeric', mean: 40, std: 10 },
  { name: 'age', role: 'categorical', bins: [30, 50] },
  { name: 'brand', role: 'categorical', categories: ['B1', 'B2', 'B3'] },
  { name: 'region', role: 'partition' }
]
const featureNames = ['age', 'age<=30', 'age<=50', 'age<=Infinity', 'brand=B1', 'brand=B2', 'brand=B3', 'brand=other']
const schema = { spec: { columns: columns as never }, featureNames }

test('design: treatment contrasts with the first level dropped, R names, other buckets kept', () => {
  const d = glmDesign(schema)
  assert.deepEqual(d.names, ['(Intercept)', 'age', 'ageClass(30,50]', 'ageClass(50, Inf]', 'brandB2', 'brandB3', 'brand(other)'], 'R-style names')
  assert.deepEqual(Array.from(d.source), [-1, 0, 2, 3, 5, 6, 7], 'encoded feature per column')
  assert.deepEqual(d.references.map((r) => `${r.term}=${r.level}`), ['ageClass=(-Inf,30]', 'brand=B1'], 'reference levels')
  const noIntercept = glmDesign(schema, { intercept: false })
  assert.equal(noIntercept.names[1], 'ageClass(-Inf,30]', 'without an intercept the first factor keeps all levels, as R')
  assert.equal(noIntercept.names.includes('brandB1'), false, 'later factors still drop their reference')
})

test('design: refuses text columns and an encoding that does not match the spec', () => {
  assert.throws(() => glmDesign({ spec: { columns: [...columns, { name: 't', role: 'text', buckets: 4 }] as never }, featureNames }),
    (e: Error) => e.name === 'GlmDesignError' && /text column/.test(e.message), 'text refused')
  const swapped = [...featureNames]; swapped[5] = 'brand=B9'
  assert.throws(() => glmDesign({ spec: schema.spec, featureNames: swapped }),
    (e: Error) => e.name === 'GlmDesignError' && /expected feature 'brand=B2' at position 5/.test(e.message), 'mismatch named')
  assert.throws(() => glmDesign({ spec: schema.spec, featureNames: [...featureNames, 'extra'] }),
    (e: Error) => e.name === 'GlmDesignError' && /first unmapped: 'extra'/.test(e.message), 'extra features named')
})

test('Cholesky: solves, inverts, and aliases a dependent column in order', () => {
  // columns 0, 1 and 2 = 0 + 1 (dependent): the third is aliased, as R's QR would
  const X = [[1, 2, 3], [1, -1, 0], [1, 0.5, 1.5], [1, 3, 4]]
  const a = new Float64Array(9)
  for (const r of X) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) a[i * 3 + j] += r[i] * r[j]
  const c = cholesky(a, 3)
  assert.deepEqual(Array.from(c.aliased), [0, 0, 1], 'the dependent column is aliased')
  assert.equal(c.rank, 2, 'rank 2')
  const x = choleskySolve(c, [1, 2, 99])
  const det = a[0] * a[4] - a[1] * a[3]
  assert.ok(rel(x[0], (a[4] * 1 - a[1] * 2) / det) <= 1e-12 && rel(x[1], (a[0] * 2 - a[3] * 1) / det) <= 1e-12 && x[2] === 0, 'solve on the kept block')
  const inv = choleskyInverse(c)
  assert.ok(rel(inv[0], a[4] / det) <= 1e-12 && Number.isNaN(inv[8]), 'inverse on the kept block, NaN for the aliased one')
})

/** Poisson frequency data with exposure, from a seeded stream: age (numeric and classes), brand, a region per row. */
function synthetic (n: number, seed: number): { rows: GlmRows, region: Int32Array } {
  const rng = createRng(seed)
  const d = featureNames.length
  const x = new Float64Array(n * d)
  const y = new Float64Array(n)
  const offset = new Float64Array(n)
  const region = new Int32Array(n)
  for (let r = 0; r < n; r++) {
    const age = 18 + rng.next() * 60
    const brand = rng.int(3)
    x[r * d] = (age - 40) / 10
    x[r * d + 1 + (age <= 30 ? 0 : age <= 50 ? 1 : 2)] = 1
    x[r * d + 4 + brand] = 1
    const e = 0.1 + 0.9 * rng.next()
    offset[r] = Math.log(e)
    const mu = e * Math.exp(-2 + 0.2 * x[r * d] + (brand === 2 ? 0.4 : 0) + (age <= 30 ? 0.5 : 0))
    let k = 0; let p = Math.exp(-mu); let s = p; const u = rng.next()
    while (u > s && k < 50) { k++; p *= mu / k; s += p }
    y[r] = k
    region[r] = rng.int(7)
  }
  return { rows: { x, numFeatures: d, y, offset }, region }
}

test('statistics are additive: peers\' statistics sum to the pooled ones', () => {
  const { rows, region } = synthetic(3000, 11)
  const design = glmDesign(schema)
  const family = glmFamily('poisson')
  const beta = Float64Array.from({ length: design.p }, (_, j) => 0.1 * j - 0.3)
  const pooled = computeStats(design, family, rows, beta, -2)
  const total = GlmStats.empty(family, design.p)
  for (let k = 0; k < 7; k++) total.add(computeStats(design, family, { ...rows, rows: Uint32Array.from(region.keys()).filter((r) => region[r] === k) }, beta, -2))
  for (let i = 4; i < pooled.data.length; i++) assert.ok(Math.abs(total.data[i] - pooled.data[i]) <= 1e-9 * (1 + Math.abs(pooled.data[i])), `slot ${i}: ${total.data[i]} vs ${pooled.data[i]}`)
})

test('decentralized rounds over 7 peers reach the pooled fit in the same rounds', () => {
  const { rows, region } = synthetic(3000, 12)
  const design = glmDesign(schema)
  const family = glmFamily('poisson')
  const pooled = fitPooled(design, family, rows)
  const peers = Array.from({ length: 7 }, (_, k) => ({ ...rows, rows: Uint32Array.from(region.keys()).filter((r) => region[r] === k) }))
  const run = simulateDecentralized(design, family, peers)
  assert.ok(run.fit.converged && pooled.converged, 'both converged')
  assert.ok(run.fit.rounds <= 10, `${run.fit.rounds} rounds`)
  assert.equal(run.fit.rounds, pooled.rounds, 'same rounds as pooled')
  for (let j = 0; j < design.p; j++) {
    if (pooled.aliased[j] === 1) { assert.equal(run.fit.aliased[j], 1, `${design.names[j]} aliased in both`); continue }
    assert.ok(Math.abs(run.fit.coefficients[j] - pooled.coefficients[j]) <= 1e-10, `${design.names[j]}: ${run.fit.coefficients[j]} vs ${pooled.coefficients[j]}`)
  }
  assert.equal(pooled.aliased[design.names.indexOf('brand(other)')], 1, 'the empty other bucket is aliased')
  const s = summarizeGlm(run.fit, design.references)
  assert.ok(Math.abs(s.ratio - 1) <= 1e-9, `predicted/observed ${s.ratio}`)
  assert.equal(run.trace.length, run.fit.rounds, 'one trace entry per round')
  assert.equal(run.bytesPerPeerRound, statsLength(design.p) * 8, 'a peer sends one statistics vector per round')
})

test('received statistics are validated: length, version, family, width, finite values, non-negative diagonal', () => {
  const { rows } = synthetic(200, 13)
  const design = glmDesign(schema)
  const family = glmFamily('poisson')
  const good = computeStats(design, family, rows, new Float64Array(design.p), 0).data
  const expected = { family, p: design.p }
  assert.equal(decodeStats(good.slice(), expected).n, 200, 'a valid vector decodes')
  const bad = (edit: (d: Float64Array) => Float64Array, field: string): void => {
    assert.throws(() => decodeStats(edit(good.slice()), expected), (e: Error & { field?: string }) => e.name === 'GlmStatsError' && e.field === field, `field ${field}`)
  }
  bad((d) => d.subarray(0, d.length - 1), 'length')
  bad((d) => { d[0] = 2; return d }, 'version')
  bad((d) => { d[1] = 3; return d }, 'family')
  bad((d) => { d[3] = design.p + 1; return d }, 'p')
  bad((d) => { d[8] = NaN; return d }, 'deviance')
  bad((d) => { d[20] = Infinity; return d }, 'score[5]')
  bad((d) => { d[4] = -1; return d }, 'n')
  bad((d) => { d[15 + design.p] = -1; return d }, 'info[0,0]')
  assert.throws(() => decodeStats(good, { family: glmFamily('tweedie', { power: 1.5 }), p: design.p }), (e: Error) => e.name === 'GlmStatsError', 'family mismatch')
})

test('a step into a non-finite deviance is halved and the fit still reaches the MLE', () => {
  const { rows } = synthetic(2000, 14)
  const design = glmDesign(schema)
  const family = glmFamily('poisson')
  const pooled = fitPooled(design, family, rows)
  let round = 0
  const fit = fitGlm(design, family, (beta, b0) => {
    const s = computeStats(design, family, rows, beta, b0)
    if (++round === 3) s.data[8] = Infinity // as if the step overflowed exp(eta)
    return s
  })
  assert.ok(fit.converged, 'converged after the halving')
  assert.ok(fit.rounds > pooled.rounds, `the halving costs rounds (${fit.rounds} vs ${pooled.rounds})`)
  for (let j = 0; j < design.p; j++) if (pooled.aliased[j] === 0) assert.ok(Math.abs(fit.coefficients[j] - pooled.coefficients[j]) <= 1e-8, `${design.names[j]}`)
})

test('ridge shrinks the non-intercept coefficients and is stated; maxIterations stops unconverged', () => {
  const { rows } = synthetic(2000, 15)
  const design = glmDesign(schema)
  const family = glmFamily('poisson')
  const mle = fitPooled(design, family, rows)
  const ridged = fitPooled(design, family, rows, { ridge: 50 })
  const norm = (b: Float64Array): number => b.slice(1).reduce((s, v) => Number.isNaN(v) ? s : s + v * v, 0)
  assert.ok(norm(ridged.coefficients) < norm(mle.coefficients), 'ridge shrinks')
  assert.ok(formatGlmSummary(summarizeGlm(ridged)).includes('Ridge penalty 50'), 'the ridge is stated in the output')
  assert.ok(!formatGlmSummary(summarizeGlm(mle)).includes('Ridge'), 'no ridge line for the MLE')
  const cut = fitPooled(design, family, rows, { maxIterations: 1 })
  assert.ok(!cut.converged && cut.iterations === 1, 'stopped after one step, not converged')
  assert.ok(formatGlmSummary(summarizeGlm(cut)).includes('NOT converged'), 'the table says so')
})

test('bad responses and degenerate data are refused with the row or the reason', () => {
  const design = glmDesign(schema)
  const { rows } = synthetic(50, 16)
  const y = Float64Array.from(rows.y); y[7] = -1
  assert.throws(() => fitPooled(design, glmFamily('poisson'), { ...rows, y }), (e: Error) => e.name === 'GlmFitError' && /row 7/.test(e.message), 'negative count named')
  assert.throws(() => fitPooled(design, glmFamily('poisson'), { ...rows, y: new Float64Array(50) }), (e: Error) => e.name === 'GlmFitError' && /positive responses/.test(e.message), 'all zero')
  assert.throws(() => glmFamily('tweedie', { power: 2 }), (e: Error) => e.name === 'GlmFitError', 'tweedie power outside (1, 2)')
  const solver = new GlmSolver(design, glmFamily('poisson'))
  assert.throws(() => solver.update(GlmStats.empty(glmFamily('poisson'), design.p)), (e: Error) => e.name === 'GlmFitError' && /no rows/.test(e.message), 'no rows')
})
