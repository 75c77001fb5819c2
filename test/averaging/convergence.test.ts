/**
 * Pure averaging (training off), seeded: mass conservation and exact convergence of pairwise and push-sum on
 * random graphs of 50 to 200 peers; push-sum on directed, asynchronous and changing links; under message
 * loss (plain push-sum is biased, running sums stay exact); consensus decays faster on an expander than a ring.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  pairwiseMean, PushSumNode, RunningSumsNode, metropolisHastingsWeight, type PushSumShare
} from '../../protocol/averaging/index.js'
import { createRng, type Rng } from '../../protocol/rng.js'
import {
  average, connectedRandom, directedRandom, maxAbsError, randomRegular, randomVectors, ring, type Graph
} from './graphs.js'

const DIM = 8

function massOf (xs: Float64Array[], weights: number[]): Float64Array {
  const m = new Float64Array(DIM)
  xs.forEach((x, k) => { for (let i = 0; i < DIM; i++) m[i] += weights[k] * x[i] })
  return m
}

function relativeChange (a: Float64Array, b: Float64Array): number {
  let num = 0; let den = 0
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += a[i] ** 2 }
  return Math.sqrt(num) / Math.sqrt(den)
}

for (const n of [50, 200]) {
  test(`pairwise (Boyd 2006): ${n} peers on a random graph conserve mass and reach the exact example-weighted average`, () => {
    const rng = createRng(`pairwise-${n}`)
    const g = connectedRandom(n, 4 / n, rng)
    const xs = randomVectors(n, DIM, rng, 10)
    const examples = Array.from({ length: n }, () => 1 + rng.int(1000))
    const target = average(xs, examples)
    const mass0 = massOf(xs, examples)
    let steps = 0
    while (maxAbsError(xs, target) > 1e-6 && steps < 2_000_000) {
      const i = rng.int(n)
      const j = g[i][rng.int(g[i].length)]
      const m = pairwiseMean(xs[i], examples[i], xs[j], examples[j], new Float64Array(DIM))
      xs[i] = m; xs[j] = m.slice()
      steps++
    }
    assert.ok(relativeChange(mass0, massOf(xs, examples)) <= 1e-6, 'mass conserved')
    assert.ok(maxAbsError(xs, target) <= 1e-5, `max error ${maxAbsError(xs, target)} after ${steps} exchanges`)
  })
}

interface InFlight { to: number, share: PushSumShare, at: number }

/** Runs push-sum rounds; `outNeighbours(i, round)` gives i's out-links; delays in rounds; loss probability. */
function runPushSum (nodes: PushSumNode[], rounds: number, rng: Rng, outNeighbours: (i: number, round: number) => number[],
  opts: { maxDelay?: number, loss?: number } = {}): { inFlight: InFlight[], lostWeight: number } {
  let inFlight: InFlight[] = []
  let lostWeight = 0
  const drain = (r: number): void => {
    const keep: InFlight[] = []
    for (const m of inFlight) { if (m.at <= r) nodes[m.to].absorb(m.share); else keep.push(m) }
    inFlight = keep
  }
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < nodes.length; i++) {
      const outs = outNeighbours(i, r)
      const targets = [outs[rng.int(outs.length)]]
      const shares = nodes[i].split(targets.length)
      targets.forEach((t, k) => {
        if (opts.loss != null && rng.next() < opts.loss) { lostWeight += shares[k].weight; return }
        inFlight.push({ to: t, share: shares[k], at: r + (opts.maxDelay != null ? rng.int(opts.maxDelay + 1) : 0) })
      })
    }
    drain(r)
  }
  return { inFlight, lostWeight }
}

function pushSumMass (nodes: PushSumNode[], inFlight: InFlight[]): { x: Float64Array, w: number } {
  const x = new Float64Array(DIM); let w = 0
  for (const nd of nodes) { for (let i = 0; i < DIM; i++) x[i] += nd.x[i]; w += nd.w }
  for (const m of inFlight) { for (let i = 0; i < DIM; i++) x[i] += m.share.z[i] * m.share.weight; w += m.share.weight }
  return { x, w }
}

test('push-sum: 100 peers, directed random graph, asynchronous delays: mass conserved, exact weighted average', () => {
  const rng = createRng('push-sum-directed')
  const n = 100
  const g = directedRandom(n, 3, rng)
  const xs = randomVectors(n, DIM, rng, 10)
  const examples = Array.from({ length: n }, () => 1 + rng.int(500))
  const target = average(xs, examples)
  const nodes = xs.map((x, i) => new PushSumNode(x, examples[i]))
  const m0 = pushSumMass(nodes, [])
  const { inFlight } = runPushSum(nodes, 400, rng, (i) => g[i], { maxDelay: 3 })
  const m1 = pushSumMass(nodes, inFlight)
  assert.ok(relativeChange(m0.x, m1.x) <= 1e-6, `numerator mass changed by ${relativeChange(m0.x, m1.x)}`)
  assert.ok(Math.abs(m1.w - m0.w) / m0.w <= 1e-6, 'weight mass conserved')
  for (const m of inFlight) nodes[m.to].absorb(m.share) // deliver what is still in flight
  const err = maxAbsError(nodes.map((nd) => nd.estimate()), target)
  assert.ok(err <= 1e-5, `max error ${err}`)
})

