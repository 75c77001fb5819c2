/**
 * Test helpers: a synthetic Poisson frequency data set (exposure offset, two factors and a numeric), split over
 * peers running rule glm-newton on real engines (sealed, signed envelopes on a memory network), with an
 * optional behaviour for one peer (an attacker) and optional privacy per peer.
 */
import { peerEngine, simulatedNetwork, MemoryStore, type PeerEngine, type Behaviour } from '../../protocol/engine/index.js'
import { createRng, type Rng } from '../../protocol/rng.js'
import { glmDesign, glmFamily, fitPooled, GlmNetworkLearner, type GlmDesign, type GlmRows } from '../../learning/glm/index.js'
import type { PeerPrivacy } from '../../learning/privacy/index.js'
import { MemoryNetwork, StepClock } from '../engine/helpers.js'

export interface SynthPeer { engine: PeerEngine, learner: GlmNetworkLearner }
export interface SynthWorld { net: MemoryNetwork, peers: SynthPeer[], design: GlmDesign, rows: GlmRows, pooled: ReturnType<typeof fitPooled> }

export function poisson (rng: Rng, mean: number): number {
  // Knuth's method (means here are below 5)
  const l = Math.exp(-mean)
  let k = 0; let p = rng.next()
  while (p > l) { k++; p *= rng.next() }
  return k
}

/** `rowsPerPeer` x `peers` rows of claims ~ Poisson(exposure exp(eta)), one factor of 3 levels, one of 2, a numeric. */
export function synthRows (peers: number, rowsPerPeer: number, seed = 'glm-synth'): { design: GlmDesign, rows: GlmRows } {
  const columns = [
    { name: 'claims', role: 'label', kind: 'count' }, { name: 'exposure', role: 'exposure' },
    { name: 'area', role: 'categorical', categories: ['A', 'B', 'C'] }, { name: 'fuel', role: 'categorical', categories: ['D', 'E'] },
    { name: 'age', role: 'numeric' }
  ]
  const featureNames = ['area=A', 'area=B', 'area=C', 'area=other', 'fuel=D', 'fuel=E', 'fuel=other', 'age']
  const design = glmDesign({ spec: { columns: columns as never }, featureNames })
  const rng = createRng(seed)
  const n = peers * rowsPerPeer
  const d = featureNames.length
  const x = new Float64Array(n * d)
  const y = new Float64Array(n)
  const offset = new Float64Array(n)
  for (let r = 0; r < n; r++) {
    const area = rng.int(3); const fuel = rng.int(2); const age = rng.normal()
    x[r * d + area] = 1; x[r * d + 4 + fuel] = 1; x[r * d + 7] = age
    const exposure = 0.2 + 0.8 * rng.next()
    offset[r] = Math.log(exposure)
    const eta = -1.5 + [0, 0.3, 0.6][area] + [0, -0.4][fuel] + 0.25 * age
    y[r] = poisson(rng, exposure * Math.exp(eta))
  }
  return { design, rows: { x, numFeatures: d, y, offset } }
}

export interface WorldOptions {
  peers: number
  rowsPerPeer: number
  /** glm-newton parameters besides the rule name. */
  averaging?: Record<string, unknown>
  /** Behaviour of peer 0 (the attacker). */
  attacker?: Behaviour
  privacy?: (index: number) => PeerPrivacy | undefined
  outDegree?: number
}

export function buildWorld (o: WorldOptions): SynthWorld {
  const { design, rows } = synthRows(o.peers, o.rowsPerPeer)
  const family = glmFamily('poisson')
  const total = rows.y.length
  const learners = Array.from({ length: o.peers }, (_, k) => {
    const own = Uint32Array.from({ length: total }, (_, r) => r).filter((r) => r % o.peers === k)
    return new GlmNetworkLearner({ design, family, rows: { ...rows, rows: own }, numExamples: own.length, schemaHash: 'ab'.repeat(32), privacy: o.privacy?.(k) })
  })
  const rng = createRng('glm-synth-net')
  const sim = simulatedNetwork({ members: o.peers, rng: rng.fork('net'), schemaHash: 'ab'.repeat(32), numParams: learners[0].numParams })
  const net = new MemoryNetwork()
  const clock = new StepClock()
  const peers = sim.members.map((m, i) => ({
    learner: learners[i],
    engine: peerEngine({ averaging: { rule: 'glm-newton', ...o.averaging } as never, localSteps: 1, evaluateEveryRounds: 0 })({
      transport: net.transport(m.key), learner: learners[i], store: new MemoryStore(), clock, rng: rng.fork(`peer-${i}`), envelopes: m.envelopes, metrics: null,
      behaviour: i === 0 ? o.attacker ?? null : null
    })
  }))
  return { net, peers, design, rows, pooled: fitPooled(design, family, rows) }
}

/** `count` rounds over fresh random out-neighbours each round (the simulator's s-random topology). */
export async function runRounds (w: SynthWorld, count: number, outDegree = 3): Promise<void> {
  const rng = createRng('glm-synth-topology')
  const keys = w.peers.map((p) => p.engine.self)
  for (let r = 0; r < count; r++) {
    keys.forEach((k) => w.net.neighbours.set(k, rng.sample(keys.filter((x) => x !== k), outDegree)))
    for (const p of w.peers) await p.engine.beginRound()
    await w.net.deliverAll()
    for (const p of w.peers) await p.engine.endRound()
  }
}

/** Largest |b_a - b_b| over honest peers (index >= `from`) and coefficients, against `ref` (a vector per design column). */
export function maxDiffFrom (w: SynthWorld, ref: ArrayLike<number | null>, from = 0): number {
  let worst = 0
  for (const p of w.peers.slice(from)) {
    const b = p.learner.coefficients()
    for (let j = 0; j < b.length; j++) {
      const r = ref[j]
      if (r != null && Number.isFinite(r)) worst = Math.max(worst, Number.isFinite(b[j]) ? Math.abs(b[j] - r) : Infinity)
    }
  }
  return worst
}
