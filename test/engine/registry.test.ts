/**
 * The rule registry: manifests and scenarios accept exactly the registered rules, the simulator's scheduler
 * reads each rule's traits, and the fifth rule (gossip-learning) runs in real engines and in the simulator.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AVERAGING_RULES, averagingRule, parseAveragingParams } from '../../protocol/engine/index.js'
import { parseScenario } from '../../simulations/scenario.js'
import { runScenario } from '../../simulations/run.js'
import { createRng } from '../../protocol/rng.js'
import { randomRegular } from '../averaging/graphs.js'
import { buildPeers, syncRound } from './setup.js'

const MINIMAL = { name: 't', peers: 4, rounds: 1, dataset: 'digits', model: 'softmax' }

test('the registry names six rules; parameters and scenario files accept each, and refuse unknown names', () => {
  assert.deepEqual([...AVERAGING_RULES], ['pairwise', 'push-sum', 'epidemic', 'dpsgd', 'gossip-learning', 'glm-newton'], 'registry order')
  assert.deepEqual(parseAveragingParams({ rule: 'gossip-learning' }), { rule: 'gossip-learning', weighting: 'examples', fanout: 1, clip: { multiplier: 1, floor: 1e-3, redescend: 4 }, maxExampleCount: 1e6, maxWeightRatio: 2 }, 'defaults filled')
  for (const rule of AVERAGING_RULES) {
    assert.equal(parseScenario({ ...MINIMAL, rule }, 't.yaml').rule.rule, rule, `scenario accepts rule ${rule}`)
  }
  assert.throws(() => parseAveragingParams({ rule: 'gossip-learning', fanout: 0 }, 'network.json: averaging'),
    (e: Error) => e.name === 'InvalidAveragingParamsError' && /network\.json: averaging\.fanout/.test(e.message), 'bad field named')
  assert.throws(() => parseScenario({ ...MINIMAL, rule: 'nope' }, 't.yaml'), (e: Error) => /rule/.test(e.message) && /gossip-learning/.test(e.message), 'unknown rule refused, known ones listed')
  assert.throws(() => averagingRule('nope'), (e: Error) => e.name === 'UnknownAveragingRuleError' && /nope/.test(e.message), 'named error')
})

test('traits: only pairwise sends while handling a message; buffering and Lamport rounds as each rule works', () => {
  const traits = Object.fromEntries(AVERAGING_RULES.map((r) => [r, averagingRule(r).traits]))
  assert.deepEqual(AVERAGING_RULES.filter((r) => traits[r].sendsOnReceive), ['pairwise'], 'sendsOnReceive')
  assert.deepEqual(AVERAGING_RULES.filter((r) => traits[r].buffers), ['epidemic', 'dpsgd'], 'buffers')
  assert.deepEqual(AVERAGING_RULES.filter((r) => !traits[r].lamportRounds), ['dpsgd'], 'no Lamport clock')
})

test('gossip-learning: an arriving model is averaged in at once, weighted by both example counts', async () => {
  const { net, peers } = buildPeers({ n: 2, dim: 3, graph: () => [[1], [0]], init: { averaging: { rule: 'gossip-learning', clip: 'off', maxWeightRatio: 100 }, localSteps: 0, evaluateEveryRounds: 0 }, examples: (i) => (i === 0 ? 1 : 3) })
  const [a, b] = peers
  a.learner.w = Float32Array.of(0, 0, 0)
  b.learner.w = Float32Array.of(4, 8, -4)
  await a.engine.init()
  await b.engine.beginRound()
  assert.equal(await net.deliverAll(), 1, 'one update to a')
  assert.equal(a.engine.totals().updatesMerged, 1, 'merged on arrival, before the round ends')
  assert.deepEqual([...a.learner.w], [3, 6, -3], '(1 * 0 + 3 * b) / 4')
})

test('gossip-learning: 20 engines on a 4-regular graph approach consensus', async () => {
  const rng = createRng('g-gl')
  const { net, peers } = buildPeers({ n: 20, dim: 6, graph: (n) => randomRegular(n, 4, rng), init: { averaging: { rule: 'gossip-learning', fanout: 2, weighting: 'uniform', clip: 'off' }, localSteps: 0, evaluateEveryRounds: 0 } })
  const spread = (): number => {
    let worst = 0
    for (let i = 0; i < 6; i++) {
      const col = peers.map((p) => p.learner.w[i])
      worst = Math.max(worst, Math.max(...col) - Math.min(...col))
    }
    return worst
  }
  const before = spread()
  for (let r = 0; r < 30; r++) await syncRound(net, peers)
  assert.ok(spread() < before / 100, `spread ${before} -> ${spread()}`)
})

test('gossip-learning in the simulator: a small run learns and is reproducible', async () => {
  const scenario = parseScenario({
    name: 'gl', peers: 6, rounds: 2, localSteps: 2, batchSize: 16, dataset: 'digits', model: 'softmax',
    rule: { rule: 'gossip-learning', fanout: 2 }, topology: { kind: 'complete' },
    evaluation: { every: 1, curveRows: 100 }, baselines: { centralized: false, localOnly: false, fedavg: false }
  }, 'gl')
  const a = await runScenario(scenario, { workers: 0 })
  const b = await runScenario(scenario, { workers: 0 })
  assert.ok(a.decentralized.mean != null && a.decentralized.mean > 0.3, `accuracy ${String(a.decentralized.mean)}`)
  assert.equal(a.decentralized.mean, b.decentralized.mean, 'same seed, same result')
  assert.ok(a.bytesPerPeerPerRound > 0, 'models were sent')
})
