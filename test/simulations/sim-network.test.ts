import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Incoming, RefusalReason } from '../../protocol/interfaces.js'
import { parseScenario, type ScenarioInput } from '../../simulations/scenario.js'
import { World, type PeerContext, type SimPeer } from '../../simulations/world.js'
import { ChurnSchedule } from '../../simulations/network.js'
import { createRng } from '../../protocol/rng.js'

interface Delivery { to: number, from: number, at: number, size: number }

/** A peer that sends `size` bytes to every neighbour each round and records what arrives, with virtual time. */
function probeWorld (input: Partial<ScenarioInput>, size = 100): { world: World, log: Delivery[], sendErrors: Array<{ from: number, name: string }> } {
  const scenario = parseScenario({ peers: 4, rounds: 1, dataset: 'none', model: 'none', topology: { kind: 'complete' }, ...input })
  const keys = Array.from({ length: scenario.peers }, (_, i) => String(i).padStart(64, '0'))
  const log: Delivery[] = []
  const sendErrors: Array<{ from: number, name: string }> = []
  const world = new World({
    scenario,
    keys,
    owned: keys.map((_, i) => i),
    adversaries: [],
    createPeer: async (ctx: PeerContext): Promise<SimPeer> => ({
      beginRound: async () => {
        for (const peer of ctx.keys) {
          if (peer === ctx.key) continue
          try { await ctx.transport.send(peer, new Uint8Array(size)) } catch (err) { sendErrors.push({ from: ctx.index, name: (err as Error).name }) }
        }
      },
      endRound: async () => {},
      handle: async (m: Incoming): Promise<RefusalReason | null> => {
        log.push({ to: ctx.index, from: keys.indexOf(m.from), at: ctx.clock.now(), size: m.bytes.length })
        return null
      },
      weights: () => new Float32Array(1),
      evaluate: async () => ({ accuracy: 1 })
    })
  })
  return { world, log, sendErrors }
}

async function runRound (world: World, round: number, offline: number[] = []): Promise<void> {
  await world.startRound(round, offline)
  await world.runWindow((round + 1) * world.scenario.network.roundMs, [])
  await world.endRound(round, { evaluate: false, weights: false })
}

test('latency and bandwidth: arrival = compute time + size / bandwidth (up and down) + latency', async () => {
  const { world, log } = probeWorld({
    peers: 2,
    localSteps: 10,
    compute: { stepMs: 10, jitter: 0 },
    network: { latency: { dist: 'constant', ms: 50 }, bandwidthMbps: 8, roundMs: 10_000 }
  }, 100_000)
  await world.init()
  await runRound(world, 0)
  assert.equal(log.length, 2)
  // 100 ms compute, 100 kB at 8 Mbps = 100 ms up, 50 ms latency, 100 ms down.
  for (const d of log) assert.ok(Math.abs(d.at - 350) < 1e-9, `arrived at ${d.at}`)
})

test('uplink queues: a peer\'s second message waits for its first', async () => {
  const { world, log } = probeWorld({
    peers: 3,
    localSteps: 0,
    network: { latency: { dist: 'constant', ms: 10 }, bandwidthMbps: 8, roundMs: 10_000 }
  }, 10_000)
  await world.init()
  await runRound(world, 0)
  const from0 = log.filter((d) => d.from === 0).map((d) => d.at).sort((a, b) => a - b)
  // 10 kB at 8 Mbps = 10 ms; latency 10 ms; the receiver's downlink is shared by two senders.
  assert.equal(from0.length, 2)
  assert.ok(from0[1] - from0[0] >= 10 - 1e-9, 'expected from0[1] - from0[0] >= 10 - 1e-9')
})

test('loss: about the configured share of messages is lost, the same ones for the same seed', async () => {
  const lost = async (seed: number): Promise<number[]> => {
    const { world, log } = probeWorld({ seed, peers: 20, network: { loss: 0.3, latency: 5 } }, 10)
    await world.init()
    for (let r = 0; r < 5; r++) await runRound(world, r)
    return log.map((d) => d.at * 1000 + d.from * 20 + d.to)
  }
  const a = await lost(1)
  const total = 20 * 19 * 5
  const rate = 1 - a.length / total
  assert.ok(rate > 0.25 && rate < 0.35, `loss rate ${rate}`)
  assert.deepEqual(await lost(1), a)
  assert.notDeepEqual(await lost(2), a)
})

