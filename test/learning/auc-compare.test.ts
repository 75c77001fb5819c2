import { test } from 'node:test'
import assert from 'node:assert/strict'
import { aucPlacements, pairedAucDifference } from '../../learning/auc-compare.js'
import { rocAuc } from '../../learning/metrics.js'
import { createRng } from '../../protocol/rng.js'

const close = (a: number, b: number, eps = 1e-12): boolean => Math.abs(a - b) <= eps

/** Placement values by their definition, O(m n): the reference for the midrank computation. */
function bruteForce (y: number[], s: number[]): { v10: number[], v01: number[] } {
  const pos = y.flatMap((v, i) => v >= 0.5 ? [i] : [])
  const neg = y.flatMap((v, i) => v >= 0.5 ? [] : [i])
  const psi = (p: number, q: number): number => s[p] > s[q] ? 1 : s[p] === s[q] ? 0.5 : 0
  return {
    v10: pos.map((p) => neg.reduce((a, q) => a + psi(p, q), 0) / neg.length),
    v01: neg.map((q) => pos.reduce((a, p) => a + psi(p, q), 0) / pos.length)
  }
}

test('DeLong on a hand-worked example: placements, AUC difference and its standard error', () => {
  // positives 0 and 1, negatives 2 to 4.
  // a: V10 = [1, 2/3], V01 = [1/2, 1, 1], AUC 5/6; b ranks perfectly: V10 = [1, 1], V01 = [1, 1, 1], AUC 1.
  // differences: V10 [0, -1/3] (variance 1/18), V01 [-1/2, 0, 0] (variance 1/12);
  // Var(AUC_a - AUC_b) = (1/18) / 2 + (1/12) / 3 = 1/18.
  const y = [1, 1, 0, 0, 0]
  const a = [0.9, 0.4, 0.5, 0.2, 0.1]
  const b = [0.8, 0.7, 0.3, 0.6, 0.1]
  const pa = aucPlacements(y, a)
  assert.ok(pa != null, 'two classes: placements exist')
  assert.deepEqual([...pa.v10].map((v) => Math.round(v * 1e9) / 1e9), [1, 0.666666667], 'positives: share of negatives outscored')
  assert.deepEqual([...pa.v01], [0.5, 1, 1], 'negatives: share of positives above them')
  assert.ok(close(pa.auc, 5 / 6), `AUC 5/6, got ${pa.auc}`)
  const d = pairedAucDifference(y, a, b)
  assert.ok(d != null, 'a comparison')
  assert.ok(close(d.mean, -1 / 6), `a is 1/6 behind b, got ${d.mean}`)
  assert.ok(close(d.halfWidth, 1.96 * Math.sqrt(1 / 18)), `half-width 1.96 sqrt(1/18) = 0.46198, got ${d.halfWidth}`)
  assert.equal(d.bounded, false, 'both classes have two or more rows')
})

test('DeLong placements match their definition with ties, and average to the Mann-Whitney AUC', () => {
  const rng = createRng('delong')
  for (let t = 0; t < 5; t++) {
    const n = 30 + t * 17
    const y = Array.from({ length: n }, () => rng.next() < 0.35 ? 1 : 0)
    // scores on a coarse grid: many ties
    const s = Array.from({ length: n }, (_, i) => Math.round((rng.next() + 0.6 * y[i]) * 8) / 8)
    const p = aucPlacements(y, s)
    const ref = bruteForce(y, s)
    assert.ok(p != null, `trial ${t}: two classes`)
    assert.ok(ref.v10.every((v, i) => close(v, p.v10[i], 1e-12)), `trial ${t}: V10 as defined`)
    assert.ok(ref.v01.every((v, i) => close(v, p.v01[i], 1e-12)), `trial ${t}: V01 as defined`)
    assert.ok(close(p.auc, rocAuc(y, s), 1e-12), `trial ${t}: AUC ${p.auc} vs ${rocAuc(y, s)}`)
    const meanV01 = ref.v01.reduce((x, v) => x + v, 0) / ref.v01.length
    assert.ok(close(meanV01, p.auc, 1e-12), `trial ${t}: V01 averages to the AUC too`)
  }
  const same = pairedAucDifference([1, 0, 1, 0], [0.9, 0.1, 0.8, 0.3], [0.9, 0.1, 0.8, 0.3])
  assert.ok(same != null && same.mean === 0 && same.halfWidth === 0, 'a model against itself: difference 0, no spread')
})

test('DeLong: one class gives no comparison; a single row of a class gives the bounded, wide interval', () => {
  assert.equal(pairedAucDifference([0, 0, 0], [0.1, 0.2, 0.3], [0.3, 0.2, 0.1]), null, 'no positives: no AUC')
  // one positive: its variance term cannot be estimated; the bound (1 / m = 1) makes the half-width >= 1.96
  const d = pairedAucDifference([1, 0, 0, 0], [0.9, 0.1, 0.2, 0.3], [0.15, 0.1, 0.2, 0.3])
  assert.ok(d != null, 'two classes')
  assert.ok(close(d.mean, 1 - 1 / 3), `a ranks its positive above all three negatives, b above one of them: ${d.mean}`)
  assert.equal(d.bounded, true, 'says the bound was used')
  assert.ok(d.halfWidth >= 1.96, `an interval as wide as any AUC difference: ${d.halfWidth}`)
  assert.throws(() => pairedAucDifference([1, 0], [0.5], [0.5, 0.4]), RangeError, 'lengths must match')
})
