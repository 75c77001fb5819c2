import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseScenario } from '../../simulations/scenario.js'
import { Simulation, type DecentralizedResult } from '../../simulations/harness/coordinator.js'

const factoryModule = new URL('./fixtures/averaging-peers.ts', import.meta.url).href

function strip (r: DecentralizedResult): unknown {
  return { rounds: r.rounds.map(({ wallMs, ...rest }) => rest), final: r.final, counters: r.counters, refused: r.refused }
}

async function run (workers: number, seed = 11): Promise<DecentralizedResult> {
  const scenario = parseScenario({
    seed,
    peers: 24,
    rounds: 6,
    dataset: 'none',
    model: 'none',
    topology: { kind: 's-random', s: 3 },
    network: { loss: 0.1, latency: { dist: 'lognormal', medianMs: 40, sigma: 0.8, minMs: 5 }, churn: { rate: 0.2 } },
    stragglers: { fraction: 0.2, slowdown: 3 },
    adversaries: { fraction: 0.1 }
  })
  const sim = await Simulation.create(scenario, { workers, factoryModule })
  try {
    return await sim.run()
  } finally {
    await sim.close()
  }
}

test('same scenario and seed: identical results in this thread, with one worker and with two', async () => {
  const local = await run(0)
  const one = await run(1)
  const two = await run(2)
  assert.ok(local.rounds.every((r) => r.mean != null), 'expected local.rounds.every((r) => r.mean != null)')
  assert.ok(local.refused.NORM_BOUND > 0, 'attackers are refused by the light peers')
  assert.ok(local.rounds.some((r) => r.messagesLost > 0), 'expected local.rounds.some((r) => r.messagesLost > 0)')
  assert.equal(two.workers, 2)
  assert.deepEqual(strip(one), strip(local))
  assert.deepEqual(strip(two), strip(local))
  assert.equal(JSON.stringify(strip(two)), JSON.stringify(strip(local)))
  const other = await run(0, 12)
  assert.notDeepEqual(strip(other), strip(local))
})

test('averaging peers converge: consensus distance falls', async () => {
  const r = await run(0)
  const first = r.rounds[0].consensusDistance as number
  const last = r.rounds.at(-1)?.consensusDistance as number
  assert.ok(last < first / 2, `${first} -> ${last}`)
})
