import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PlateauRule, RoundBudget } from '../../simulations/harness/plateau.js'
import { parseScenario } from '../../simulations/scenario.js'
import { runScenario } from '../../simulations/run.js'

/** The index (0-based) of the evaluation at which the rule first says stop, or null. */
function stopAt (rule: PlateauRule, metric: Array<number | null>, consensus: Array<number | null>): number | null {
  for (let i = 0; i < metric.length; i++) if (rule.observe(metric[i], consensus[i])) return i
  return null
}

const flatCd = (n: number): number[] => Array.from({ length: n }, () => 0.1)

test('plateau rule: stops after `patience` evaluations without a gain beyond minDelta', () => {
  const rule = new PlateauRule({ patience: 3, minDelta: 0.01, consensusMinDelta: 0.05, higherIsBetter: true })
  // gains of 0.1 until the 4th value, then gains of 0.003 (0.009 in all: below minDelta): stale from index 4 on
  const metric = [0.5, 0.6, 0.7, 0.8, 0.803, 0.806, 0.809, 0.812]
  assert.equal(stopAt(rule, metric, flatCd(8)), 6, 'three sub-minDelta gains after the last real one stop the run')
})

test('plateau rule: many small gains add up (the best moves only on a counted gain)', () => {
  const rule = new PlateauRule({ patience: 3, minDelta: 0.01, consensusMinDelta: 0.05, higherIsBetter: true })
  // +0.006 each: every second evaluation is 0.012 above the last counted best, so the run never stalls 3 times
  const metric = Array.from({ length: 20 }, (_, i) => 0.5 + 0.006 * i)
  assert.equal(stopAt(rule, metric, flatCd(20)), null, 'a steady slow climb is still learning')
})

test('plateau rule: lower-is-better metrics, and a consensus distance still shrinking keeps the run going', () => {
  const loss = new PlateauRule({ patience: 2, minDelta: 0.01, consensusMinDelta: 0.05, higherIsBetter: false })
  assert.equal(stopAt(loss, [1, 0.9, 0.8, 0.85, 0.9], flatCd(5)), 4, 'a rising loss is no improvement')
  const pulling = new PlateauRule({ patience: 2, minDelta: 0.01, consensusMinDelta: 0.05, higherIsBetter: true })
  const cd = [1, 0.9, 0.8, 0.7, 0.6, 0.59, 0.585, 0.58]
  assert.equal(stopAt(pulling, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], cd), 6, 'the metric stalls at once; the run waits for the consensus distance (drops under 5% from index 5)')
  const missing = new PlateauRule({ patience: 2, minDelta: 0, consensusMinDelta: 0, higherIsBetter: true })
  assert.equal(stopAt(missing, [null, null], [null, null]), 1, 'missing values are no improvement')
  assert.throws(() => new PlateauRule({ patience: 0, minDelta: 0, consensusMinDelta: 0, higherIsBetter: true }), { name: 'RangeError' }, 'patience >= 1')
})

test('round budget: the round after the plateau is the last; without untilConverged the cap', () => {
  const budget = new RoundBudget(50, { patience: 2, minDelta: 0.01, consensusMinDelta: 0.05 }, true)
  const metric = [0.5, 0.6, 0.6, 0.6]
  for (let r = 0; r <= budget.lastRound; r++) {
    budget.afterRound(r, { evaluated: true, mean: metric[Math.min(r, 3)], relativeConsensusDistance: 0.1 })
  }
  assert.equal(budget.lastRound, 4, 'plateau completed at round 3 (metric and consensus stale twice), final round 4')
  assert.deepEqual(budget.summary(5), { cap: 50, roundsRun: 5, stoppedBy: 'plateau', plateauAt: 3, untilConverged: { patience: 2, minDelta: 0.01, consensusMinDelta: 0.05 } }, 'summary')
  const plain = new RoundBudget(7, null, true)
  for (let r = 0; r <= plain.lastRound; r++) plain.afterRound(r, { evaluated: true, mean: 0.5, relativeConsensusDistance: 0.1 })
  assert.equal(plain.lastRound, 6, 'no rule: the cap')
  assert.equal(plain.summary(7).stoppedBy, 'cap', 'stopped by the cap')
})

const factoryModule = new URL('./fixtures/averaging-peers.ts', import.meta.url).href

