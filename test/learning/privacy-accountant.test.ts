import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import {
  RdpAccountant, computeRdp, epsilonFromRdp, epsilonOf, noiseForTarget, logErfc,
  OPACUS_ORDERS, TF_PRIVACY_ORDERS, type Conversion
} from '../../learning/privacy/index.js'

interface Case {
  name: string, kind: string, q?: number, noiseMultiplier?: number, steps?: number, delta?: number, epsilon?: number
  orders: string | number[], conversion?: Conversion, absTol?: number, rdpConstant?: number
  runs?: Array<{ q: number, noiseMultiplier: number, steps: number }>
  expected: { epsilon?: number, order?: number, noiseMultiplier?: number, rdp?: number[] }
  source: { repo: string, path: string, test: string }
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/dp-accountant-reference.json', import.meta.url), 'utf8')) as { relTol: number, cases: Case[] }
const relTol = fixture.relTol

function ordersOf (c: Case): readonly number[] {
  if (Array.isArray(c.orders)) return c.orders
  if (c.orders === 'opacus') return OPACUS_ORDERS
  if (c.orders === 'tf-privacy') return TF_PRIVACY_ORDERS
  const m = /^(\d+)\.\.(\d+)$/.exec(c.orders)
  assert.ok(m != null, `${c.name}: unknown orders '${c.orders}'`)
  const lo = Number(m[1]); const hi = Number(m[2])
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i)
}

function close (got: number, want: number, what: string, absTol = 0): void {
  const err = Math.abs(got - want)
  assert.ok(err <= Math.max(absTol, relTol * Math.abs(want)), `${what}: got ${got}, expected ${want} (within ${relTol * 100}%)`)
}

test('the fixture has sources and covers both conversions and all kinds', () => {
  assert.ok(fixture.cases.length >= 8, 'at least 8 reference cases')
  for (const c of fixture.cases) assert.ok(c.source.repo !== '' && c.source.path !== '' && c.source.test !== '', `${c.name}: names its source`)
  const kinds = new Set(fixture.cases.map((c) => c.kind))
  for (const k of ['epsilon', 'noise', 'rdp', 'composition', 'conversion']) assert.ok(kinds.has(k), `a '${k}' case`)
  const conv = new Set(fixture.cases.map((c) => c.conversion).filter((x) => x != null))
  assert.ok(conv.has('balle2020') && conv.has('mironov2017'), 'both conversions are checked against their own source')
})

for (const c of fixture.cases) {
  test(`reference: ${c.name} (${c.source.repo} ${c.source.path})`, () => {
    const orders = ordersOf(c)
    if (c.kind === 'epsilon') {
      const r = epsilonOf(c.q!, c.noiseMultiplier!, c.steps!, c.delta!, { orders, conversion: c.conversion })
      close(r.epsilon, c.expected.epsilon!, 'epsilon')
      if (c.expected.order != null) assert.equal(r.order, c.expected.order, 'optimal order')
    } else if (c.kind === 'noise') {
      const sigma = noiseForTarget(c.epsilon!, c.delta!, c.q!, c.steps!, { orders, conversion: c.conversion })
      close(sigma, c.expected.noiseMultiplier!, 'noise multiplier')
      const spent = epsilonOf(c.q!, sigma, c.steps!, c.delta!, { orders }).epsilon
      assert.ok(spent <= c.epsilon! && spent >= c.epsilon! - 0.01, `the noise found spends ${spent}, within 0.01 below ${c.epsilon}`)
    } else if (c.kind === 'rdp') {
      const r = computeRdp(c.q!, c.noiseMultiplier!, c.steps!, orders)
      c.expected.rdp!.forEach((want, i) => close(r[i], want, `rdp at order ${orders[i]}`, c.absTol ?? 0))
    } else if (c.kind === 'composition') {
      const acc = new RdpAccountant({ orders })
      for (const run of c.runs!) acc.step(run.q, run.noiseMultiplier, run.steps)
      const r = acc.spent(c.delta!, c.conversion)
      close(r.epsilon, c.expected.epsilon!, 'epsilon')
      assert.equal(r.order, c.expected.order, 'optimal order')
      assert.ok(acc.spent(c.delta!, 'balle2020').epsilon <= r.epsilon, 'the improved conversion is never looser')
    } else if (c.kind === 'conversion') {
      const r = epsilonFromRdp(orders, orders.map(() => c.rdpConstant!), c.delta!, c.conversion)
      close(r.epsilon, c.expected.epsilon!, 'epsilon')
      assert.equal(r.order, c.expected.order, 'optimal order')
    } else {
      assert.fail(`${c.name}: unknown kind '${c.kind}'`)
    }
  })
}

