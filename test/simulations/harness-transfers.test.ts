import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseScenario } from '../../simulations/scenario.js'
import { Simulation, separateTransfers, type DecentralizedResult } from '../../simulations/harness/coordinator.js'
import type { WireMessage } from '../../simulations/world.js'

const factoryModule = new URL('./fixtures/averaging-peers.ts', import.meta.url).href

const msg = (to: number, bytes: Uint8Array, at = 1): WireMessage => ({ to, from: 0, seq: to, at, via: 0, bytes })

test('separateTransfers: an array travels in one list only; sharing inside a list is kept', () => {
  const a = new Uint8Array([1, 2, 3])
  const b = new Uint8Array([4, 5])
  const inbound = [[msg(0, a), msg(1, a), msg(2, b)], [msg(3, a), msg(4, a)], [msg(5, b)]]
  const held = [[msg(6, b, 99)], [], []]
  separateTransfers(inbound, held)
  const owners = new Map<ArrayBufferLike, string>()
  inbound.forEach((list, w) => { for (const m of list) { const o = owners.get(m.bytes.buffer); assert.ok(o == null || o === `w${w}`, `buffer in w${w} and ${o}`); owners.set(m.bytes.buffer, `w${w}`) } })
  for (const m of held.flat()) assert.equal(owners.get(m.bytes.buffer), undefined, 'a held message keeps its own array')
  assert.equal(inbound[1][0].bytes, inbound[1][1].bytes, 'one copy per array and world')
  assert.deepEqual(Array.from(inbound[1][0].bytes), [1, 2, 3])
  assert.deepEqual(Array.from(inbound[0][2].bytes), [4, 5])
  assert.equal(held[0][0].bytes, b)
})

test('separateTransfers: a note (the sender environment\'s, with typed arrays) travels in one list only, like bytes', () => {
  const a = new Uint8Array([1, 2, 3])
  const note = { result: { weights: Float32Array.of(0.5, 1.5) } }
  const heldNote = { result: { weights: Float32Array.of(7) } }
  const withNote = (to: number, n: object, at = 1): WireMessage => ({ ...msg(to, a, at), note: n })
  const inbound = [[withNote(0, note), withNote(1, note)], [withNote(2, note), withNote(3, heldNote)]]
  const held = [[withNote(4, heldNote, 99)], []]
  separateTransfers(inbound, held)
  assert.equal(inbound[0][0].note, note)
  assert.equal(inbound[0][1].note, note, 'sharing inside a list is kept')
  assert.notEqual(inbound[1][0].note, note, 'another world gets its own copy')
  assert.deepEqual(inbound[1][0].note, note)
  assert.notEqual(inbound[1][1].note, heldNote, 'a held message keeps its own note')
  assert.equal(held[0][0].note, heldNote)
})

async function run (workers: number): Promise<DecentralizedResult> {
  const scenario = parseScenario({
    seed: 3,
    peers: 18,
    rounds: 4,
    dataset: 'none',
    model: 'none',
    topology: { kind: 's-random', s: 4 },
    network: { loss: 0.05, latency: { dist: 'lognormal', medianMs: 40, sigma: 0.8, minMs: 5 } },
    stragglers: { fraction: 0.2, slowdown: 3 }
  })
  const sim = await Simulation.create(scenario, { workers, factoryModule })
  try { return await sim.run() } finally { await sim.close() }
}

test('three worker threads (an envelope reaches several worlds): the same results as in this thread', async () => {
  const strip = (r: DecentralizedResult): string => JSON.stringify({ rounds: r.rounds.map(({ wallMs, ...rest }) => rest), final: r.final, counters: r.counters })
  const local = await run(0)
  const three = await run(3)
  assert.equal(three.workers, 3)
  assert.ok(local.counters.some(([, c]) => c.bytesReceived > 0), 'expected local.counters.some(([, c]) => c.bytesReceived > 0)')
  assert.equal(strip(three), strip(local))
})
