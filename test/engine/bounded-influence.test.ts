/**
 * Bounded influence (issue #14): the engine core clips every received model around the receiver's own and clamps
 * sender-reported masses before any rule merges, so one member cannot move a receiver far, whatever the rule.
 * Each guard is shown by turning it off: the same attack then ruins the receiver.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AdaptiveRadius, clipToward, lowerMedian, redescendingRadius } from '../../protocol/averaging/bound.js'
import { createBehaviour } from '../../simulations/attacks/index.js'
import { AVERAGING_RULES, parseAveragingParams, type Behaviour } from '../../protocol/engine/index.js'
import { norm } from '../../protocol/averaging/vector.js'
import { complete } from '../averaging/graphs.js'
import { buildPeers, syncRound } from './setup.js'
import { loadScenario } from '../../simulations/scenario.js'
import { runScenario } from '../../simulations/run.js'

test('clipToward: within the radius unchanged (same array); beyond it, on the sphere of radius tau around self', () => {
  const self = Float32Array.of(1, 1)
  const near = Float32Array.of(1.5, 1)
  const kept = clipToward(self, near, 1)
  assert.ok(kept.weights === near && !kept.clipped, 'a model within tau is passed through')
  const far = clipToward(self, Float32Array.of(1, 1e29), 2)
  assert.ok(far.clipped, 'a model beyond tau is clipped')
  assert.deepEqual([...far.weights], [1, 3], 'x_self + tau * unit(x - x_self)')
  assert.ok(Math.abs(far.distance / 1e29 - 1) < 1e-6, `the unclipped distance is reported: ${far.distance}`)
})

test('adaptive radius: multiplier x lower median of each sender\'s latest distance, floor, cold start from the own norm', () => {
  assert.equal(lowerMedian([5, 1, 1e29]), 5, 'lower median of three')
  assert.equal(lowerMedian([2, 1e29]), 2, 'lower median of two is the smaller: one far sender of two cannot raise it')
  const r = new AdaptiveRadius({ multiplier: 2, floor: 0.5 })
  assert.equal(r.radius(() => 3), 6, 'cold start: multiplier x own norm')
  assert.equal(r.radius(() => 0), 0.5, 'cold start on a zero model: the floor')
  r.record('a', 1); r.record('b', 2); r.record('evil', 1e29)
  assert.equal(r.radius(() => 3), 4, '2 x lower median(1, 2, 1e29)')
  for (let i = 0; i < 10; i++) r.record('evil', 1e29)
  assert.equal(r.radius(() => 3), 4, 'one sender is one vote, however often it sends')
  assert.equal(new AdaptiveRadius({ radius: 7, multiplier: 2, floor: 0.5 }).radius(() => 3), 7, 'a fixed radius wins')
})

const scaled: Behaviour = { name: 'scale', outgoing: (u) => ({ ...u, weights: Float32Array.from(u.weights, (v) => v * 1e29) }) }

async function attacked (rule: string, clip: 'off' | undefined): Promise<{ worst: number, start: number, clipped: number, metric: number }> {
  const averaging = { rule, ...(rule === 'pairwise' ? { initiateProbability: 0.5 } : {}), ...(clip != null ? { clip } : {}) }
  const { net, peers } = buildPeers({ n: 5, dim: 4, graph: complete, init: { averaging, localSteps: 0, evaluateEveryRounds: 0 }, behaviours: new Map([[0, scaled]]) })
  const honest = peers.slice(1)
  const start = Math.max(...honest.map((p) => norm(p.learner.w)))
  for (let r = 0; r < 4; r++) await syncRound(net, peers)
  return {
    worst: Math.max(...honest.map((p) => norm(p.learner.w))),
    start,
    clipped: honest.reduce((s, p) => s + (p.engine.totals().bounded.CLIPPED ?? 0), 0),
    metric: honest.reduce((s, p) => s + (p.metrics.counters.get('murmur_engine_updates_bounded_total{reason=CLIPPED}') ?? 0), 0)
  }
}

// glm-newton gossips GLM statistics, not models: clipping would break their push-sum mass, so its bound is the
// statistics' own (decodeWorking: every value finite and at most maxStatistic, the row count at most
// maxExampleCount; MALFORMED otherwise), tested in glm-newton-rule.test.ts
const MODEL_RULES = AVERAGING_RULES.filter((r) => r !== 'glm-newton')

for (const rule of MODEL_RULES) {
  test(`${rule}: a model scaled by 1e29 is clipped by default (counted CLIPPED), and ruins the receivers with clip off`, async () => {
    const on = await attacked(rule, undefined)
    assert.ok(on.clipped > 0, `${rule}: the attacker's models are clipped (${on.clipped})`)
    assert.equal(on.metric, on.clipped, `${rule}: every clip is in the metric with its reason label`)
    assert.ok(on.worst < 10 * on.start, `${rule}: honest models stay near where they started: |x| ${on.start} -> ${on.worst}`)
    const off = await attacked(rule, 'off')
    assert.equal(off.clipped, 0, `${rule}: nothing is clipped with clip off`)
    assert.ok(off.worst > 1e20, `${rule}: with clip off the attack reaches an honest model: |x| ${off.worst}`)
  })
}

test('epidemic mean: a claimed weight of 1e30 is clamped to maxWeightRatio x own mass (WEIGHT_CLAMPED, EXAMPLES_CLAMPED)', async () => {
  const heavy: Behaviour = { name: 'heavy', outgoing: (u) => ({ ...u, weight: 1e30, examples: 0xffff_ffff }) }
  const run = async (maxWeightRatio: number): Promise<{ share: number, weight: number, examples: number }> => {
    const { net, peers } = buildPeers({ n: 2, dim: 3, graph: complete, init: { averaging: { rule: 'epidemic', fanout: 1, clip: 'off', maxWeightRatio }, localSteps: 0, evaluateEveryRounds: 0 }, behaviours: new Map([[0, heavy]]), examples: () => 100 })
    const [a, b] = peers
    a.learner.w = Float32Array.of(10, 10, 10)
    b.learner.w = Float32Array.of(0, 0, 0)
    await b.engine.init()
    await a.engine.beginRound()
    await net.deliverAll()
    await b.engine.endRound()
    const t = b.engine.totals().bounded
    return { share: b.learner.w[0] / 10, weight: t.WEIGHT_CLAMPED ?? 0, examples: t.EXAMPLES_CLAMPED ?? 0 }
  }
  const bounded = await run(2)
  assert.equal(bounded.weight, 1, 'the weight clamp is counted')
  assert.equal(bounded.examples, 1, 'the example count clamp is counted')
  assert.ok(Math.abs(bounded.share - 2 / 3) < 1e-6, `the sender counts twice the receiver, no more: share ${bounded.share}`)
  const loose = await run(1e12)
  assert.ok(loose.share > 0.999, `with the ratio loosened the claimed weight takes the merge over: share ${loose.share}`)
})

async function honestAccuracy (attack: Record<string, unknown> | null, bounds: Record<string, unknown> = {}): Promise<number> {
  const scenario = await loadScenario('default', {
    peers: 10,
    rounds: 10,
    rule: { rule: 'epidemic', fanout: 6, ...bounds },
    adversaries: attack == null ? { fraction: 0 } : { fraction: 1 / 10, attack },
    evaluation: { every: 10, curveRows: 300 },
    baselines: { centralized: false, localOnly: false, fedavg: false }
  })
  const r = await runScenario(scenario, { workers: 0, variants: false })
  assert.ok(r.decentralized.mean != null, 'the run reports the honest peers\' accuracy')
  return r.decentralized.mean
}

test('simulator, 10 peers, 1 attacker: with default bounded influence the honest mean stays within 2 points of the clean run; unbounded it collapses', async () => {
  const clean = await honestAccuracy(null)
  const scale = await honestAccuracy({ kind: 'scale', factor: 1e29 })
  const weight = await honestAccuracy({ kind: 'weight', value: 1e30 })
  assert.ok(Math.abs(scale - clean) <= 0.02, `scale x1e29: ${scale} vs clean ${clean}`)
  assert.ok(Math.abs(weight - clean) <= 0.02, `weight 1e30: ${weight} vs clean ${clean}`)
  const scaleOff = await honestAccuracy({ kind: 'scale', factor: 1e29 }, { clip: 'off' })
  const weightOff = await honestAccuracy({ kind: 'weight', value: 1e30 }, { clip: 'off', maxWeightRatio: 1e12, maxExampleCount: 1e12 })
  assert.ok(scaleOff < clean - 0.1, `clip off: the scaled model ruins the merge, ${scaleOff} vs clean ${clean}`)
  assert.ok(weightOff < 0.5, `clamps and clip off: the claimed weight takes every merge over, ${weightOff}`)
})

test('bound parameters: defaults in every rule, \'off\' and a fixed radius accepted, a bad one named', () => {
  for (const rule of MODEL_RULES) {
    const p = parseAveragingParams({ rule }) as unknown as Record<string, unknown>
    assert.deepEqual(p.clip, { multiplier: 1, floor: 1e-3, redescend: 4 }, `${rule}: adaptive clipping by default`)
    assert.equal(p.maxWeightRatio, 2, `${rule}: weight ratio bound by default`)
  }
  assert.equal((parseAveragingParams({ rule: 'epidemic', clip: 'off' }) as { clip: unknown }).clip, 'off', 'clip off')
  assert.deepEqual((parseAveragingParams({ rule: 'push-sum', clip: { radius: 5 } }) as { clip: unknown }).clip, { radius: 5, multiplier: 1, floor: 1e-3, redescend: 4 }, 'fixed radius')
  assert.throws(() => parseAveragingParams({ rule: 'epidemic', clip: { radius: -1 } }, 'network.json: averaging'),
    (e: Error) => e.name === 'InvalidAveragingParamsError' && /network\.json: averaging\.clip/.test(e.message), 'a bad radius is named')
  assert.throws(() => parseAveragingParams({ rule: 'epidemic', maxWeightRatio: 0.5 }), (e: Error) => /maxWeightRatio/.test(e.message), 'a ratio below 1 is named')
})

test('redescending radius: tau up to redescend x tau, then shrinking with the distance', () => {
  assert.equal(redescendingRadius(2, 5, 4), 2, 'within 4 radii: clipped to tau')
  assert.equal(redescendingRadius(2, 8, 4), 2, 'at the edge: tau (continuous)')
  assert.ok(Math.abs(redescendingRadius(2, 80, 4) - 0.2) < 1e-12, 'ten times the edge: a tenth of tau')
  assert.equal(redescendingRadius(2, 1e30, Infinity), 2, 'Infinity: plain clipping')
})

test('redescending clip: a negated model claiming weight 1e30 barely moves the honest peers; with plain clipping it drags them', async () => {
  // 5 epidemic peers on a complete graph, each training toward its own target around T (their mean); the rogue
  // (peer 0) sends the negation of its model at the clamped mass, far outside the honest spread. Error: the
  // honest peers' worst distance to T.
  const T = Float32Array.of(20, -10, 5, 15)
  const target = (i: number): Float32Array => Float32Array.from(T, (v, j) => v + 3 * Math.cos(i * 1.7 + j))
  const error = async (redescend: number, attack = true): Promise<number> => {
    const weight = attack ? createBehaviour({ kind: 'weight', value: 1e30 }, { peers: 5, adversaries: 1 })! : {}
    const { net, peers } = buildPeers({ n: 5, dim: 4, graph: complete, seed: 'redescend', init: { averaging: { rule: 'epidemic', fanout: 4, clip: { multiplier: 1, floor: 1e-3, redescend } }, localSteps: 1, evaluateEveryRounds: 0 }, behaviours: new Map([[0, weight]]), targets: target })
    peers.forEach((p) => { p.learner.lr = 0.3 })
    for (let r = 0; r < 40; r++) await syncRound(net, peers)
    return Math.max(...peers.slice(1).map((p) => Math.hypot(...p.learner.w.map((v, j) => v - T[j])))) / norm(T)
  }
  const clean = await error(4, false)
  const on = await error(4)
  const off = await error(1e12)
  assert.ok(on - clean < (off - clean) / 5, `worst honest relative error: clean ${clean.toFixed(4)}, attacked ${on.toFixed(4)} with the default redescend 4, ${off.toFixed(4)} with plain clipping`)
})