test('Opacus default orders are 1.1..10.9 then 12..63', () => {
  assert.equal(OPACUS_ORDERS.length, 151, '99 fractional + 52 integer orders')
  assert.equal(OPACUS_ORDERS[0], 1.1, 'first order')
  assert.equal(OPACUS_ORDERS[150], 63, 'last order')
  assert.equal(TF_PRIVACY_ORDERS[TF_PRIVACY_ORDERS.length - 1], 512, 'TF Privacy goes to 512')
})

test('logErfc matches known values far into the tail', () => {
  close(logErfc(0), 0, 'log erfc(0)', 1e-15)
  close(logErfc(1), Math.log(0.15729920705028513), 'log erfc(1)')
  close(logErfc(3), Math.log(2.209049699858544e-5), 'log erfc(3)')
  // erfc(30) ~ exp(-900) / (30 sqrt(pi)) (1 - 1/1800 ...): far below double range, fine in log space
  close(logErfc(30), -900 - Math.log(30 * Math.sqrt(Math.PI)) + Math.log1p(-1 / 1800), 'log erfc(30)')
  close(logErfc(-3), Math.log(2 - 2.209049699858544e-5), 'log erfc(-3)')
})

test('composition: RDP adds up, so k steps equal k single steps', () => {
  const a = new RdpAccountant(); const b = new RdpAccountant()
  a.step(0.02, 1.1, 300)
  for (let i = 0; i < 300; i++) b.step(0.02, 1.1)
  close(b.spent(1e-5).epsilon, a.spent(1e-5).epsilon, 'epsilon', 1e-12)
  assert.equal(a.steps, 300, 'steps counted')
  assert.ok(a.spentAfter(0.02, 1.1, 100, 1e-5).epsilon > a.spent(1e-5).epsilon, 'more steps spend more')
  assert.equal(a.steps, 300, 'spentAfter records nothing')
})

test('accountant state round-trips through JSON and rejects a bad state by field', () => {
  const a = new RdpAccountant()
  a.step(0.01, 1.2, 50); a.step(0.02, 1.2, 10)
  const b = RdpAccountant.fromJSON(JSON.parse(JSON.stringify(a)))
  assert.equal(b.spent(1e-5).epsilon, a.spent(1e-5).epsilon, 'same epsilon after a reload')
  assert.throws(() => RdpAccountant.fromJSON({ version: 2 }), (e: Error) => e.name === 'AccountantStateError' && /version/.test(e.message), 'bad version')
  assert.throws(() => RdpAccountant.fromJSON({ version: 1, orders: [2], entries: [{ q: 2, noiseMultiplier: 1, steps: 1 }] }),
    (e: Error) => e.name === 'AccountantStateError' && /entries\.0/.test(e.message), 'q out of range names the entry')
})

test('bad parameters are named', () => {
  assert.throws(() => epsilonOf(0.1, 1, 10, 0), (e: Error) => e.name === 'InvalidPrivacyError' && /delta/.test(e.message), 'delta 0')
  assert.throws(() => epsilonOf(1.5, 1, 10, 1e-5), (e: Error) => e.name === 'InvalidPrivacyError' && /\bq\b/.test(e.message), 'q > 1')
  assert.throws(() => noiseForTarget(0, 1e-5, 0.1, 10), (e: Error) => e.name === 'InvalidPrivacyError' && /epsilon/.test(e.message), 'epsilon 0')
})
