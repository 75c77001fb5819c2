import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRng } from '../../protocol/rng.js'
import { parseScenario } from '../../simulations/scenario.js'
import { runScenario, writeOutputs } from '../../simulations/run.js'
import { buildRegionReport, type RegionPeerFigures } from '../../simulations/regions.js'
import { evaluateGoals } from '../../simulations/goals.js'
import { renderTable, roundRecords, summaryOf, type Results } from '../../simulations/results.js'
import type { DecentralizedResult } from '../../simulations/harness/coordinator.js'

const fig = (index: number, region: string, exposure: number, dec: number, local: number, testPolicies = 100): RegionPeerFigures =>
  ({ index, region, policies: Math.round(exposure * 2), exposure, testPolicies, decentralized: dec, localOnly: local })

test('region report: groups peers by region, marks the smallest quarter by exposure, pools by test rows', () => {
  const peers = [
    fig(0, 'A', 500, 0.30, 0.31), fig(1, 'A', 500, 0.32, 0.33),
    fig(2, 'B', 800, 0.25, 0.26),
    fig(3, 'C', 40, 0.20, 0.40, 50),
    fig(4, 'D', 60, 0.27, 0.30, 150),
    fig(5, 'E', 700, 0.22, 0.21)
  ]
  const r = buildRegionReport([...peers].reverse(), { metric: 'poissonDeviance', higherIsBetter: false, column: 'Region' })
  assert.equal(r.evaluatedOn, 'region-test-rows')
  assert.deepEqual(r.regions.map((x) => x.region), ['C', 'D', 'E', 'B', 'A'], 'smallest exposure first')
  assert.deepEqual(r.regions.filter((x) => x.small).map((x) => x.region), ['C', 'D'], 'ceil(5 / 4) = 2 small regions')
  const a = r.regions.find((x) => x.region === 'A')!
  assert.equal(a.peers, 2)
  assert.equal(a.exposure, 1000)
  assert.ok(Math.abs((a.decentralized as number) - 0.31) < 1e-9, 'expected Math.abs((a.decentralized as number) - 0.31) < 1e-9')
  const c = r.regions.find((x) => x.region === 'C')!
  assert.ok(Math.abs((c.improvement as number) - 0.5) < 1e-9, 'lower is better: (local - network) / local')
  assert.equal(r.small.worstRegion, 'D')
  // Small regions pooled over their test rows: (0.2 x 50 + 0.27 x 150) / 200 vs (0.4 x 50 + 0.3 x 150) / 200.
  assert.ok(Math.abs((r.small.decentralized as number) - 0.2525) < 1e-9, 'expected Math.abs((r.small.decentralized as number) - 0.2525) < 1e-9')
  assert.ok(Math.abs((r.small.localOnly as number) - 0.325) < 1e-9, 'expected Math.abs((r.small.localOnly as number) - 0.325) < 1e-9')
  assert.ok((r.all.improvement as number) > 0, 'expected (r.all.improvement as number) > 0')
  assert.equal(r.all.worstRegion, 'E', 'E is worse in the network than alone')
  assert.ok((r.regions.find((x) => x.region === 'E')!.improvement as number) < 0, 'expected (r.regions.find((x) => x.region === \'E\')!.improvement as number) < 0')

  const acc = buildRegionReport([fig(0, 'A', 10, 0.9, 0.6), fig(1, 'B', 20, 0.8, 0.8)], { metric: 'accuracy', higherIsBetter: true, column: 'country' })
  assert.ok(Math.abs((acc.regions[0].improvement as number) - 0.5) < 1e-9, 'higher is better: (network - local) / local')
  assert.equal(acc.regions[1].improvement, 0)
})

