import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseScenario, ScenarioError } from '../../simulations/scenario.js'
import { evaluateGoals } from '../../simulations/goals.js'
import { figureOf, gapIntervals, marginNote, signalKept } from '../../simulations/intervals.js'
import { addSums, evenlySpaced } from '../../simulations/harness/resampled.js'
import { describeMetric } from '../../simulations/harness/peer-metric.js'
import { runScenario } from '../../simulations/run.js'
import { overridesFromFlags, type SimulateFlags } from '../../node/cli/commands/simulate.js'
import type { Results } from '../../simulations/results.js'

const sums = (point: Record<string, number>, resampled: Record<string, number[]>, index = -1): { index: number, count: number, point: Record<string, number>, resampled: Record<string, number[]> } =>
  ({ index, count: 1, point, resampled })

test('figures: intervals of a mean over sampled peers are centred on the all-peer mean; sums add in peer order', () => {
  const a = sums({ auc: 0.8 }, { auc: [0.78, 0.8, 0.82] }, 3)
  const b = sums({ auc: 0.7 }, { auc: [0.68, 0.7, 0.72] }, 1)
  const both = addSums([a, null, b])!
  assert.equal(both.count, 2, 'two models')
  assert.deepEqual(addSums([b, a]), both, 'the same sums whatever the order the worlds answer in')
  // sampled peers' mean 0.75; all peers' mean 0.76: the interval moves by 0.01
  const f = figureOf(both, { auc: 0.76, examples: 10 }, 1)
  assert.deepEqual(f.figure.metrics, { auc: 0.76 }, 'metrics from the all-peer mean, examples left out')
  assert.deepEqual(f.figure.intervals.auc, [0.74, 0.78], 'interval of the sampled means, shifted to the all-peer mean')
  assert.equal(figureOf(null, null).figure.intervals.auc, undefined, 'no sums, no interval')
  assert.deepEqual(evenlySpaced([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3), [0, 3, 6], 'evenly spaced peers')
})

test('signal kept and the paired gap: ratios resample by resample', () => {
  const net = figureOf(addSums([sums({ devianceExplained: 0.045, auc: 0.7 }, { devianceExplained: [0.04, 0.045, 0.05], auc: [0.69, 0.7, 0.71] })]), null, 1)
  const cen = figureOf(addSums([sums({ devianceExplained: 0.05, auc: 0.75 }, { devianceExplained: [0.045, 0.05, 0.055], auc: [0.74, 0.75, 0.76] })]), null, 1)
  const kept = signalKept(net, cen, 1)
  assert.equal(kept.value, 0.9, 'network keeps 90% of the explained deviance')
  assert.ok(kept.interval != null && Math.abs(kept.interval[0] - 0.04 / 0.045) < 1e-5 && Math.abs(kept.interval[1] - 0.05 / 0.055) < 1e-5, `paired ratios ${String(kept.interval)}`)
  const g = gapIntervals(net, cen, { name: 'auc', higherIsBetter: true }, 1)
  assert.ok(g.gap != null && Math.abs(g.gap[0] - 0.05 / 0.76) < 1e-5 && Math.abs(g.gap[1] - 0.05 / 0.74) < 1e-5, `gap interval ${String(g.gap)}`)
  assert.equal(marginNote(0.01, [0.002, 0.02], String) != null, true, 'a margin inside the interval gets a note')
  assert.equal(marginNote(0.01, [0.02, 0.03], String), null, 'an interval clear of the margin gets none')
})

test('goals: signal kept and the within-x goal say when their margin lies inside the interval', () => {
  const scenario = parseScenario({ peers: 6, rounds: 1, dataset: 'fremtpl2freq', model: 'poisson-glm', goals: { minSignalKept: 0.98, withinOfCentralized: 0.02 } })
  const results = (kept: number, keptIv: [number, number], gapIv: [number, number]): Results => ({
    metric: { name: 'poissonDeviance', higherIsBetter: false },
    decentralized: { mean: 0.2432, metrics: { devianceExplained: 0.045 } },
    centralized: { value: 0.242, metrics: { devianceExplained: 0.046 } },
    signalKept: kept,
    signalKeptInterval: keptIv,
    regions: null,
    details: { perPeer: [], variants: [], perRound: [], bootstrap: { resamples: 200, level: 0.95, intervalPeers: [], gapToCentralized: gapIv, ratioToCentralized: null } },
    maxRssMiB: 1
  }) as unknown as Results
  const byName = (gs: ReturnType<typeof evaluateGoals>): { kept: typeof gs[0], within: typeof gs[0] } =>
    ({ kept: gs.find((g) => g.goal.startsWith('signal kept'))!, within: gs.find((g) => g.goal.includes('within x'))! })
  const { kept, within } = byName(evaluateGoals(scenario, results(0.978, [0.96, 0.995], [0.001, 0.009])))
  assert.equal(kept.pass, false, '97.8% < 98%')
  assert.match(kept.measured, /97\.8%/, 'measured signal kept')
  assert.match(kept.note ?? '', /inside the 95% interval \[96\.0%, 99\.5%\]/, 'the 98% margin lies inside the interval')
  assert.equal(within.pass, true, '0.50% worse <= 2%')
  assert.equal(within.note, undefined, 'the gap interval is clear of 2%: no note')
  const { kept: clear, within: near } = byName(evaluateGoals(scenario, results(0.99, [0.985, 0.995], [0.01, 0.03])))
  assert.match(near.note ?? '', /2\.00% lies inside/, 'a gap interval around 2% makes the within goal undecided')
  assert.equal(clear.pass, true, '99% >= 98%')
  assert.equal(clear.note, undefined, 'interval above the margin: decided')
})

test('scenario metric: checked against the task; auc by default for binary labels', async () => {
  assert.deepEqual(await describeMetric(parseScenario({ peers: 2, rounds: 1, dataset: 'adult', model: 'logistic' })), { name: 'auc', higherIsBetter: true, task: 'binary' }, 'binary default: auc')
  assert.deepEqual(await describeMetric(parseScenario({ peers: 2, rounds: 1, dataset: 'fremtpl2freq', model: 'poisson-glm', metric: 'devianceExplained' })), { name: 'devianceExplained', higherIsBetter: true, task: 'count' }, 'count: deviance explained on request')
  await assert.rejects(describeMetric(parseScenario({ peers: 2, rounds: 1, dataset: 'mnist', model: 'softmax', metric: 'auc' })), (e: Error) => e.name === 'UnknownMetricError' && /multiclass/.test(e.message), 'mnist has no auc')
  assert.throws(() => parseScenario({ peers: 2, rounds: 1, dataset: 'mnist', model: 'softmax', metric: 'f1' }), (e: Error) => e instanceof ScenarioError && /metric/.test(e.message), 'an unknown metric names the field')
})

test('simulate flags: --local-steps, --batch-size and --metric become scenario fields', async () => {
  const o = await overridesFromFlags({ scenario: 'default', localSteps: 20, batchSize: 256, metric: 'logLoss' } as SimulateFlags)
  assert.deepEqual(o, { localSteps: 20, batchSize: 256, metric: 'logLoss' }, 'overrides from the flags')
})

test('FedAvg takes at least fedavgMinClients honest clients a round (all when fewer)', async () => {
  const factoryModule = new URL('./fixtures/averaging-peers.ts', import.meta.url).href
  const base = { name: 'fedavg-min', peers: 12, rounds: 2, dataset: 'none', model: 'none', adversaries: { fraction: 0.25, attack: { kind: 'sign-flip' as const, scale: 10 } } }
  const all = await runScenario(parseScenario(base), { workers: 0, factoryModule, variants: false })
  assert.equal(all.details.baselines.fedavg.clientsPerRound, 9, '10% of 9 honest peers would be 1; the minimum 10 caps at the 9 there are')
  const few = await runScenario(parseScenario({ ...base, baselines: { fedavgMinClients: 3 } }), { workers: 0, factoryModule, variants: false })
  assert.equal(few.details.baselines.fedavg.clientsPerRound, 3, 'a smaller minimum is honoured')
})

test('goals: the worst peer within x of centralized, and peak memory over the run and its variants', () => {
  const scenario = parseScenario({ peers: 6, rounds: 1, dataset: 'digits', model: 'mlp', goals: { withinOfCentralized: 0.03, worstWithinOfCentralized: 0.06, maxRssMiB: 4096 } })
  const results = (min: number, variantRss: Record<string, number>): Results => ({
    metric: { name: 'accuracy', higherIsBetter: true },
    decentralized: { mean: 0.97, min },
    centralized: { value: 0.989 },
    regions: null,
    details: { perPeer: [], variants: [], perRound: [], bootstrap: { resamples: 0, level: 0.95, intervalPeers: [], gapToCentralized: null, ratioToCentralized: null } },
    maxRssMiB: 1000,
    timing: { variantMaxRssMiB: variantRss }
  }) as unknown as Results
  const worstOf = (r: Results): ReturnType<typeof evaluateGoals>[0] => evaluateGoals(scenario, r).find((g) => g.goal.startsWith('worst honest peer'))!
  const memOf = (r: Results): ReturnType<typeof evaluateGoals>[0] => evaluateGoals(scenario, r).find((g) => g.goal.startsWith('peak memory'))!
  // 0.989 x 0.94 = 0.92966: 0.93 is 5.97% worse, 0.92 is 6.98% worse
  const near = worstOf(results(0.93, {}))
  assert.equal(near.pass, true, `worst peer 0.93 is within 6% of 0.989: ${near.measured}`)
  assert.match(near.measured, /5\.97% worse \(0\.93 vs 0\.989\)/, 'measured gap of the worst peer, not the mean')
  assert.equal(worstOf(results(0.92, {})).pass, false, 'worst peer 0.92 is 6.98% behind: fails the 6% goal')
  // lower-is-better metrics: the worst peer is the highest deviance
  const poisson = evaluateGoals(scenario, { ...results(0.26, {}), metric: { name: 'poissonDeviance', higherIsBetter: false }, centralized: { value: 0.25 } } as unknown as Results)
  assert.equal(poisson.find((g) => g.goal.startsWith('worst honest peer'))?.pass, true, 'deviance 0.26 vs 0.25 is 4% worse: within 6%')
  assert.equal(worstOf(results(Number.NaN, {})).pass, null, 'no worst peer: no verdict')
  assert.equal(memOf(results(0.93, { 'logistic-10k': 1200 })).pass, true, '1,000 and 1,200 MiB are within 4 GiB')
  const big = memOf(results(0.93, { 'logistic-10k': 5000 }))
  assert.equal(big.pass, false, "a variant's peak over 4 GiB fails the memory goal even when the run's is within it")
  assert.match(big.measured, /5000 MiB \(run 1000, logistic-10k 5000\)/, 'each run\'s peak shown')
  assert.throws(() => parseScenario({ peers: 6, rounds: 1, dataset: 'digits', model: 'mlp', goals: { worstWithinOfCentralized: 1.5 } }),
    (err: Error) => err.name === 'ScenarioError' && /goals\.worstWithinOfCentralized/.test(err.message), 'a worst-peer margin above 100% is refused, naming the field')
})