test('partition: no message crosses while split, and the split heals on time', async () => {
  const { world, log, sendErrors } = probeWorld({
    peers: 6,
    rounds: 3,
    network: { latency: 5, partitions: [{ fromRound: 1, toRound: 2, groups: 2 }] }
  })
  await world.init()
  for (let r = 0; r < 3; r++) await runRound(world, r)
  const roundOf = (d: Delivery): number => Math.floor(d.at / 1000)
  const crossing = (d: Delivery): boolean => (d.from < 3) !== (d.to < 3)
  assert.ok(log.some((d) => roundOf(d) === 0 && crossing(d)), 'expected log.some((d) => roundOf(d) === 0 && crossing(d))')
  assert.ok(!log.some((d) => roundOf(d) === 1 && crossing(d)), 'expected !log.some((d) => roundOf(d) === 1 && crossing(d))')
  assert.ok(log.some((d) => roundOf(d) === 1 && !crossing(d)), 'expected log.some((d) => roundOf(d) === 1 && !crossing(d))')
  assert.ok(log.some((d) => roundOf(d) === 2 && crossing(d)), 'expected log.some((d) => roundOf(d) === 2 && crossing(d))')
  assert.equal(sendErrors.length, 6 * 3)
  assert.ok(sendErrors.every((e) => e.name === 'PeerUnreachableError'), 'expected sendErrors.every((e) => e.name === \'PeerUnreachableError\')')
  // neighbours() hides unreachable peers during the split
  await world.startRound(1, [])
  assert.equal(world.neighboursOf(0).length, 2)
})

test('churn: offline peers neither run rounds nor receive; the schedule changes about rate * n peers per round', async () => {
  const { world, log, sendErrors } = probeWorld({ peers: 5, network: { latency: 5 } })
  await world.init()
  await runRound(world, 0, [4])
  assert.ok(!log.some((d) => d.from === 4 || d.to === 4), 'expected !log.some((d) => d.from === 4 || d.to === 4)')
  assert.equal(sendErrors.length, 4)
  const churn = new ChurnSchedule({ rate: 0.3, downRounds: 1, fromRound: 1 }, 100, createRng(1))
  churn.advance(0)
  let prev = churn.offline.slice()
  for (let r = 1; r < 6; r++) {
    const { left, joined } = churn.advance(r)
    let changed = 0
    for (let i = 0; i < 100; i++) if (churn.offline[i] !== prev[i]) changed++
    assert.equal(changed, left.length + joined.length)
    if (r > 1) assert.equal(changed, 30)
    prev = churn.offline.slice()
  }
})

test('stragglers: a five times slower peer sends later and skips rounds while busy', async () => {
  const { world, log } = probeWorld({
    peers: 4,
    seed: 3,
    localSteps: 10,
    compute: { stepMs: 30, jitter: 0 },
    stragglers: { fraction: 0.25, slowdown: 5 },
    network: { latency: 5, roundMs: 1000 }
  })
  await world.init()
  const slow = world.plan.stragglers
  assert.equal(slow.length, 1)
  for (let r = 0; r < 4; r++) await runRound(world, r)
  const fromSlow = log.filter((d) => d.from === slow[0])
  // 10 steps * 30 ms * 5 = 1500 ms: its round-0 sends leave at 1500, it is busy in round 1, starts again at round 2.
  assert.ok(fromSlow.length > 0, 'expected fromSlow.length > 0')
  assert.ok(fromSlow.every((d) => d.at >= 1500), 'expected fromSlow.every((d) => d.at >= 1500)')
  assert.deepEqual([...new Set(fromSlow.map((d) => Math.floor(d.at / 1000)))].sort(), [1, 3])
  const fromFast = log.filter((d) => d.from !== slow[0])
  assert.equal(fromFast.length, 3 * 3 * 4)
})