test('goal smallRegionsBeatLocal: every small region must clear the threshold', () => {
  const scenario = parseScenario({ peers: 6, rounds: 1, dataset: 'mnist', model: 'softmax', goals: { smallRegionsBeatLocal: { minImprovement: 0.05, on: 'own' } } })
  const results = (regions: Results['regions']): Results => ({ metric: { name: 'poissonDeviance', higherIsBetter: false }, decentralized: { mean: 0.3 }, centralized: { value: 0.3 }, regions, details: { perPeer: [], variants: [], perRound: [] }, maxRssMiB: 1 }) as unknown as Results
  const ok = buildRegionReport([fig(0, 'A', 10, 0.2, 0.3), fig(1, 'B', 100, 0.3, 0.3), fig(2, 'C', 200, 0.3, 0.3), fig(3, 'D', 300, 0.3, 0.3)], { metric: 'poissonDeviance', higherIsBetter: false, column: 'Region' })
  const [g] = evaluateGoals(scenario, results(ok))
  assert.equal(g.pass, true, JSON.stringify(g))
  assert.match(g.measured, /least: A 33\.3%/)
  assert.match(g.goal, /own test rows/)
  const shared = evaluateGoals(parseScenario({ peers: 6, rounds: 1, dataset: 'mnist', model: 'softmax', goals: { smallRegionsBeatLocal: [{ minImprovement: 0.05 }, { minImprovement: 0, on: 'own' }] } }), results(ok))
  assert.equal(shared.length, 2)
  assert.match(shared[0].goal, /shared test split/)
  assert.equal(shared[0].pass, null, 'no shared-split figures in this report')
  assert.equal(shared[1].pass, true)
  const report = (b: number, a = 0.2): Results['regions'] => buildRegionReport([fig(0, 'A', 10, a, 0.3), fig(1, 'B', 20, b, 0.3), fig(2, 'C', 200, 0.3, 0.3), fig(3, 'D', 300, 0.3, 0.3), fig(4, 'E', 400, 0.3, 0.3)], { metric: 'poissonDeviance', higherIsBetter: false, column: 'Region' })
  assert.equal(evaluateGoals(scenario, results(report(0.29)))[0].pass, true, 'A and B small (2 of 5), pooled 18% better, both better')
  assert.equal(evaluateGoals(scenario, results(report(0.31)))[0].pass, false, 'B is small and worse in the network')
  assert.equal(evaluateGoals(scenario, results(report(0.29, 0.29)))[0].pass, false, 'pooled only 3.3% better')
  const [none] = evaluateGoals(scenario, results(null))
  assert.equal(none.pass, null)
})

test('goal smallRegionsBeatLocal minGainKept: the network against the centralized model\'s own gain over alone, shared split', () => {
  const scenario = parseScenario({ peers: 6, rounds: 1, dataset: 'mnist', model: 'softmax', goals: { smallRegionsBeatLocal: { minGainKept: 0.98, on: 'shared' } } })
  // A and B small (2 of 5); on the shared split each region's network and alone figures (sharedDecentralized, sharedLocalOnly)
  const sfig = (index: number, region: string, exposure: number, shared: number, sharedAlone: number): RegionPeerFigures =>
    ({ ...fig(index, region, exposure, 0.3, 0.3), sharedDecentralized: shared, sharedLocalOnly: sharedAlone })
  const report = (a: number, b: number): Results['regions'] => buildRegionReport([sfig(0, 'A', 10, a, 0.30), sfig(1, 'B', 20, b, 0.30), sfig(2, 'C', 200, 0.29, 0.3), sfig(3, 'D', 300, 0.29, 0.3), sfig(4, 'E', 400, 0.29, 0.3)], { metric: 'poissonDeviance', higherIsBetter: false, column: 'Region' })
  const results = (regions: Results['regions'], cen: number): Results => ({ metric: { name: 'poissonDeviance', higherIsBetter: false }, decentralized: { mean: 0.29 }, centralized: { value: cen }, regions, details: { perPeer: [], variants: [], perRound: [] }, maxRssMiB: 1 }) as unknown as Results
  // alone 0.30, centralized 0.291 (3% better), network 0.2912 on both: 0.0088 / 0.009 = 97.8% of the gain
  const [short] = evaluateGoals(scenario, results(report(0.2912, 0.2912), 0.291))
  assert.equal(short.pass, false, `97.8% kept is under 98%: ${JSON.stringify(short)}`)
  assert.match(short.measured, /^97\.8% \(network 2\.9% better than alone, centralized 3\.0%\)/, short.measured)
  const [met] = evaluateGoals(scenario, results(report(0.2910, 0.2911), 0.291))
  assert.equal(met.pass, true, `99.4% kept: ${JSON.stringify(met)}`)
  const [worse] = evaluateGoals(scenario, results(report(0.28, 0.301), 0.291))
  assert.equal(worse.pass, false, `pooled gain above the centralized one, but B is worse in the network than alone: ${JSON.stringify(worse)}`)
  const [noGain] = evaluateGoals(scenario, results(report(0.29, 0.29), 0.31))
  assert.equal(noGain.pass, null, 'the centralized model no better than alone: undecided, not a pass')
})

test('the last curve point uses the final models on the curve rows (onCurveRows) when the harness gives them', () => {
  const rec = (round: number, mean: number, onCurveRows?: { mean: number, min: number, p10: number }) => ({ round, peersActive: 2, peersOffline: 0, evaluated: true, mean, min: mean, p10: mean, consensusDistance: 1, relativeConsensusDistance: 1, bytesSent: 0, bytesReceived: 0, messagesLost: 0, messagesUnreachable: 0, messagesDropped: 0, refused: {}, partitioned: false, wallMs: 0, ...(onCurveRows != null ? { onCurveRows } : {}) })
  const run = { metric: { name: 'accuracy', higherIsBetter: true }, rounds: [rec(0, 0.5), rec(1, 0.9, { mean: 0.75, min: 0.7, p10: 0.71 })], final: [] } as unknown as DecentralizedResult
  const out = roundRecords(run)
  assert.equal(out[1].mean, 0.75)
  assert.equal(out[1].min, 0.7)
  assert.equal(out[1].p10, 0.71)
  assert.equal(out[0].mean, 0.5)
  assert.ok(!('onCurveRows' in out[1]), 'applied, not repeated in results.json')
  const plain = { ...run, rounds: [rec(0, 0.5), rec(1, 0.9)] } as unknown as DecentralizedResult
  assert.equal(roundRecords(plain)[1].mean, 0.9, 'without onCurveRows the record stays as it was')
})

