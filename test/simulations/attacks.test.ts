import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRng } from '../../protocol/rng.js'
import type { BehaviourContext, OutgoingUpdate, ReceivedModel } from '../../protocol/engine/types.js'
import { createBehaviour, flipsLabels, alieZ, normalQuantile } from '../../simulations/attacks/index.js'

function ctx (over: Partial<BehaviourContext> = {}): BehaviourContext & { sent: Array<[string, Uint8Array]> } {
  const sent: Array<[string, Uint8Array]> = []
  let seq = 100
  const received = new Map<string, ReceivedModel>([
    ['b', { sender: 'b', round: 0, kind: 0, examples: 1, weight: 1, weights: Float32Array.from([1, 3]), receivedAt: 0 }],
    ['c', { sender: 'c', round: 0, kind: 0, examples: 1, weight: 1, weights: Float32Array.from([3, 5]), receivedAt: 0 }]
  ])
  return {
    self: 'a',
    round: 1,
    rule: 'epidemic',
    rng: createRng(1),
    honest: Float32Array.from([2, 2]),
    received,
    neighbours: ['b', 'c'],
    sentLog: [],
    nextSeq: () => seq++,
    seal: async () => ({ bytes: new Uint8Array(1), id: 'x' }),
    send: async (peer, bytes) => { sent.push([peer, bytes]) },
    sent,
    ...over
  }
}

const update = (): OutgoingUpdate => ({ kind: 0, round: 1, seq: 7, examples: 10, weight: 10, parents: [], to: ['b', 'c'], weights: Float32Array.from([2, 2]) })
const one = (u: OutgoingUpdate | OutgoingUpdate[]): OutgoingUpdate => { assert.ok(!Array.isArray(u), 'expected !Array.isArray(u)'); return u as OutgoingUpdate }

test('sign-flip: ref - scale * (honest - ref), ref = mean of what it received', async () => {
  const b = createBehaviour({ kind: 'sign-flip', scale: 1000 }, { peers: 10, adversaries: 2 })!
  const out = one(await b.outgoing!(update(), ctx()))
  // ref = [2, 4]; honest - ref = [0, -2]
  assert.deepEqual([...out.weights], [2, 2004])
  assert.equal(out.seq, 7)
  const alone = one(await b.outgoing!(update(), ctx({ received: new Map() })))
  assert.deepEqual([...alone.weights], [-2000, -2000])
})

test('noise: honest + N(0, sigma^2)', async () => {
  const b = createBehaviour({ kind: 'noise', sigma: 5 }, { peers: 10, adversaries: 2 })!
  const u = update(); u.weights = new Float32Array(20000)
  const out = one(await b.outgoing!(u, ctx({ honest: new Float32Array(20000) })))
  let s = 0; for (const v of out.weights) s += v * v
  const sd = Math.sqrt(s / out.weights.length)
  assert.ok(sd > 4.8 && sd < 5.2, `sd ${sd}`)
})

test('ALIE: mean - z * std of the models it sees; default z from n and f', async () => {
  const b = createBehaviour({ kind: 'alie', z: 1 }, { peers: 10, adversaries: 2 })!
  const out = one(await b.outgoing!(update(), ctx()))
  // seen: [2,2],[1,3],[3,5] -> mean [2, 3.333], std [0.8165, 1.2472]
  assert.ok(Math.abs(out.weights[0] - (2 - 0.8165)) < 1e-3, 'expected Math.abs(out.weights[0] - (2 - 0.8165)) < 1e-3')
  assert.ok(Math.abs(out.weights[1] - (10 / 3 - 1.2472)) < 1e-3, 'expected Math.abs(out.weights[1] - (10 / 3 - 1.2472)) < 1e-3')
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-5, 'expected Math.abs(normalQuantile(0.975) - 1.959964) < 1e-5')
  // Baruch et al.: n = 50, f = 10 -> s = 16, z = Phi^-1(34/50) ~ 0.47
  assert.ok(Math.abs(alieZ(50, 10) - normalQuantile(34 / 50)) < 1e-12, 'expected Math.abs(alieZ(50, 10) - normalQuantile(34 / 50)) < 1e-12')
})