test('untilConverged: an easy problem stops before the cap, and the baselines train for the rounds run', async () => {
  const base = { name: 'easy', peers: 8, rounds: 150, localSteps: 3, dataset: 'none', model: 'none', evaluation: { every: 1, resamples: 0 } }
  const scenario = parseScenario({ ...base, untilConverged: { patience: 3, minDelta: 0.001 } })
  const results = await runScenario(scenario, { workers: 0, factoryModule })
  const c = results.convergence
  assert.equal(c.stoppedBy, 'plateau', `the light peers settle within the cap: ${JSON.stringify(c)}`)
  assert.ok(c.roundsRun < 150, `stopped before the cap (${c.roundsRun} rounds)`)
  assert.equal(results.rounds, c.roundsRun, 'rounds says the rounds run')
  assert.equal(c.roundsRun, (c.plateauAt as number) + 2, 'one final round after the plateau')
  assert.equal(results.details.perRound.length, c.roundsRun, 'one record per round run')
  assert.equal(results.details.baselines.localOnly.steps, c.roundsRun * 3, 'local-only trains the steps the network did')
  assert.equal(results.details.baselines.fedavg.curve.at(-1)?.round, c.roundsRun - 1, 'FedAvg runs as many rounds')
  assert.equal(results.details.trainingSteps, c.roundsRun * 3 * 8, 'peer steps counted for the rounds run')
  const capped = await runScenario(parseScenario({ ...base, rounds: 12 }), { workers: 0, factoryModule })
  assert.deepEqual(capped.convergence, { cap: 12, roundsRun: 12, stoppedBy: 'cap', plateauAt: null }, 'without untilConverged every round runs')
})

test('untilConverged is validated by name', () => {
  const base = { peers: 4, rounds: 3, dataset: 'none', model: 'none' }
  assert.deepEqual(parseScenario({ ...base, untilConverged: true }).untilConverged, { patience: 5, minDelta: 0.001, consensusMinDelta: 0.05 }, 'true takes the defaults')
  assert.throws(() => parseScenario({ ...base, untilConverged: { patience: 0 } }), (e: Error) => e.name === 'ScenarioError' && /untilConverged\.patience/.test(e.message), 'patience >= 1, named')
  assert.throws(() => parseScenario({ ...base, untilConverged: { patiense: 2 } }), (e: Error) => e.name === 'ScenarioError' && /untilConverged.*patiense/.test(e.message), 'unknown field named')
  assert.throws(() => parseScenario({ ...base, transport: 'libp2p', untilConverged: true }), (e: Error) => e.name === 'ScenarioError' && /libp2p/.test(e.message), 'not with libp2p')
})

test('murmur simulate --until-converged: real peers on an easy problem stop before the cap; --no-until-converged runs every round', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'murmur-until-'))
  try {
    // 4 peers, iid sklearn digits, softmax, complete graph: settles within a few dozen rounds
    const file = join(dir, 'easy.json')
    await writeFile(file, JSON.stringify({
      name: 'easy', peers: 4, rounds: 300, localSteps: 2, batchSize: 16, dataset: 'digits', partition: 'iid', model: 'softmax',
      rule: { rule: 'epidemic', fanout: 3 }, topology: { kind: 'complete' }, evaluation: { every: 1, curveRows: 100, resamples: 0 }
    }))
    const root = new URL('../../', import.meta.url).pathname
    const cli = (...args: string[]): { rounds: number, convergence: { cap: number, roundsRun: number, stoppedBy: string } } => {
      const r = spawnSync(process.execPath, ['bin/murmur.js', 'simulate', '--scenario', file, '--workers', '0', '--no-baselines', '--json', '--out', join(dir, 'out'), ...args], { cwd: root, encoding: 'utf8' })
      assert.equal(r.status, 0, r.stderr)
      return JSON.parse(r.stdout)
    }
    const until = cli('--until-converged', 'patience=3,minDelta=0.005')
    assert.equal(until.convergence.stoppedBy, 'plateau', `stopped by the plateau rule: ${JSON.stringify(until.convergence)}`)
    assert.ok(until.convergence.roundsRun < 100, `well before the cap of 300 (${until.convergence.roundsRun} rounds)`)
    assert.equal(until.rounds, until.convergence.roundsRun, 'the summary says the rounds run')
    await writeFile(file.replace('easy.json', 'set.json'), JSON.stringify({ name: 'set', peers: 4, rounds: 4, dataset: 'digits', model: 'softmax', untilConverged: { patience: 1, minDelta: 1 } }))
    const r = spawnSync(process.execPath, ['bin/murmur.js', 'simulate', '--scenario', join(dir, 'set.json'), '--no-until-converged', '--workers', '0', '--no-baselines', '--json', '--out', join(dir, 'out2')], { cwd: root, encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout).convergence, { cap: 4, roundsRun: 4, stoppedBy: 'cap', plateauAt: null }, '--no-until-converged turns the scenario\'s rule off')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
