/**
 * `npm run bench -- averaging`: consensus rate of each averaging rule on a ring and on a random 4-regular
 * expander of 100 peers (pure averaging, training off), merge throughput of the robust merges at 100k params x
 * 16 inputs, and the engine's per-round cost with real sealing and validation.
 *
 * Keys:
 *  - `<rule>.<ring|expander>.roundsTo1e-3`: rounds until the consensus distance (root of the summed squared
 *    distances to the mean) falls to 1e-3 of its initial value (null if not within the cap).
 *  - `<rule>.<ring|expander>.contraction`: geometric mean per-round factor of that distance (lower is faster).
 *  - `merge.<mean|median|trimmedMean|clipped>MBps`: input megabytes (16 x 100k float32) merged per second.
 *  - `engine.epidemic100kPeerRoundsPerSecond`: peer-rounds per second of 16 engines, 100k params, fanout 3,
 *    training off, real sealing and validation (float32 codec), in-memory transport.
 */
import type { BenchValue } from '../bench.ts'
import {
  pairwiseMean, PushSumNode, combine, metropolisHastingsWeight, weightedMean, coordinateMedian, trimmedMean, clippedGossip
} from '../../protocol/averaging/index.js'
import { createRng, type Rng } from '../../protocol/rng.js'
import { peerEngine, simulatedNetwork, MemoryStore } from '../../protocol/engine/index.js'
import type { Incoming, Learner, PeerKey, RefusalReason } from '../../protocol/interfaces.js'

export const name = 'averaging'

type Graph = number[][]

function ring (n: number): Graph { return Array.from({ length: n }, (_, i) => [(i + n - 1) % n, (i + 1) % n]) }
function expander (n: number, rng: Rng): Graph {
  const g: Graph = Array.from({ length: n }, () => [])
  for (let c = 0; c < 2; c++) {
    const perm = rng.shuffle(Array.from({ length: n }, (_, i) => i))
    for (let i = 0; i < n; i++) {
      const a = perm[i]; const b = perm[(i + 1) % n]
      if (!g[a].includes(b)) { g[a].push(b); g[b].push(a) }
    }
  }
  return g
}

function spread (xs: ArrayLike<number>[]): number {
  const dim = xs[0].length
  const mean = new Float64Array(dim)
  for (const x of xs) for (let i = 0; i < dim; i++) mean[i] += x[i] / xs.length
  let s = 0
  for (const x of xs) for (let i = 0; i < dim; i++) s += (x[i] - mean[i]) ** 2
  return Math.sqrt(s)
}

type Rule = 'pairwise' | 'push-sum' | 'epidemic' | 'dpsgd'

/** One round of each rule on plain vectors; returns the estimates after the round. */
function simulate (rule: Rule, g: Graph, x0: Float64Array[], rng: Rng, maxRounds: number): { rounds: number | null, contraction: number } {
  const n = g.length
  let xs: Float64Array[] = x0.map((x) => x.slice())
  const ps = rule === 'push-sum' ? x0.map((x) => new PushSumNode(x, 1)) : []
  const d0 = spread(xs)
  let last = d0
  let r = 0
  for (r = 1; r <= maxRounds; r++) {
    switch (rule) {
      case 'pairwise': // n random activations per round (Boyd's asynchronous model)
        for (let k = 0; k < n; k++) {
          const i = rng.int(n); const j = g[i][rng.int(g[i].length)]
          const m = pairwiseMean(xs[i], 1, xs[j], 1, new Float64Array(xs[i].length))
          xs[i] = m; xs[j] = m.slice()
        }
        break
      case 'push-sum': {
        const inbox: Array<Array<{ z: Float64Array, weight: number }>> = Array.from({ length: n }, () => [])
        for (let i = 0; i < n; i++) {
          const [share] = ps[i].split(1)
          inbox[g[i][rng.int(g[i].length)]].push(share)
        }
        inbox.forEach((msgs, i) => { for (const m of msgs) ps[i].absorb(m) })
        xs = ps.map((p) => p.estimate())
        break
      }
      case 'epidemic': {
        const inbox: Float64Array[][] = Array.from({ length: n }, () => [])
        for (let i = 0; i < n; i++) for (const j of rng.sample(g[i], 3)) inbox[j].push(xs[i])
        xs = xs.map((x, i) => Float64Array.from(combine({ weights: x, mass: 1 }, inbox[i].map((w) => ({ weights: w, mass: 1 })),
          { merge: 'mean', trimBeta: 0.2, clipRadius: 'adaptive', clipFraction: 0.2 }).merged))
        break
      }
      case 'dpsgd':
        xs = xs.map((x, i) => {
          const out = new Float64Array(x.length)
          let self = 1
          for (const j of g[i]) {
            const w = metropolisHastingsWeight(g[i].length, g[j].length)
            self -= w
            for (let k = 0; k < x.length; k++) out[k] += w * xs[j][k]
          }
          for (let k = 0; k < x.length; k++) out[k] += self * x[k]
          return out
        })
        break
    }
    last = spread(xs)
    if (last / d0 <= 1e-3) return { rounds: r, contraction: Math.pow(last / d0, 1 / r) }
  }
  return { rounds: null, contraction: Math.pow(last / d0, 1 / maxRounds) }
}

