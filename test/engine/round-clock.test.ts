/**
 * The round clock over real engines (real sealing and signatures, in-memory transport, seeded): a late joiner,
 * a peer back after a long downtime and one with a lost database catch up and merge; one member claiming
 * round + 999 cannot split the network; far-off rounds cost gossip score, slightly-off ones do not.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRng } from '../../protocol/rng.js'
import { gossipVerdict, RefusalReason, type PeerKey } from '../../protocol/interfaces.js'
import { MemoryStore, peerEngine, type Behaviour, type PeerEngine, type PeerEngineInit } from '../../protocol/engine/index.js'
import { roundWindowRefusal } from '../../protocol/engine/admission.js'
import { randomRegular } from '../averaging/graphs.js'
import { buildPeers, syncRound, type TestPeer } from './setup.js'

const DIM = 4
const INIT: PeerEngineInit = { averaging: { rule: 'epidemic', fanout: 3, weighting: 'uniform' }, localSteps: 0, evaluateEveryRounds: 0 }

interface Warned { msg: string, obj: Record<string, unknown> }
function recordingLogger (into: Warned[]): { debug: () => void, info: () => void, error: () => void, warn: (obj: object, msg?: string) => void } {
  return { debug: () => {}, info: () => {}, error: () => {}, warn: (obj, msg) => { into.push({ msg: msg ?? '', obj: obj as Record<string, unknown> }) } }
}

/** Puts every peer but those in `skip` at round `round` (a checkpoint in its store, as after a long run). */
async function atRound (peers: TestPeer[], round: number, skip: Set<number>): Promise<void> {
  for (const [i, p] of peers.entries()) {
    if (skip.has(i)) continue
    await p.store.commit({ checkpoint: { round, seq: 50_000, weights: p.learner.w.slice(), pushSumWeight: 1, rule: 'epidemic', schemaHash: p.learner.schemaHash, savedAt: 0 } })
  }
}

/** A new engine for peer `i` over `store` (a restart: same key and envelopes, the store it is given). */
function restart (world: ReturnType<typeof buildPeers>, i: number, store: MemoryStore, warned: Warned[]): PeerEngine {
  const p = world.peers[i]
  const engine = peerEngine(INIT)({
    transport: world.net.transport(p.key), learner: p.learner, store, clock: world.clock, rng: createRng(`restart-${i}`),
    envelopes: p.envelopes, metrics: p.metrics, logger: recordingLogger(warned)
  })
  p.engine = engine
  p.store = store
  return engine
}

function acceptedFrom (world: ReturnType<typeof buildPeers>, from: PeerKey, sinceVerdict: number): number {
  return world.net.verdicts.slice(sinceVerdict).filter((v) => v.from === from && v.reason == null).length
}

test('a late joiner at round 0 into a network at round 10,000 (10x the 1,000-round window) catches up, merges, and is accepted', async () => {
  const rng = createRng('clock-late')
  const world = buildPeers({ n: 10, dim: DIM, graph: (n) => randomRegular(n, 4, rng), init: INIT, seed: 'clock-late' })
  await atRound(world.peers, 10_000, new Set([0]))
  const warned: Warned[] = []
  const joiner = restart(world, 0, new MemoryStore(), warned)
  assert.equal((await (async () => { await joiner.init(); return joiner.round })()), 0, 'the joiner starts at round 0')
  for (let r = 0; r < 3; r++) await syncRound(world.net, world.peers)
  assert.ok(joiner.round >= 10_000, `joiner adopted the network's round (now ${joiner.round})`)
  assert.ok(joiner.totals().updatesMerged > 0, `joiner merged ${joiner.totals().updatesMerged} updates`)
  const w = warned.find((x) => x.msg.startsWith('behind the network by'))
  assert.ok(w != null, `a warning says the peer was behind (got ${JSON.stringify(warned.map((x) => x.msg))})`)
  assert.match(w.msg, /behind the network by 100\d\d rounds: adopting round 100\d\d/, 'the warning names the gap and the adopted round')
  const mark = world.net.verdicts.length
  for (let r = 0; r < 3; r++) await syncRound(world.net, world.peers)
  assert.ok(acceptedFrom(world, world.peers[0].key, mark) >= 3, 'the others accept the joiner\'s updates after it caught up')
  const rounds = world.peers.map((p) => p.engine.round)
  assert.ok(Math.max(...rounds) - Math.min(...rounds) <= 2, `all rounds together: ${rounds.join(',')}`)
  assert.equal(world.peers[0].metrics.counters.get('murmur_engine_round_catch_ups_total'), 1, 'one catch-up counted')
})

test('one member claiming round + 999 (three envelopes per round) moves no honest peer out of the others\' window', async () => {
  const rng = createRng('clock-split')
  const ahead: Behaviour = {
    name: 'round+999',
    outgoing: (u, ctx) => [0, 1, 2].map((k) => ({ ...u, round: u.round + 999, seq: k === 0 ? u.seq : ctx.nextSeq() }))
  }
  const world = buildPeers({ n: 10, dim: DIM, graph: (n) => randomRegular(n, 4, rng), init: { ...INIT, keepLastReceived: true }, seed: 'clock-split', behaviours: new Map([[0, ahead]]) })
  for (let r = 0; r < 30; r++) await syncRound(world.net, world.peers)
  const honest = world.peers.slice(1)
  const rounds = honest.map((p) => p.engine.round)
  assert.ok(Math.max(...rounds) - Math.min(...rounds) <= 10, `honest rounds within the window of each other: ${rounds.join(',')}`)
  assert.ok(Math.max(...rounds) <= 32, `the attacker did not move honest rounds: ${rounds.join(',')}`)
  const keys = new Set(honest.map((p) => p.key))
  const splits = world.net.verdicts.filter((v) => keys.has(v.from) && keys.has(v.to) && v.reason != null && v.reason.includes('ROUND'))
  assert.equal(splits.length, 0, `honest peers never refuse each other's rounds (${splits.slice(0, 3).map((v) => v.reason).join(',')})`)
  const merged = honest.map((p) => p.engine.totals().updatesMerged)
  assert.ok(merged.every((m) => m > 0), `every honest peer merged: ${merged.join(',')}`)
})