/**
 * A synthetic Poisson data set in four regions of very different sizes, one true frequency model for all:
 * the tiny region's peer, alone, fits its few claims badly; in the network it learns from the others.
 */
async function syntheticRegions (dir: string): Promise<Record<string, unknown>> {
  const rng = createRng('regions-test')
  const sizes: Array<[string, number]> = [['North', 3000], ['South', 3000], ['East', 800], ['Isle', 200]]
  const beta = [0.9, -0.7, 0.5, -0.4, 0.3, 0.6]
  const lines = [`Region,${beta.map((_, j) => `X${j}`).join(',')},Exposure,ClaimNb`]
  for (const [region, n] of sizes) {
    for (let i = 0; i < n; i++) {
      const x = beta.map(() => rng.normal())
      const exposure = 0.2 + 0.8 * rng.next()
      const mu = exposure * Math.exp(-2.5 + x.reduce((s, v, j) => s + v * beta[j], 0))
      let k = 0; let p = Math.exp(-mu); let s = p; const u = rng.next()
      while (u > s && k < 4) { k++; p *= mu / k; s += p }
      lines.push(`${region},${x.map((v) => v.toFixed(4)).join(',')},${exposure.toFixed(3)},${k}`)
    }
  }
  const file = join(dir, 'regions.csv')
  await writeFile(file, lines.join('\n') + '\n')
  return {
    name: 'synthetic-regions',
    file,
    testFraction: 0.3,
    splitSeed: 5,
    columns: [
      { name: 'Region', role: 'partition' },
      ...[0, 1, 2, 3, 4, 5].map((j) => ({ name: `X${j}`, role: 'numeric', mean: 0, std: 1 })),
      { name: 'Exposure', role: 'exposure' },
      { name: 'ClaimNb', role: 'label', kind: 'count' }
    ]
  }
}

