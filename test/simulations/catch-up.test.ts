// Catching up in the simulator as the daemon does: a late joiner's round clock catches up, it asks its reachable
// neighbours for their state at the round boundary and adopts their robust choice (harness/catch-up.ts).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseScenario, type ScenarioInput } from '../../simulations/scenario.js'
import { runScenario } from '../../simulations/run.js'

const lateJoin: ScenarioInput = {
  name: 'late-join', peers: 5, rounds: 36, localSteps: 1, seed: 7, dataset: 'digits',
  model: { type: 'softmax', optimizer: { type: 'adam', learningRate: 0.05 } },
  rule: { rule: 'epidemic', fanout: 2, maxStalenessRounds: 10 },
  partition: { kind: 'iid' }, topology: { kind: 'complete' },
  network: { lateJoin: { peers: 1, atRound: 30 } },
  evaluation: { every: 1, curveRows: 300 },
  baselines: { centralized: false, localOnly: false, fedavg: false }
} as ScenarioInput

test('a late joiner adopts its neighbours\' state at the first round boundary and is level with them', async () => {
  const r = await runScenario(parseScenario(lateJoin), { workers: 0 })
  const cu = r.details.catchUp
  assert.ok(cu != null, 'a run with a late joiner reports catch-up')
  assert.equal(cu.events.length, 1, `one adoption (got ${JSON.stringify(cu.events)})`)
  const e = cu.events[0]
  assert.equal(e.peer, 4, 'the late joiner is the last peer')
  assert.equal(e.onlineRound, 30, 'it came online at round 30')
  assert.ok(e.adoptedAtRound <= 31, `it adopted within a round of joining (at ${e.adoptedAtRound})`)
  assert.ok(e.round >= 30, `it took the network's round (${e.round})`)
  assert.equal(e.from.length, 3, 'from three neighbours, the daemon\'s STATE_ASK_PEERS')
  assert.ok(e.metricAfter != null && e.othersMeanAfter != null && Math.abs(e.metricAfter - e.othersMeanAfter) < 0.03,
    `its accuracy right after (${String(e.metricAfter)}) is the others' (${String(e.othersMeanAfter)})`)
})

test('a run where no peer was ever offline makes no catch-up calls and reports none', async () => {
  const { network: _n, ...rest } = lateJoin as Record<string, unknown>
  const r = await runScenario(parseScenario({ ...rest, rounds: 3 } as ScenarioInput), { workers: 0 })
  assert.equal(r.details.catchUp, undefined, 'no catch-up section without late joiners or churn')
})

test('late joiners must leave at least one peer to start the network', () => {
  assert.throws(() => parseScenario({ ...lateJoin, network: { lateJoin: { peers: 5, atRound: 3 } } } as ScenarioInput),
    (e: Error) => e.name === 'ScenarioError' && /network\.lateJoin/.test(e.message), 'all peers late is refused by field')
})