test('a peer back after a downtime longer than the window (restarted from its store) merges again', async () => {
  const rng = createRng('clock-down')
  const world = buildPeers({ n: 8, dim: DIM, graph: (n) => randomRegular(n, 4, rng), init: INIT, seed: 'clock-down' })
  for (let r = 0; r < 5; r++) await syncRound(world.net, world.peers)
  const kept = world.peers[0].store
  await world.peers[0].engine.stop()
  // the network runs on without it for 5,000 rounds (restored past its own checkpoints)
  for (const [i, p] of world.peers.entries()) if (i > 0) restart(world, i, new MemoryStore(), [])
  await atRound(world.peers, 5_005, new Set([0]))
  const warned: Warned[] = []
  const back = restart(world, 0, kept, warned)
  await back.init()
  assert.equal(back.round, 5, 'it restarts at its own checkpointed round')
  for (let r = 0; r < 3; r++) await syncRound(world.net, world.peers)
  assert.ok(back.round >= 5_005, `caught up to the network (now ${back.round})`)
  assert.ok(back.totals().updatesMerged > 0, 'merges again')
  assert.ok(warned.some((x) => x.msg.startsWith('behind the network by')), 'warned')
})

test('a peer whose database was lost (round 0, empty store, same key) merges again', async () => {
  const rng = createRng('clock-lost')
  const world = buildPeers({ n: 8, dim: DIM, graph: (n) => randomRegular(n, 4, rng), init: INIT, seed: 'clock-lost' })
  await atRound(world.peers, 3_000, new Set())
  for (let r = 0; r < 2; r++) await syncRound(world.net, world.peers)
  const lost = restart(world, 3, new MemoryStore(), [])
  for (let r = 0; r < 3; r++) await syncRound(world.net, world.peers)
  assert.ok(lost.round >= 3_000, `caught up (now ${lost.round})`)
  assert.ok(lost.totals().updatesMerged > 0, 'merges again')
})

test('round window verdicts: just outside the window is ignored, beyond the margin is rejected, a lead is judged against the median', () => {
  const w = { maxLag: 10, maxLead: 1000 }
  assert.equal(roundWindowRefusal(95, 100, null, w, 100), null, 'inside the window')
  assert.equal(roundWindowRefusal(50, 100, null, w, 100), RefusalReason.STALE_ROUND, 'stale within the margin')
  assert.equal(roundWindowRefusal(-11, 100, null, w, 100), RefusalReason.FAR_STALE_ROUND, 'stale beyond the margin')
  assert.equal(roundWindowRefusal(1_150, 100, 100, w, 100), RefusalReason.FUTURE_ROUND, 'ahead within the margin')
  assert.equal(roundWindowRefusal(1_201, 100, 100, w, 100), RefusalReason.FAR_FUTURE_ROUND, 'ahead of the median beyond the margin')
  assert.equal(roundWindowRefusal(10_000, 0, null, w, 100), RefusalReason.FUTURE_ROUND, 'no median yet: a peer that may be behind penalises nobody')
  assert.equal(roundWindowRefusal(10_000, 0, 9_990, w, 100), RefusalReason.FUTURE_ROUND, 'behind the median: refused without a score cost (the clock catches up first)')
  assert.equal(gossipVerdict(RefusalReason.STALE_ROUND), 'ignore', 'slightly stale: no score cost')
  assert.equal(gossipVerdict(RefusalReason.FUTURE_ROUND), 'ignore', 'slightly ahead: no score cost')
  assert.equal(gossipVerdict(RefusalReason.FAR_STALE_ROUND), 'reject', 'far stale costs score')
  assert.equal(gossipVerdict(RefusalReason.FAR_FUTURE_ROUND), 'reject', 'far ahead costs score')
})

test('a member far ahead of the median is refused FAR_FUTURE_ROUND (reject) and moves nobody', async () => {
  const rng = createRng('clock-far')
  const far: Behaviour = { name: 'round+5000', outgoing: (u) => ({ ...u, round: u.round + 5_000 }) }
  const world = buildPeers({ n: 8, dim: DIM, graph: (n) => randomRegular(n, 4, rng), init: INIT, seed: 'clock-far', behaviours: new Map([[0, far]]) })
  for (let r = 0; r < 6; r++) await syncRound(world.net, world.peers)
  const fromAttacker = world.net.verdicts.filter((v) => v.from === world.peers[0].key)
  assert.ok(fromAttacker.length > 0, 'the attacker sent')
  assert.ok(fromAttacker.slice(-5).every((v) => v.reason === RefusalReason.FAR_FUTURE_ROUND), `refused FAR_FUTURE_ROUND once a median exists: ${fromAttacker.map((v) => v.reason).join(',')}`)
  const rounds = world.peers.slice(1).map((p) => p.engine.round)
  assert.ok(rounds.every((r) => r === 6), `honest rounds unmoved: ${rounds.join(',')}`)
})
