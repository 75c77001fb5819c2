/**
 * The exact GLM over the network: rule glm-newton over real engines (sealed, signed, validated envelopes on a
 * memory network) with GlmNetworkLearner peers, against the pooled fit and R's glm (fixture).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { peerEngine, simulatedNetwork, MemoryStore, parseAveragingParams, type PeerEngine } from '../../protocol/engine/index.js'
import { createRng } from '../../protocol/rng.js'
import { glmDesign, glmFamily, fitPooled, computeStats, fitFromNetworkVector, summarizeGlm, formatGlmSummary, GlmNetworkLearner, type GlmDesign, type GlmFamily, type GlmRows } from '../../learning/glm/index.js'
import { MemoryNetwork, StepClock } from '../engine/helpers.js'
import { randomRegular, ring, type Graph } from '../averaging/graphs.js'
import { encodeCase, fixtureCase } from './glm-fixture.js'

interface GlmPeer { engine: PeerEngine, learner: GlmNetworkLearner }
interface Built { net: MemoryNetwork, peers: GlmPeer[], pooled: ReturnType<typeof fitPooled>, names: readonly string[], design: GlmDesign, family: GlmFamily }

/** n engines, peer k holding rows r with r % n === k, on `graph`. */
function buildGlmPeers (caseName: string, n: number, graph: Graph, averaging: { rule: 'glm-newton', phases: number[], [k: string]: unknown }): Built {
  const c = fixtureCase(caseName)
  const { columns, featureNames, rows } = encodeCase(c)
  const design = glmDesign({ spec: { columns: columns as never }, featureNames })
  const family = glmFamily(c.family, { power: c.power ?? undefined })
  const pooled = fitPooled(design, family, rows)
  const total = rows.y.length
  const learners = Array.from({ length: n }, (_, k) => {
    const own = Uint32Array.from({ length: total }, (_, r) => r).filter((r) => r % n === k)
    const peerRows: GlmRows = { ...rows, rows: own }
    return new GlmNetworkLearner({ design, family, rows: peerRows, numExamples: own.length, schemaHash: 'cd'.repeat(32) })
  })
  const rng = createRng(`glm-net:${caseName}`)
  const sim = simulatedNetwork({ members: n, rng: rng.fork('net'), schemaHash: 'cd'.repeat(32), numParams: learners[0].numParams })
  const net = new MemoryNetwork()
  sim.members.forEach((m, i) => net.neighbours.set(m.key, graph[i].map((j) => sim.members[j].key)))
  const clock = new StepClock()
  const peers = sim.members.map((m, i) => ({
    learner: learners[i],
    engine: peerEngine({ averaging: averaging as never, localSteps: 1, evaluateEveryRounds: 0 })({
      transport: net.transport(m.key), learner: learners[i], store: new MemoryStore(), clock, rng: rng.fork(`peer-${i}`), envelopes: m.envelopes, metrics: null
    })
  }))
  return { net, peers, pooled, names: design.names, design, family }
}

/** Rounds; with `outDegree`, fresh random out-neighbours every round (the simulator's s-random topology). */
async function rounds (net: MemoryNetwork, peers: GlmPeer[], count: number, outDegree?: number): Promise<void> {
  const rng = createRng('topology')
  const keys = [...net.neighbours.keys()]
  for (let r = 0; r < count; r++) {
    if (outDegree != null) keys.forEach((k) => net.neighbours.set(k, rng.sample(keys.filter((x) => x !== k), outDegree)))
    for (const p of peers) await p.engine.beginRound()
    await net.deliverAll()
    for (const p of peers) await p.engine.endRound()
  }
}

/** Largest |beta_peer - beta_pooled| over peers and identifiable coefficients. */
function maxDiff (peers: GlmPeer[], pooled: ReturnType<typeof fitPooled>): number {
  let worst = 0
  for (const p of peers) {
    const b = p.learner.coefficients()
    for (let j = 0; j < b.length; j++) if (pooled.aliased[j] === 0) worst = Math.max(worst, Math.abs(b[j] - pooled.coefficients[j]))
  }
  return worst
}

