/**
 * The exact GLM against R's glm on datasets R ships (test/fixtures/glm-r-reference.json, made by
 * scripts/r/glm-reference.R; the fixture records each R call and R's version). R is not needed here.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ColumnSpecInput } from '../../learning/specs.js'
import { loadDatasetFromSpec } from '../../learning/dataset.js'
import {
  glmDesign, glmFamily, glmRows, fitPooled, summarizeGlm, formatGlmSummary, twoSidedNormal, twoSidedT, type GlmSummary
} from '../../learning/glm/index.js'

import { encodeCase as encode, fixture, type Case } from './glm-fixture.js'

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300)


/** Compares a summary with R's, coefficient by coefficient name. */
function compare (c: Case, s: GlmSummary): void {
  const byName = new Map(s.coefficients.map((row) => [row.name, row]))
  c.names.forEach((name, k) => {
    const mine = byName.get(name)
    assert.ok(mine != null, `${c.name}: R's coefficient '${name}' is not in the design (${[...byName.keys()].join(', ')})`)
    const est = c.estimate[k]
    if (est == null) {
      assert.ok(mine.aliased, `${c.name}: ${name} is NA in R (aliased), here ${mine.estimate}`)
      return
    }
    assert.ok(!mine.aliased, `${c.name}: ${name} is aliased here but defined in R`)
    assert.ok(rel(mine.estimate, est) <= 1e-6, `${c.name}: ${name} estimate ${mine.estimate} vs R ${est}`)
    assert.ok(rel(mine.stdError, c.stdError[k]!) <= 1e-5, `${c.name}: ${name} std. error ${mine.stdError} vs R ${c.stdError[k]}`)
    assert.ok(rel(mine.statistic, c.statistic[k]!) <= 1e-5, `${c.name}: ${name} ${s.statisticName} value ${mine.statistic} vs R ${c.statistic[k]}`)
    // the tails themselves, on R's own statistic; then ours, whose log moves by about z^2 times the statistic's error
    const rp = c.pValue[k]!
    const tail = s.dispersionEstimated ? twoSidedT(c.statistic[k]!, c.dfResidual) : twoSidedNormal(c.statistic[k]!)
    const z2 = c.statistic[k]! ** 2
    if (rp === 0) {
      assert.ok(tail === 0 && mine.pValue < 1e-290, `${c.name}: ${name} p-value underflows in R, here ${mine.pValue}`)
    } else {
      assert.ok(rel(tail, rp) <= 1e-9, `${c.name}: ${name} p-value of R's statistic ${tail} vs R ${rp}`)
      assert.ok(Math.abs(Math.log(mine.pValue) - Math.log(rp)) <= 1e-5 * (1 + z2), `${c.name}: ${name} p-value ${mine.pValue} vs R ${rp}`)
    }
    assert.ok(rel(mine.relativity, Math.exp(est)) <= 1e-6, `${c.name}: ${name} relativity`)
  })
  // the encoding's empty 'other' buckets are aliased, as R aliases an empty factor level
  for (const row of s.coefficients) if (!c.names.includes(row.name)) assert.ok(row.aliased && row.name.endsWith('(other)'), `${c.name}: extra column ${row.name} should be an aliased (other) bucket`)
  assert.ok(rel(s.deviance, c.deviance) <= 1e-8, `${c.name}: deviance ${s.deviance} vs R ${c.deviance}`)
  assert.ok(rel(s.nullDeviance, c.nullDeviance) <= 1e-8, `${c.name}: null deviance ${s.nullDeviance} vs R ${c.nullDeviance}`)
  assert.equal(s.dfResidual, c.dfResidual, `${c.name}: residual df`)
  assert.equal(s.dfNull, c.dfNull, `${c.name}: null df`)
  if (c.aic == null) assert.ok(Number.isNaN(s.aic), `${c.name}: R gives no AIC, here ${s.aic}`)
  else assert.ok(rel(s.aic, c.aic) <= 1e-8, `${c.name}: AIC ${s.aic} vs R ${c.aic}`)
  assert.ok(rel(s.dispersion, c.dispersion) <= 1e-6, `${c.name}: dispersion ${s.dispersion} vs R ${c.dispersion}`)
  // canonical links (poisson log, binomial logit) balance the totals at the MLE with an intercept; gamma and tweedie log do not
  if (c.family === 'poisson' || c.family === 'binomial') assert.ok(Math.abs(s.ratio - 1) <= 1e-9, `${c.name}: predicted/observed ${s.ratio} at the MLE with an intercept`)
  assert.ok(s.converged, `${c.name}: converged`)
  assert.ok(s.iterations <= 25, `${c.name}: ${s.iterations} iterations (R with its own start: ${c.iterDefaultControl})`)
}

test('the fixture records R and its calls', () => {
  assert.match(fixture.rVersion, /^R version \d/, 'R version recorded')
  assert.ok(fixture.cases.length >= 6, 'poisson, poisson with offset, binomial (trials and 0/1), aliased, gamma, tweedie')
  for (const c of fixture.cases) assert.match(c.call, /^glm\(/, `${c.name}: R call recorded`)
})

for (const c of fixture.cases) {
  test(`matches R's glm: ${c.name}`, () => {
    const { columns, featureNames, rows } = encode(c)
    const design = glmDesign({ spec: { columns: columns as never }, featureNames })
    const fit = fitPooled(design, glmFamily(c.family, { power: c.power ?? undefined }), rows)
    const s = summarizeGlm(fit, design.references)
    compare(c, s)
    const text = formatGlmSummary(s)
    assert.ok(text.includes(c.names[1]) && text.includes('Residual deviance'), `${c.name}: the printed table names the coefficients`)
  })
}

test('through the dataset loader: the project encoding gives R\'s fit (warpbreaks, Insurance with exposure)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-glm-'))
  try {
    for (const name of ['warpbreaks-poisson', 'insurance-poisson-offset']) {
      const c = fixture.cases.find((k) => k.name === name)!
      const header = [c.response, ...(c.exposure != null ? [c.exposure] : []), ...c.terms.map((t) => t.name)]
      const n = c.data[c.response].length
      const lines = [header.join(',')]
      for (let r = 0; r < n; r++) lines.push(header.map((h) => String(c.data[h][r])).join(','))
      writeFileSync(join(dir, `${name}.csv`), lines.join('\n') + '\n')
      const columns: ColumnSpecInput[] = [
        { name: c.response, role: 'label', kind: 'count' },
        ...(c.exposure != null ? [{ name: c.exposure, role: 'exposure' as const }] : []),
        ...c.terms.map((t) => ({ name: t.name, role: 'categorical' as const, categories: t.levels }))
      ]
      const data = await loadDatasetFromSpec({ name, file: `${name}.csv`, testFraction: 0, columns }, { dataDir: dir })
      const design = glmDesign(data)
      const fit = fitPooled(design, glmFamily('poisson'), glmRows(data, data.train))
      compare(c, summarizeGlm(fit, design.references))
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
