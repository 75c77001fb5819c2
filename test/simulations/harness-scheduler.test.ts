import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Incoming, RefusalReason } from '../../protocol/interfaces.js'
import { loadScenario, parseScenario, type Scenario } from '../../simulations/scenario.js'
import { Simulation, type DecentralizedResult, type SimulationOptions } from '../../simulations/harness/coordinator.js'
import { World, type PeerContext, type SimPeer } from '../../simulations/world.js'

function strip (r: DecentralizedResult): unknown {
  return { rounds: r.rounds.map(({ wallMs, ...rest }) => rest), final: r.final, finalOnCurveRows: r.finalOnCurveRows, counters: r.counters, refused: r.refused }
}

async function small (rule: object): Promise<Scenario> {
  return await loadScenario('default', {
    peers: 12,
    rounds: 3,
    rule,
    topology: { kind: 's-random', s: 4 },
    evaluation: { every: 1, curveRows: 100 },
    baselines: { centralized: false, localOnly: false, fedavg: false },
    variants: []
  } as never)
}

async function run (scenario: Scenario, options: SimulationOptions): Promise<{ result: DecentralizedResult, memo: { hits: number, misses: number, imported: number } }> {
  const sim = await Simulation.create(scenario, options)
  try {
    const result = await sim.run()
    const timing = await sim.task<{ memoHits: number, memoMisses: number, memoImported: number }>('timing', () => ({}))
    const sum = (f: (t: typeof timing[number]) => number): number => timing.reduce((s, t) => s + f(t), 0)
    return { result, memo: { hits: sum((t) => t.memoHits), misses: sum((t) => t.memoMisses), imported: sum((t) => t.memoImported) } }
  } finally {
    await sim.close()
  }
}

test('real peers, epidemic: one window per round and the crypto memo change nothing in the results', async () => {
  const scenario = await small({ rule: 'epidemic', fanout: 3 })
  const fast = await run(scenario, { workers: 2 })
  const plain = await run(scenario, { workers: 2, safeHorizon: false, cryptoMemo: false })
  const local = await run(scenario, { workers: 0 })
  const three = await run(scenario, { workers: 3 })
  assert.ok(fast.result.rounds.every((r) => r.mean != null && r.mean > 0.1), 'expected fast.result.rounds.every((r) => r.mean != null && r.mean > 0.1)')
  assert.equal(fast.result.scheduler?.windows, scenario.rounds, 'the rest of each round is one window')
  assert.ok((plain.result.scheduler?.windows ?? 0) > 3 * scenario.rounds, `${plain.result.scheduler?.windows} windows of the lookahead`)
  assert.ok(fast.memo.hits > 0, 'receivers share the crypto work')
  assert.ok(fast.memo.imported > 0, 'validation results cross worker threads with the bytes')
  // every accepted envelope is validated once in the whole simulation: misses are at most one per peer and round
  assert.ok(fast.memo.misses <= scenario.peers * scenario.rounds, `${fast.memo.misses} full validations`)
  assert.equal(plain.memo.hits + plain.memo.misses, 0)
  assert.deepEqual(strip(fast.result), strip(plain.result))
  assert.equal(JSON.stringify(strip(local.result)), JSON.stringify(strip(fast.result)))
  assert.equal(JSON.stringify(strip(three.result)), JSON.stringify(strip(fast.result)), 'three worker threads (notes reach two other worlds)')
  assert.ok(three.memo.imported > 0, 'expected three.memo.imported > 0')
  // the last round: full test split in `final`, curve rows in `finalOnCurveRows` / `onCurveRows`
  const last = fast.result.rounds.at(-1)
  assert.equal(fast.result.finalOnCurveRows?.length, fast.result.final.length)
  assert.ok(last?.onCurveRows != null && last.onCurveRows.mean > 0.1, 'expected last?.onCurveRows != null && last.onCurveRows.mean > 0.1')
  assert.ok(fast.result.rounds.slice(0, -1).every((r) => r.onCurveRows == null), 'expected fast.result.rounds.slice(0, -1).every((r) => r.onCurveRows == null)')
})

test('real peers, pairwise (answers on receive): the horizon falls back to the lookahead, same results', async () => {
  const scenario = await small({ rule: 'pairwise', initiateProbability: 1 })
  const fast = await run(scenario, { workers: 2 })
  const plain = await run(scenario, { workers: 2, safeHorizon: false })
  assert.ok((fast.result.scheduler?.windows ?? 0) > scenario.rounds, 'replies need more windows')
  assert.ok(fast.result.counters.some(([, c]) => c.messagesSent > 0), 'expected fast.result.counters.some(([, c]) => c.messagesSent > 0)')
  assert.deepEqual(strip(fast.result), strip(plain.result))
})

test('real peers under replay and equivocation attacks: the memo (across two threads) changes no verdict', async () => {
  for (const attack of [{ kind: 'replay' }, { kind: 'equivocation' }]) {
    const scenario = await loadScenario('default', {
      peers: 12,
      rounds: 4,
      rule: { rule: 'epidemic', fanout: 4 },
      topology: { kind: 's-random', s: 4 },
      adversaries: { fraction: 0.25, attack },
      evaluation: { every: 1, curveRows: 100 },
      baselines: { centralized: false, localOnly: false, fedavg: false },
      variants: []
    } as never)
    const fast = await run(scenario, { workers: 2 })
    const plain = await run(scenario, { workers: 0, cryptoMemo: false })
    const refused = fast.result.refused as Record<string, number>
    assert.ok((refused.REPLAYED ?? 0) + (refused.EQUIVOCATION ?? 0) > 0, `${attack.kind}: ${JSON.stringify(refused)}`)
    assert.ok(fast.memo.hits > 0, 'expected fast.memo.hits > 0')
    assert.equal(JSON.stringify(strip(fast.result)), JSON.stringify(strip(plain.result)), attack.kind)
  }
})

test('a peer that declared sendsOnReceive: false and sends while handling: SchedulerInvariantError', async () => {
  const scenario = parseScenario({ peers: 2, rounds: 1, dataset: 'none', model: 'none', topology: { kind: 'complete' } })
  const keys = ['0', '1'].map((c) => c.padStart(64, '0'))
  const world = new World({
    scenario,
    keys,
    owned: [0, 1],
    adversaries: [],
    createPeer: async (ctx: PeerContext): Promise<SimPeer> => ({
      sendsOnReceive: false,
      beginRound: async () => { if (ctx.index === 0) await ctx.transport.send(keys[1], new Uint8Array(8)) },
      endRound: async () => {},
      handle: async (_m: Incoming): Promise<RefusalReason | null> => {
        await ctx.transport.send(keys[0], new Uint8Array(8))
        return null
      },
      weights: () => new Float32Array(1),
      evaluate: async () => ({ accuracy: 1 })
    })
  })
  await world.init()
  const start = await world.startRound(0, [])
  assert.equal(start.reactive, false)
  assert.equal(start.sendFrom, Infinity, 'quiet peers: nothing can be sent before the next round')
  await assert.rejects(world.runWindow(scenario.network.roundMs, []), (err: Error) => err.name === 'SchedulerInvariantError')
})