test('push-sum: 200 peers, links that change every round (time-varying, directed): exact average', () => {
  const rng = createRng('push-sum-changing')
  const n = 200
  const xs = randomVectors(n, DIM, rng, 10)
  const target = average(xs)
  const nodes = xs.map((x) => new PushSumNode(x, 1))
  const m0 = pushSumMass(nodes, [])
  // each round a fresh random out-neighbour set (a new directed graph every round)
  const { inFlight } = runPushSum(nodes, 300, rng, () => [rng.int(n), rng.int(n), rng.int(n)].filter((v, k, a) => a.indexOf(v) === k))
  const m1 = pushSumMass(nodes, inFlight)
  assert.ok(relativeChange(m0.x, m1.x) <= 1e-6, 'mass conserved')
  const err = maxAbsError(nodes.map((nd) => nd.estimate()), target)
  assert.ok(err <= 1e-5, `max error ${err}`)
})

test('push-sum under 10% message loss: plain push-sum agrees on a biased value (measured); running sums stay exact', (t) => {
  const n = 100
  const rngA = createRng('loss')
  const g = directedRandom(n, 3, rngA)
  const xs = randomVectors(n, DIM, rngA, 10)
  const target = average(xs)
  // plain push-sum
  const plain = xs.map((x) => new PushSumNode(x, 1))
  const { lostWeight } = runPushSum(plain, 400, createRng('loss-plain'), (i) => g[i], { loss: 0.1 })
  const est = plain.map((nd) => nd.estimate())
  const agreed = average(est)
  const spread = maxAbsError(est, agreed)
  const bias = maxAbsError([agreed], target)
  t.diagnostic(`plain push-sum, 10% loss, 400 rounds: spread ${spread.toExponential(2)}, bias ${bias.toExponential(2)} (coordinates ~N(0,100)), weight lost ${lostWeight.toFixed(1)} of ${n}`)
  assert.ok(spread < 1e-6, 'plain push-sum still reaches agreement')
  assert.ok(bias > 1e-3, 'plain push-sum is biased under loss (if this fails, the loss model is broken)')
  // running sums
  const rng = createRng('loss-running')
  const nodes = xs.map((x, i) => new RunningSumsNode(i, x, 1))
  for (let r = 0; r < 400; r++) {
    const sent = nodes.flatMap((nd) => nd.send([g[nd.id][rng.int(g[nd.id].length)]]))
    for (const { to, message } of sent) if (rng.next() >= 0.1) nodes[to].receive(message)
  }
  const err = maxAbsError(nodes.map((nd) => nd.estimate()), target)
  t.diagnostic(`running-sums push-sum, 10% loss: max error ${err.toExponential(2)}`)
  assert.ok(err <= 1e-5, `running sums max error ${err}`)
})

/** Synchronous Metropolis-Hastings gossip (dpsgd without training): rounds until distance/initial <= eps. */
function roundsToConsensus (g: Graph, xs0: Float64Array[], eps: number, maxRounds: number): number {
  let xs = xs0.map((x) => x.slice())
  const mean = average(xs)
  const dist = (v: Float64Array[]): number => Math.sqrt(v.reduce((s, x) => s + x.reduce((a, xi, i) => a + (xi - mean[i]) ** 2, 0), 0))
  const d0 = dist(xs)
  for (let r = 1; r <= maxRounds; r++) {
    xs = xs.map((x, i) => {
      const out = new Float64Array(DIM)
      let self = 1
      for (const j of g[i]) {
        const w = metropolisHastingsWeight(g[i].length, g[j].length)
        self -= w
        for (let k = 0; k < DIM; k++) out[k] += w * xs[j][k]
      }
      for (let k = 0; k < DIM; k++) out[k] += self * x[k]
      return out
    })
    if (dist(xs) / d0 <= eps) return r
  }
  return Infinity
}

test('consensus distance decays faster on a random 4-regular expander than on a ring of 100 peers', (t) => {
  const rng = createRng('spectral')
  const n = 100
  const xs = randomVectors(n, DIM, rng)
  const expander = roundsToConsensus(randomRegular(n, 4, rng), xs, 1e-3, 20_000)
  const ringRounds = roundsToConsensus(ring(n), xs, 1e-3, 20_000)
  t.diagnostic(`rounds to 1e-3 relative consensus distance: expander ${expander}, ring ${ringRounds}`)
  assert.ok(Number.isFinite(expander), 'expander converges')
  assert.ok(expander * 10 < ringRounds, `expander ${expander} should be far faster than ring ${ringRounds}`)
})