function timeIt (fn: () => void, minMs: number): number {
  fn() // warm up
  let reps = 0
  const t0 = performance.now()
  let t = t0
  while (t - t0 < minMs) { fn(); reps++; t = performance.now() }
  return (t - t0) / reps
}

class NoTrainLearner implements Learner {
  readonly schemaHash = 'cd'.repeat(32)
  constructor (public w: Float32Array) {}
  get numParams (): number { return this.w.length }
  numExamples (): number { return 100 }
  async train (steps: number): Promise<{ steps: number, loss: number, examples: number }> { return { steps, loss: 0, examples: 100 } }
  weights (): Float32Array { return this.w }
  setWeights (w: Float32Array): void { this.w = w }
  async evaluate (): Promise<Record<string, number>> { return {} }
}

async function engineBench (peers: number, numParams: number, rounds: number): Promise<number> {
  const rng = createRng('bench-engine')
  const sim = simulatedNetwork({ members: peers, rng, schemaHash: 'cd'.repeat(32), numParams })
  const handlers = new Map<PeerKey, (m: Incoming) => Promise<RefusalReason | null>>()
  const queue: Array<{ to: PeerKey, m: Incoming }> = []
  const keys = sim.members.map((m) => m.key)
  const engines = sim.members.map((m, i) => peerEngine({
    averaging: { rule: 'epidemic', fanout: 3 }, localSteps: 0, evaluateEveryRounds: 0, logEnvelopeBytes: false, checkpointOnMerge: false
  })({
    transport: {
      self: m.key, maxAnnounceBytes: 1 << 16, neighbours: () => keys,
      send: async (to, bytes) => { queue.push({ to, m: { from: m.key, bytes, via: 'direct' } }) },
      announce: async () => {}, onMessage: (h) => { handlers.set(m.key, h) }
    },
    learner: new NoTrainLearner(Float32Array.from({ length: numParams }, () => rng.normal())),
    store: new MemoryStore({ maxLogEntries: 100 }),
    clock: { now: () => 0, sleep: async () => {} },
    rng: rng.fork(i),
    envelopes: m.envelopes
  }))
  for (const e of engines) await e.init()
  const t0 = performance.now()
  for (let r = 0; r < rounds; r++) {
    for (const e of engines) await e.beginRound()
    while (queue.length > 0) { const d = queue.shift(); if (d != null) await handlers.get(d.to)?.(d.m) }
    for (const e of engines) await e.endRound()
  }
  return (peers * rounds) / ((performance.now() - t0) / 1000)
}

export async function run ({ quick }: { quick: boolean }): Promise<Record<string, BenchValue>> {
  const out: Record<string, BenchValue> = {}
  const n = 100
  const dim = quick ? 4 : 16
  const rng = createRng('bench-averaging')
  const x0 = Array.from({ length: n }, () => Float64Array.from({ length: dim }, () => rng.normal()))
  const graphs: Record<string, Graph> = { ring: ring(n), expander: expander(n, rng.fork('expander')) }
  for (const rule of ['pairwise', 'push-sum', 'epidemic', 'dpsgd'] as const) {
    for (const [gname, g] of Object.entries(graphs)) {
      const cap = gname === 'ring' ? (quick ? 2_000 : 12_000) : 2_000
      const r = simulate(rule, g, x0, rng.fork(`${rule}-${gname}`), cap)
      out[`${rule}.${gname}.roundsTo1e-3`] = r.rounds
      out[`${rule}.${gname}.contraction`] = Number(r.contraction.toFixed(6))
    }
  }
  // merge throughput
  const params = quick ? 20_000 : 100_000
  const m = 16
  const inputs = Array.from({ length: m }, () => Float32Array.from({ length: params }, () => rng.normal()))
  const mb = (m * params * 4) / 1e6
  const minMs = quick ? 200 : 1_000
  out['merge.params'] = params
  out['merge.inputs'] = m
  out['merge.meanMBps'] = Number((mb / (timeIt(() => weightedMean(inputs), minMs) / 1000)).toFixed(1))
  out['merge.medianMBps'] = Number((mb / (timeIt(() => coordinateMedian(inputs), minMs) / 1000)).toFixed(1))
  out['merge.trimmedMeanMBps'] = Number((mb / (timeIt(() => trimmedMean(inputs, 0.2), minMs) / 1000)).toFixed(1))
  out['merge.clippedMBps'] = Number((mb / (timeIt(() => clippedGossip(inputs[0], 1, inputs.slice(1), inputs.slice(1).map(() => 1), { adaptive: 0.2 }), minMs) / 1000)).toFixed(1))
  out['engine.epidemic100kPeerRoundsPerSecond'] = Number((await engineBench(16, quick ? 20_000 : 100_000, quick ? 2 : 5)).toFixed(1))
  return out
}
