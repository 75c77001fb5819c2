import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseScenario } from '../../simulations/scenario.js'
import { runScenario, writeOutputs } from '../../simulations/run.js'
import { summaryOf, renderTable } from '../../simulations/results.js'

const factoryModule = new URL('./fixtures/averaging-peers.ts', import.meta.url).href
const SUMMARY_KEYS = ['scenario', 'peers', 'rounds', 'seed', 'rule', 'metric', 'decentralized', 'centralized', 'localOnly',
  'fedavg', 'curve', 'bytesPerPeerPerRound', 'refused', 'wallSeconds', 'peerStepsPerSecond', 'maxRssMiB', 'signalKept', 'signalKeptInterval', 'convergence']

test('runScenario: baselines, variants, goals, results.json and report.html (light peers)', async () => {
  const scenario = parseScenario({
    name: 'orchestration',
    peers: 12,
    rounds: 4,
    dataset: 'none',
    model: 'none',
    adversaries: { fraction: 0.25, attack: { kind: 'sign-flip', scale: 1000 } },
    variants: [{ name: 'no-attack', adversaries: { fraction: 0 } }],
    goals: { minRatioToCentralized: 0.1, variantWithin: { variant: 'no-attack', points: 100 } }
  })
  const results = await runScenario(scenario, { workers: 0, factoryModule })
  const summary = summaryOf(results)
  assert.deepEqual(Object.keys(summary), SUMMARY_KEYS)
  assert.deepEqual(Object.keys(summary.decentralized), ['mean', 'min', 'p10', 'consensusDistance', 'metrics', 'intervals'], 'the old keys first, then every metric and its interval')
  assert.deepEqual(Object.keys(summary.metric), ['name', 'higherIsBetter'])
  assert.equal(summary.curve.length, 4)
  assert.deepEqual(Object.keys(summary.curve[0]), ['round', 'mean', 'min', 'p10'])
  assert.equal(summary.centralized.value, 0.9)
  assert.equal(typeof summary.localOnly.mean, 'number')
  assert.equal(typeof summary.fedavg.value, 'number')
  assert.ok(summary.refused.NORM_BOUND > 0, 'expected summary.refused.NORM_BOUND > 0')
  assert.equal(results.details.variants.length, 1)
  assert.deepEqual(results.details.variants[0].refused, {})
  assert.equal(results.details.goals.length, 2)
  assert.ok(results.details.goals.every((g) => g.pass === true), JSON.stringify(results.details.goals))
  // Attackers are left out of the honest peers' figures.
  assert.equal(results.details.perPeer.filter((p) => p.metric == null).length, 3)
  assert.match(renderTable(results), /decentralized/)

  const dir = await mkdtemp(join(tmpdir(), 'murmur-sim-'))
  try {
    const paths = await writeOutputs(results, dir)
    const json = JSON.parse(await readFile(paths.json, 'utf8'))
    for (const k of SUMMARY_KEYS) assert.ok(k in json, `results.json has ${k}`)
    const html = await readFile(paths.html, 'utf8')
    assert.match(html, /<canvas id="metric">/)
    assert.match(html, /<canvas id="consensus">/)
    assert.match(html, /<canvas id="bytes">/)
    assert.match(html, /<canvas id="refused">/)
    assert.ok(html.includes('Chart.register') || html.includes('Chart='), 'chart.js is inlined')
    assert.ok(!/<script src=/.test(html), 'self-contained')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  // Same seed: same results apart from timing fields.
  const again = await runScenario(scenario, { workers: 0, factoryModule })
  const stable = (r: typeof results): string => JSON.stringify({ ...summaryOf(r), wallSeconds: 0, peerStepsPerSecond: 0, maxRssMiB: 0, details: r.details })
  assert.equal(stable(again), stable(results))
})
