import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseAveragingParams } from '../../protocol/engine/rules/index.js'
import { defaultInfluence } from '../../protocol/averaging/params.js'

test('parseAveragingParams fills defaults per rule', () => {
  const e = parseAveragingParams({ rule: 'epidemic' })
  assert.equal(e.rule, 'epidemic')
  if (e.rule !== 'epidemic') return
  assert.equal(e.fanout, 3); assert.equal(e.merge, 'mean'); assert.equal(e.weighting, 'examples')
  const p = parseAveragingParams({ rule: 'push-sum', fanout: 2, weighting: 'uniform' })
  assert.deepEqual(p, { rule: 'push-sum', fanout: 2, weighting: 'uniform', ...defaultInfluence() })
  const d = parseAveragingParams({ rule: 'dpsgd', merge: 'clipped', clipRadius: 3 })
  assert.equal(d.rule === 'dpsgd' && d.clipRadius, 3)
})

test('parseAveragingParams names the bad field and the source', () => {
  assert.throws(() => parseAveragingParams({ rule: 'epidemic', fanout: 0 }, 'network.json: averaging'),
    (e: Error) => e.name === 'InvalidAveragingParamsError' && /network\.json: averaging\.fanout/.test(e.message))
  assert.throws(() => parseAveragingParams({ rule: 'gossip' }), (e: Error) => e.name === 'InvalidAveragingParamsError' && /rule/.test(e.message))
  assert.throws(() => parseAveragingParams({ rule: 'pairwise', merge: 'median' }), (e: Error) => e.name === 'InvalidAveragingParamsError' && /merge|Unrecognized/i.test(e.message))
  assert.throws(() => parseAveragingParams({ rule: 'epidemic', trimBeta: 0.5 }), (e: Error) => e.name === 'InvalidAveragingParamsError' && /trimBeta/.test(e.message))
})
