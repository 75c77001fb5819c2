/** Builds N engines over a MemoryNetwork with real sealing and validation (simulatedNetwork). */
import { peerEngine, simulatedNetwork, MemoryStore, type PeerEngine, type PeerEngineInit, type Behaviour, type Envelopes } from '../../protocol/engine/index.js'
import { createRng } from '../../protocol/rng.js'
import type { PeerKey } from '../../protocol/interfaces.js'
import { MemoryNetwork, RecordingMetrics, StepClock, VectorLearner, waitFor } from './helpers.js'

export interface TestPeer { key: PeerKey, engine: PeerEngine, learner: VectorLearner, store: MemoryStore, metrics: RecordingMetrics, envelopes: Envelopes }

export function buildPeers (opts: {
  n: number
  dim: number
  graph: (n: number) => number[][]
  init: PeerEngineInit
  seed?: string
  examples?: (i: number) => number
  behaviours?: Map<number, Behaviour>
  targets?: (i: number) => Float32Array | null
}): { net: MemoryNetwork, peers: TestPeer[], clock: StepClock, keys: PeerKey[] } {
  const rng = createRng(opts.seed ?? 'engine')
  const sim = simulatedNetwork({ members: opts.n, rng: rng.fork('net'), schemaHash: 'ab'.repeat(32), numParams: opts.dim })
  const net = new MemoryNetwork()
  const keys = sim.members.map((m) => m.key)
  const g = opts.graph(opts.n)
  keys.forEach((k, i) => net.neighbours.set(k, g[i].map((j) => keys[j])))
  const clock = new StepClock()
  const vrng = rng.fork('values')
  const peers = sim.members.map((m, i) => {
    const learner = new VectorLearner(Float32Array.from({ length: opts.dim }, () => vrng.normal() * 10), opts.examples?.(i) ?? 100, opts.targets?.(i) ?? null)
    const store = new MemoryStore()
    const metrics = new RecordingMetrics()
    const engine = peerEngine(opts.init)({
      transport: net.transport(m.key), learner, store, clock, rng: rng.fork(`peer-${i}`), envelopes: m.envelopes, metrics,
      behaviour: opts.behaviours?.get(i) ?? null
    })
    return { key: m.key, engine, learner, store, metrics, envelopes: m.envelopes }
  })
  return { net, peers, clock, keys }
}

/** One synchronous round for all: begin all, deliver everything, end all. */
export async function syncRound (net: MemoryNetwork, peers: TestPeer[]): Promise<void> {
  for (const p of peers) await p.engine.beginRound()
  await net.deliverAll()
  for (const p of peers) await p.engine.endRound()
}

/** Starts the engine's daemon loop and waits until it has finished `rounds` rounds; the loop keeps running. */
export async function startAndWaitRounds (engine: PeerEngine, rounds: number): Promise<void> {
  let done = 0
  engine.addEventListener('round', () => { done++ })
  await engine.start()
  await waitFor(() => done >= rounds)
}

/** The averaging tests' helpers under the names the engine tests use. */
export { average as weightedAverage, maxAbsError as maxError } from '../averaging/graphs.js'