test('IPM: -epsilon * mean', async () => {
  const b = createBehaviour({ kind: 'ipm', epsilon: 0.5 }, { peers: 10, adversaries: 2 })!
  const out = one(await b.outgoing!(update(), ctx()))
  assert.ok(Math.abs(out.weights[0] + 1) < 1e-6, 'expected Math.abs(out.weights[0] + 1) < 1e-6')
  assert.ok(Math.abs(out.weights[1] + 5 / 3) < 1e-6, 'expected Math.abs(out.weights[1] + 5 / 3) < 1e-6')
})

test('dissensus: one envelope per neighbour, each pushed away from the mean, fresh sequence numbers', async () => {
  const b = createBehaviour({ kind: 'dissensus', epsilon: 1 }, { peers: 10, adversaries: 2 })!
  const out = await b.outgoing!(update(), ctx()) as OutgoingUpdate[]
  assert.equal(out.length, 2)
  assert.deepEqual(out.map((u) => u.to), [['b'], ['c']])
  assert.notEqual(out[0].seq, out[1].seq)
  // to b: x_b - (mean - x_b) = 2 x_b - mean
  assert.ok(Math.abs(out[0].weights[0] - (2 * 1 - 2)) < 1e-6, 'expected Math.abs(out[0].weights[0] - (2 * 1 - 2)) < 1e-6')
  assert.ok(Math.abs(out[1].weights[1] - (2 * 5 - 10 / 3)) < 1e-5, 'expected Math.abs(out[1].weights[1] - (2 * 5 - 10 / 3)) < 1e-5')
})

test('replay: honest first, then old envelopes again instead of new ones', async () => {
  const b = createBehaviour({ kind: 'replay' }, { peers: 10, adversaries: 2 })!
  assert.ok(!Array.isArray(await b.outgoing!(update(), ctx())), 'expected !Array.isArray(await b.outgoing!(update(), ctx()))')
  const old = { id: 'i', seq: 1, round: 0, kind: 0 as const, to: ['b'], bytes: Uint8Array.from([9, 9]) }
  const c = ctx({ sentLog: [old] })
  assert.deepEqual(await b.outgoing!(update(), c), [])
  await b.afterSend!(c)
  assert.deepEqual(c.sent.map(([p, bytes]) => [p, [...bytes]]), [['b', [9, 9]], ['c', [9, 9]]])
})

test('equivocation: two different envelopes with the same sequence number', async () => {
  const b = createBehaviour({ kind: 'equivocation' }, { peers: 10, adversaries: 2 })!
  const out = await b.outgoing!(update(), ctx()) as OutgoingUpdate[]
  assert.equal(out.length, 2)
  assert.equal(out[0].seq, out[1].seq)
  assert.notDeepEqual([...out[0].weights], [...out[1].weights])
})

test('label-flip works on data, not on messages', () => {
  assert.equal(createBehaviour({ kind: 'label-flip' }, { peers: 10, adversaries: 2 }), null)
  assert.equal(flipsLabels({ kind: 'label-flip' }), true)
  assert.equal(flipsLabels({ kind: 'ipm' }), false)
})

test('scale: every weight times the factor (default 1e29), still finite in float32', async () => {
  const b = createBehaviour({ kind: 'scale', factor: 1000 }, { peers: 10, adversaries: 1 })!
  const out = one(await b.outgoing!(update(), ctx()))
  assert.deepEqual([...out.weights], [2000, 2000], 'honest [2, 2] x 1000')
  const big = one(await createBehaviour({ kind: 'scale' }, { peers: 10, adversaries: 1 })!.outgoing!(update(), ctx()))
  assert.ok(big.weights.every((v) => Number.isFinite(v) && Math.abs(v / 2e29 - 1) < 1e-6), `default factor 1e29: ${big.weights[0]}`)
})

