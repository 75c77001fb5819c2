/**
 * A member flooding valid signed updates (and junk) through the behaviour seam (simulations/attacks `flood`):
 * each receiver accepts at most the rule's rate per round from one sender (protocol/engine/sender-rate.ts) and
 * refuses the rest RATE_LIMITED, logged as verdict records; the junk is refused as malformed. With the rate
 * turned off, the same flood is accepted wholesale (a push-sum receiver merges every copy's mass).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createBehaviour } from '../../simulations/attacks/index.js'
import type { PeerEngineInit, UpdateLogEntry } from '../../protocol/engine/index.js'
import { defaultPeerEngineOptions } from '../../protocol/engine/index.js'
import { buildPeers, syncRound } from './setup.js'
import { complete } from '../averaging/graphs.js'

const ROUNDS = 4
const PER_ROUND = 50

async function flooded (init: Partial<PeerEngineInit> = {}): Promise<{ accepted: number[], refused: Array<Record<string, number>>, rateLogged: number[] }> {
  const flood = createBehaviour({ kind: 'flood', perSecond: PER_ROUND, junk: 0.2 }, { peers: 4, adversaries: 1, roundMs: 1000 })
  const { net, peers } = buildPeers({ n: 4, dim: 4, graph: complete, init: { averaging: { rule: 'push-sum', fanout: 3 }, localSteps: 0, evaluateEveryRounds: 0, ...init }, behaviours: new Map([[0, flood!]]) })
  for (let r = 0; r < ROUNDS; r++) await syncRound(net, peers)
  const rogue = peers[0].key
  const out = { accepted: [] as number[], refused: [] as Array<Record<string, number>>, rateLogged: [] as number[] }
  for (const p of peers.slice(1)) {
    const log: UpdateLogEntry[] = []
    for await (const e of p.store.updateLog({ sender: rogue })) log.push(e)
    out.accepted.push(log.filter((e) => e.verdict === 'accepted').length)
    out.rateLogged.push(log.filter((e) => e.reason === 'RATE_LIMITED').length)
    out.refused.push(p.engine.totals().refused as Record<string, number>)
  }
  return out
}

test('flood of valid updates and junk: at most the per-round rate accepted from the rogue, the rest RATE_LIMITED or MALFORMED', async () => {
  const { senderUpdatesPerRound: perRound, senderUpdateBurst: burst } = defaultPeerEngineOptions
  const on = await flooded()
  // per receiver: the rogue's own update and 40 valid copies a round; the bucket lets burst + perRound x (rounds - 1) in
  const cap = burst + perRound * (ROUNDS - 1)
  on.accepted.forEach((n, i) => { assert.ok(n <= cap && n > 0, `receiver ${i}: ${n} of the rogue's updates accepted, at most ${cap}`) })
  on.refused.forEach((r, i) => {
    assert.ok((r.RATE_LIMITED ?? 0) >= ROUNDS * (PER_ROUND * 0.8) - cap, `receiver ${i}: the valid flood is RATE_LIMITED: ${JSON.stringify(r)}`)
    const junk = (r.MALFORMED ?? 0) + (r.UNSUPPORTED_VERSION ?? 0) + (r.OVERSIZED ?? 0)
    assert.equal(junk, ROUNDS * PER_ROUND * 0.2, `receiver ${i}: every junk message refused as malformed: ${JSON.stringify(r)}`)
  })
  on.rateLogged.forEach((n, i) => { assert.equal(n, on.refused[i].RATE_LIMITED, `receiver ${i}: each RATE_LIMITED refusal is a verdict record in the log`) })
  // the guard: with the rate off, every valid copy is accepted
  const off = await flooded({ senderUpdatesPerRound: 1e9, senderUpdateBurst: 1e9 })
  off.accepted.forEach((n, i) => { assert.ok(n > 4 * cap, `rate off: receiver ${i} accepts ${n} of the rogue's updates (the guard is what stops them)`) })
})

test('simulator: a flooding peer (flood:perSecond=40 at 250 ms rounds) is refused RATE_LIMITED past the rate, its junk MALFORMED', async () => {
  const { loadScenario } = await import('../../simulations/scenario.js')
  const { runScenario } = await import('../../simulations/run.js')
  const scenario = await loadScenario('default', {
    peers: 6,
    rounds: 4,
    network: { roundMs: 250 },
    rule: { rule: 'epidemic', fanout: 5 },
    adversaries: { fraction: 1 / 6, attack: { kind: 'flood', perSecond: 40, junk: 0.25 } },
    evaluation: { every: 4, curveRows: 200 },
    baselines: { centralized: false, localOnly: false, fedavg: false }
  })
  const r = await runScenario(scenario, { workers: 0, variants: false })
  // 10 messages a round to each of 5 receivers: 7-8 valid copies and its own update (the rate lets 2 a round in,
  // 4 at first) and 2-3 junk; counted over at least the 3 rounds whose floods arrive before the run ends
  const refused = r.refused as Record<string, number>
  assert.ok((refused.RATE_LIMITED ?? 0) >= 5 * 3 * 4, `the valid flood is RATE_LIMITED: ${JSON.stringify(refused)}`)
  assert.ok((refused.MALFORMED ?? 0) >= 5 * 3 * 2, `the junk is refused: ${JSON.stringify(refused)}`)
  assert.ok(r.decentralized.mean != null && r.decentralized.mean > 0.5, `the honest peers still learn: ${String(r.decentralized.mean)}`)
})