test('glm-newton parameters: uniform push-sum weights, clipping off by default, the statistics bound on, fanout all', () => {
  assert.deepEqual(parseAveragingParams({ rule: 'glm-newton' }), { rule: 'glm-newton', weighting: 'uniform', clip: 'off', maxExampleCount: 1e6, maxWeightRatio: 2, maxStatistic: 1e15, bound: { scoreRatio: 16, scaleRatio: 100 }, phases: [3, 5, 5, 5, 5, 7], track: false, fanout: 'all' }, 'defaults')
  assert.throws(() => parseAveragingParams({ rule: 'glm-newton', phases: [] }), (e: Error) => e.name === 'InvalidAveragingParamsError' && /phases/.test(e.message), 'empty phases refused')
})

const PHASES = [3, 6, 6, 6, 16]

test('10 peers (4 random out-neighbours a round) reach the pooled fit of R\'s Insurance Poisson GLM (offset); the exported table matches R', async () => {
  const { net, peers, pooled, names, design, family } = buildGlmPeers('insurance-poisson-offset', 10, randomRegular(10, 4, createRng('g10')), { rule: 'glm-newton', phases: PHASES })
  await rounds(net, peers, 37, 4)
  const d = maxDiff(peers, pooled)
  assert.ok(d < 1e-4, `max coefficient difference from the pooled fit ${d}`)
  const c = fixtureCase('insurance-poisson-offset')
  // murmur export --format glm: the table from one peer's vector (its estimate times the 10 peers)
  const s = summarizeGlm(fitFromNetworkVector(design, family, peers[3].engine.weights(), 10), design.references)
  c.names.forEach((name, k) => {
    const row = s.coefficients.find((x) => x.name === name)
    assert.ok(row != null, `${name} in the table`)
    assert.ok(Math.abs(row.estimate - c.estimate[k]!) < 1e-4, `${name}: estimate ${row.estimate} vs R ${c.estimate[k]}`)
    assert.ok(Math.abs(row.stdError - c.stdError[k]!) / c.stdError[k]! < 1e-3, `${name}: std. error ${row.stdError} vs R ${c.stdError[k]}`)
    assert.ok(Math.abs(row.relativity - Math.exp(c.estimate[k]!)) < 1e-4, `${name}: relativity`)
  })
  // the table's deviance is the push-sum estimate (at the last evaluation); the fit's own deviance is R's
  assert.ok(Math.abs(s.deviance - c.deviance) / c.deviance < 1e-3, `estimated deviance ${s.deviance} vs R ${c.deviance}`)
  assert.ok(Math.abs(s.nullDeviance - c.nullDeviance) / c.nullDeviance < 1e-3, `null deviance ${s.nullDeviance} vs R ${c.nullDeviance}`)
  const { rows } = encodeCase(c)
  const exact = computeStats(design, family, rows, peers[3].learner.coefficients(), 0).deviance
  assert.ok(Math.abs(exact - c.deviance) / c.deviance < 5e-6, `deviance of the network's coefficients ${exact} vs R ${c.deviance} (5 significant digits)`)
  assert.equal(s.dfResidual, c.dfResidual, 'residual df from the summed row count')
  assert.ok(Math.abs(s.ratio - 1) < 1e-3, `predicted / observed ${s.ratio}`)
  assert.match(formatGlmSummary(s), /Residual deviance/, 'printed like R')
  const refused = peers.reduce((sum, p) => sum + Object.values(p.engine.totals().refused).reduce((a: number, b) => a + (b ?? 0), 0), 0)
  assert.equal(refused, 0, 'no honest statistics refused')
  void names
})

test('binomial with trials (esoph), 8 peers, converges to the pooled fit', async () => {
  const { net, peers, pooled } = buildGlmPeers('esoph-binomial-trials', 8, ring(8), { rule: 'glm-newton', phases: [3, 6, 6, 6, 6, 6, 16] })
  await rounds(net, peers, 49, 3)
  const d = maxDiff(peers, pooled)
  assert.ok(d < 1e-3, `max coefficient difference from the pooled fit ${d}`)
})