test('fremtpl-like region split with real peers: the small region is far better in the network; report shape; curve on the sample', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'murmur-regions-'))
  try {
    const dataset = await syntheticRegions(dir)
    const scenario = parseScenario({
      name: 'regions-test',
      seed: 3,
      peers: 4,
      rounds: 16,
      localSteps: 10,
      batchSize: 32,
      dataset,
      partition: { kind: 'by-key' },
      model: { type: 'poisson-glm', optimizer: { type: 'sgd', learningRate: 0.2 } },
      rule: { rule: 'epidemic', fanout: 3 },
      topology: { kind: 'complete' },
      evaluation: { every: 2, curveRows: 200 },
      baselines: { centralizedEpochs: 2, fedavg: false },
      goals: { smallRegionsBeatLocal: [{ minImprovement: 0.05 }, { minImprovement: 0.05, on: 'own' }] }
    })
    const results = await runScenario(scenario, { workers: 0 })
    // part 7: peers named by the region they hold (one peer per region here: no #k suffix)
    assert.deepEqual(results.details.perPeer.map((p) => p.name), ['East', 'Isle', 'North', 'South'], 'peers named by their region')
    // part 4: a count task's figures carry every metric, intervals and the signal kept
    const dm = results.decentralized.metrics ?? {}
    for (const k of ['poissonDeviance', 'devianceExplained', 'predictedOverObserved', 'gini']) assert.ok(Number.isFinite(dm[k]), `decentralized.metrics.${k}`)
    assert.ok(Math.abs(dm.predictedOverObserved - 1) < 0.3, `predicted/observed ${dm.predictedOverObserved} (a ratio of totals near 1)`)
    const civ = results.centralized.intervals?.devianceExplained
    const cde = results.centralized.metrics?.devianceExplained as number
    assert.ok(civ != null && civ[0] <= cde && cde <= civ[1], `centralized deviance explained ${cde} inside its interval ${String(civ)}`)
    assert.ok(results.signalKept != null && results.signalKept > 0.8 && results.signalKept < 1.2, `signal kept ${results.signalKept}`)
    const kiv = results.signalKeptInterval
    assert.ok(kiv != null && kiv[0] < kiv[1], `signal kept interval ${String(kiv)}`)
    assert.ok(results.localOnly.intervals?.poissonDeviance != null, 'local-only figure has intervals too')
    const r = results.regions
    assert.ok(r != null, 'a by-key partition gets a region report')
    assert.equal(r.column, 'Region')
    assert.equal(r.metric, 'poissonDeviance')
    assert.deepEqual(r.regions.slice(0, 2).map((x) => x.region), ['Isle', 'East'], 'smallest exposure first')
    assert.deepEqual(r.regions.slice(2).map((x) => x.region).sort(), ['North', 'South'])
    assert.deepEqual(r.regions.map((x) => x.small), [true, false, false, false])
    assert.equal(r.regions.reduce((s, x) => s + x.testPolicies, 0), 7000 - r.regions.reduce((s, x) => s + x.policies, 0), 'test rows of all regions = the test split')
    const isle = r.regions[0]
    assert.equal(isle.peers, 1)
    assert.ok((isle.localOnly as number) > (isle.decentralized as number), `Isle: network ${isle.decentralized} vs alone ${isle.localOnly}`)
    assert.ok((isle.improvement as number) >= 0.05, `Isle improvement ${isle.improvement}`)
    assert.deepEqual(Object.keys(r), ['column', 'metric', 'higherIsBetter', 'evaluatedOn', 'smallRule', 'regions', 'small', 'all'])
    assert.deepEqual(Object.keys(isle), ['region', 'peers', 'policies', 'exposure', 'testPolicies', 'small', 'decentralized', 'localOnly', 'improvement', 'sharedDecentralized', 'sharedLocalOnly', 'sharedImprovement'])
    // On the shared split the figures are the run's own per-peer figures.
    // One peer per region, in the order of the key values.
    const peerOf = (region: string): number => ['East', 'Isle', 'North', 'South'].indexOf(region)
    assert.equal(isle.sharedDecentralized, results.details.perPeer[peerOf('Isle')].metric)
    assert.equal(isle.sharedLocalOnly, results.details.perPeer[peerOf('Isle')].localOnly)
    const goals = results.details.goals.filter((g) => g.goal.startsWith('small regions'))
    assert.equal(goals.length, 2)
    assert.ok(goals.every((g) => g.pass === true), JSON.stringify(goals))
    assert.ok((isle.sharedImprovement as number) > 0.05, `Isle on the shared split: ${isle.sharedImprovement}`)
    // The summary (--json) keys are unchanged; the region report lives in results.json only.
    assert.ok(!('regions' in summaryOf(results)), 'expected !(\'regions\' in summaryOf(results))')
    assert.match(renderTable(results), /\* Isle/)
    // Curve: every point on the 200-row sample, the final figure on the whole test split.
    const last = results.curve.at(-1)!
    assert.equal(last.round, 15)
    assert.notEqual(last.mean, results.decentralized.mean, 'the last curve point is measured on the sample, not the whole split')
    const paths = await writeOutputs(results, dir)
    const json = JSON.parse(await readFile(paths.json, 'utf8'))
    assert.equal(json.regions.regions.length, 4)
    assert.match(await readFile(paths.html, 'utf8'), /<canvas id="regions">/)

    // With a sample as large as the test split, the last curve point is the final figure.
    const whole = await runScenario({ ...scenario, evaluation: { ...scenario.evaluation, every: 2, curveRows: 100000 } }, { workers: 0, baselines: false })
    assert.equal(whole.curve.at(-1)!.mean, whole.decentralized.mean)
    assert.equal(whole.regions, null, 'no baselines: no local-only models to compare with')
    // Deterministic: same scenario and seed, same region report (here with a worker thread).
    const again = await runScenario(scenario, { workers: 1 })
    assert.deepEqual(again.regions, results.regions)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('a variant that trains another model gets its own centralized baseline and goal; one that changes the rule does not', async () => {
  const factoryModule = new URL('./fixtures/averaging-peers.ts', import.meta.url).href
  const scenario = parseScenario({
    name: 'variant-baselines',
    peers: 6,
    rounds: 2,
    dataset: 'none',
    model: 'none',
    variants: [{ name: 'other-model', model: 'other' }, { name: 'other-rule', rule: { rule: 'epidemic', fanout: 2 } }],
    goals: { variantWithinOfCentralized: { variant: 'other-model', within: 0.5 } }
  })
  const results = await runScenario(scenario, { workers: 0, factoryModule })
  const [model, rule] = results.details.variants
  assert.deepEqual(model.centralized, { value: 0.9, epochs: 1 })
  assert.equal(rule.centralized, undefined)
  const [goal] = results.details.goals
  assert.match(goal.goal, /other-model/)
  assert.equal(typeof goal.pass, 'boolean')
  assert.match(goal.measured, /vs 0\.9\)/)
  assert.equal(results.regions, null, 'an iid partition has no region report')
  assert.match(renderTable(results), /its centralized/)
})