test('weight: the negated model claiming weight 1e30 and the largest uint32 example count', async () => {
  const b = createBehaviour({ kind: 'weight' }, { peers: 10, adversaries: 1 })!
  const out = one(await b.outgoing!(update(), ctx()))
  assert.equal(out.weight, 1e30, 'claimed mass')
  assert.equal(out.examples, 0xffff_ffff, 'the example count the header can carry')
  assert.deepEqual([...out.weights], [-2, -2], 'a wrong model')
  assert.equal(one(await createBehaviour({ kind: 'weight', value: 5 }, { peers: 10, adversaries: 1 })!.outgoing!(update(), ctx())).weight, 5, 'value sets the claim')
})

test('flood: perSecond x roundMs extra messages to every neighbour, fresh signed copies and a junk fraction', async () => {
  const sealed: number[] = []
  const c = ctx({ seal: async (fields) => { sealed.push(fields.seq); return { bytes: Uint8Array.from([fields.seq]), id: String(fields.seq) } }, sentLog: [{ id: 'i', seq: 7, round: 1, kind: 0, to: ['b'], bytes: new Uint8Array(32) }] })
  const b = createBehaviour({ kind: 'flood', perSecond: 30, junk: 0.5 }, { peers: 10, adversaries: 1, roundMs: 200 })!
  assert.ok(!Array.isArray(await b.outgoing!(update(), c)), 'the round\'s own update goes out unchanged')
  await b.afterSend!(c)
  // 30/s x 0.2 s = 6 messages, half junk, each to both neighbours
  assert.equal(c.sent.length, 12, `6 messages to each of 2 neighbours: ${c.sent.length}`)
  assert.deepEqual(sealed, [100, 101, 102], 'three valid copies, each with a fresh sequence number')
  const junk = c.sent.filter(([, bytes]) => bytes.length === 32)
  assert.equal(junk.length, 6, 'three junk messages the size of an envelope, to each neighbour')
  // the fraction of a message owed carries over: 7/s x 0.2 s = 1.4 a round: 1 sent (0.4 left), 1 (0.8), 2 (0.2)
  const slow = createBehaviour({ kind: 'flood', perSecond: 7 }, { peers: 10, adversaries: 1, roundMs: 200 })!
  const c2 = ctx({ neighbours: ['b'] })
  await slow.outgoing!(update(), c2)
  await slow.afterSend!(c2)
  assert.equal(c2.sent.length, 1, 'round 1: 1.4 owed, 1 sent')
  await slow.afterSend!(c2)
  assert.equal(c2.sent.length, 2, 'round 2: 1.8 owed, 1 sent')
  await slow.afterSend!(c2)
  assert.equal(c2.sent.length, 4, 'round 3: 2.2 owed, 2 sent')
})

const base = { peers: 10, rounds: 3, dataset: 'mnist', model: 'softmax' }

test('half-streams: the simulator refuses it by name (no streams in its transport), in a scenario and directly', async () => {
  const { parseScenario, ScenarioError } = await import('../../simulations/scenario.js')
  assert.throws(() => parseScenario({ ...base, adversaries: { fraction: 0.1, attack: { kind: 'half-streams', count: 64 } } }, 'x.yaml'),
    (e: Error) => e instanceof ScenarioError && /adversaries\.attack\.kind: half-streams needs streams/.test(e.message), 'a scenario with half-streams fails, naming the field')
  assert.throws(() => createBehaviour({ kind: 'half-streams', count: 4 }, { peers: 10, adversaries: 1 }), (e: Error) => e.name === 'ScenarioError' && /daemon only/.test(e.message), 'no simulator behaviour')
  const flood = parseScenario({ ...base, adversaries: { fraction: 0.1, attack: { kind: 'flood', perSecond: 50 } } }, 'y.yaml')
  assert.equal(flood.adversaries.attack.kind, 'flood', 'flood is a simulator attack')
})
