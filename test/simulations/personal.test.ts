import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRng } from '../../protocol/rng.js'
import { parseScenario } from '../../simulations/scenario.js'
import { runScenario, writeOutputs } from '../../simulations/run.js'
import { renderTable } from '../../simulations/results.js'
import { extrasOf } from '../../simulations/report/extras.js'
import { buildPersonalReport, normalCritical, personalGoal } from '../../simulations/personal.js'
import type { PersonalPeerFigures } from '../../simulations/harness/personal-task.js'

const figures = (net: number, personal: number, local: number, vsNet: number, vsLocal: number, halfWidth: number): PersonalPeerFigures['own'] =>
  ({ rows: 100, network: net, localOnly: local, personal, vsNetwork: { mean: vsNet, halfWidth }, vsLocalOnly: { mean: vsLocal, halfWidth } })
const peer = (index: number, region: string | null, z: number, own: PersonalPeerFigures['own']): PersonalPeerFigures =>
  ({ index, region, mode: 'parameters', z, loss: 'poissonDeviance', validation: { rows: 20, network: 0.3, localOnly: 0.3, personal: 0.3, canTell: true }, own, shared: own })

test('personalBeatsLocal: every peer within the paired interval of both models; a clear loss fails it', () => {
  const options = { metric: 'poissonDeviance', higherIsBetter: false, validationFraction: 0.2 }
  // lower is better; vs* are personal minus the other as improvements (positive: personal better)
  const ok = buildPersonalReport([{ ownRows: 'region test rows', peers: [peer(1, 'B', 0, figures(0.30, 0.30, 0.32, 0, 0.02, 0.001)), peer(0, 'A', 0.4, figures(0.31, 0.305, 0.306, 0.005, -0.001, 0.002))] }], options)
  assert.ok(ok != null, 'a report from two peers')
  assert.deepEqual(ok.perPeer.map((p) => p.index), [0, 1], 'peers in index order')
  assert.deepEqual(ok.perRegion?.map((r) => r.region), ['A', 'B'], 'one row per region')
  assert.equal(ok.all.atNetwork, 1, 'peer 1 kept the network model')
  const pass = personalGoal(ok, true)
  assert.equal(pass.pass, true, `0.001 worse than local-only within its 0.002 half-width: ${pass.measured}`)
  assert.match(pass.measured, /vs network 2 of 2/, 'counts both peers')
  const bad = buildPersonalReport([{ ownRows: 'region test rows', peers: [peer(0, 'A', 1, figures(0.30, 0.33, 0.33, -0.03, 0, 0.01))] }], options)
  const fail = personalGoal(bad, true)
  assert.equal(fail.pass, false, 'worse than the network model by 3 half-widths')
  assert.match(fail.measured, /vs network 0 of 1/, 'the failing side is named')
  assert.equal(personalGoal(bad, { tolerance: 0.2 }).pass, true, 'a 10% shortfall within a stated 20% tolerance')
  assert.equal(personalGoal(null, true).pass, null, 'no personal section: not measured')
  assert.ok(Math.abs(normalCritical(0.05) - 1.96) < 0.001, 'the two-sided 95% critical value')
  // peer 7 worse than its network model by 2.5 standard errors (SE 0.01): outside its own 95% interval, inside
  // the family's over 2 x 50 comparisons (critical value 3.48); by 4, outside both
  const many = (se: number): ReturnType<typeof buildPersonalReport> => buildPersonalReport([{ ownRows: 'shared split', peers: Array.from({ length: 50 }, (_, i) => peer(i, null, 0, figures(0.30, 0.30 + (i === 7 ? se * 0.01 : 0), 0.32, -(i === 7 ? se * 0.01 : 0), 0.02, 0.0196))) }], options)
  assert.equal(personalGoal(many(2.5), true).pass, false, '2.5 standard errors worse: outside the per-peer 95% interval')
  assert.match(personalGoal(many(2.5), { familyWise: true }).measured, /outside their own 95% 1/, 'the per-peer count is still shown')
  assert.equal(personalGoal(many(2.5), { familyWise: true }).pass, true, 'inside the family-wise interval of 100 comparisons')
  assert.equal(personalGoal(many(4), { familyWise: true }).pass, false, '4 standard errors worse fails even family-wise')
  // AUC figures: a comparison whose interval is the variance bound is counted; a peer without an own AUC is not judged
  const bounded = { rows: 9, network: 0.9, localOnly: 0.7, personal: 0.9, vsNetwork: { mean: 0, halfWidth: 0 }, vsLocalOnly: { mean: 0.2, halfWidth: 2.1, bounded: true } }
  const noAuc = { rows: 8, network: null, localOnly: null, personal: null, vsNetwork: null, vsLocalOnly: null }
  const auc = buildPersonalReport([{ ownRows: 'region test rows', peers: [peer(0, 'A', 0, bounded), peer(1, 'B', 0, noAuc)] }], { metric: 'auc', higherIsBetter: true, validationFraction: 0.2 })
  assert.equal(auc?.perPeer[0].own.vsLocalOnly?.bounded, true, 'the bound flag survives the rounding')
  const g = personalGoal(auc, true)
  assert.match(g.measured, /1 comparison\(s\) on own rows with a single row of a class/, `bounded intervals are counted: ${g.measured}`)
  assert.match(g.measured, /1 peer\(s\) without their auc on own rows/, 'the peer without an own AUC is named apart')
  assert.equal(g.pass, true, 'the judged peer passes')
})

/**
 * Four regions with one claim-frequency model, except that North's policies claim twice as often: North's
 * peer has enough rows to see it, so its own experience earns credibility there; the tiny Isle's does not.
 */
async function regionsWithOneApart (dir: string): Promise<Record<string, unknown>> {
  const rng = createRng('personal-test')
  const sizes: Array<[string, number, number]> = [['North', 4000, Math.log(2)], ['South', 4000, 0], ['Isle', 300, 0]]
  const beta = [0.6, -0.5, 0.4]
  const lines = [`Region,${beta.map((_, j) => `X${j}`).join(',')},Exposure,ClaimNb`]
  for (const [region, n, shift] of sizes) {
    for (let i = 0; i < n; i++) {
      const x = beta.map(() => rng.normal())
      const exposure = 0.2 + 0.8 * rng.next()
      const mu = exposure * Math.exp(-1.8 + shift + x.reduce((s, v, j) => s + v * beta[j], 0))
      let k = 0; let p = Math.exp(-mu); let s = p; const u = rng.next()
      while (u > s && k < 5) { k++; p *= mu / k; s += p }
      lines.push(`${region},${x.map((v) => v.toFixed(4)).join(',')},${exposure.toFixed(3)},${k}`)
    }
  }
  const file = join(dir, 'regions.csv')
  await writeFile(file, lines.join('\n') + '\n')
  return {
    name: 'personal-regions',
    file,
    testFraction: 0.3,
    splitSeed: 5,
    columns: [
      { name: 'Region', role: 'partition' },
      ...beta.map((_, j) => ({ name: `X${j}`, role: 'numeric', mean: 0, std: 1 })),
      { name: 'Exposure', role: 'exposure' },
      { name: 'ClaimNb', role: 'label', kind: 'count' }
    ]
  }
}

test('personal models in a region split: the region apart leans on its own experience, every peer at least as good on its own rows', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'murmur-personal-'))
  try {
    const scenario = parseScenario({
      name: 'personal-test',
      seed: 4,
      peers: 3,
      rounds: 16,
      localSteps: 10,
      batchSize: 64,
      dataset: await regionsWithOneApart(dir),
      partition: { kind: 'by-key' },
      model: { type: 'poisson-glm', optimizer: { type: 'sgd', learningRate: 0.2 } },
      rule: { rule: 'epidemic', fanout: 3 },
      topology: { kind: 'complete' },
      evaluation: { every: 4, curveRows: 200 },
      baselines: { centralizedEpochs: 1, fedavg: false },
      personal: { validation: 0.2 },
      goals: { personalBeatsLocal: true }
    })
    const results = await runScenario(scenario, { workers: 0 })
    const p = results.personal
    assert.ok(p != null, 'a scenario with personal: gets the section')
    assert.equal(p.ownRows, 'region test rows', 'own rows are the region\'s test rows')
    assert.equal(p.selection.blend, 'parameter interpolation', 'a GLM blends its coefficients')
    assert.equal(p.perPeer.length, 3, 'every honest peer')
    const byRegion = new Map(p.perPeer.map((x) => [x.region, x]))
    const north = byRegion.get('North')!
    assert.ok(north.z >= 0.5, `North claims twice as often: its own experience gets credibility (z ${north.z})`)
    assert.ok((north.own.personal as number) < (north.own.network as number), `North's personal model prices its own policies better: ${north.own.personal} vs network ${north.own.network}`)
    const isle = byRegion.get('Isle')!
    assert.ok(isle.z <= 0.5, `the tiny Isle leans on the network (z ${isle.z})`)
    // the held-out rows left the shard: the region report's training rows are the rest
    const northTrain = results.regions?.regions.find((r) => r.region === 'North')?.policies as number
    assert.ok(Math.abs(north.validation.rows / (northTrain + north.validation.rows) - 0.2) < 0.001, `a fifth of North's rows held out: ${north.validation.rows} of ${northTrain + north.validation.rows}`)
    const [goal] = results.details.goals.filter((g) => g.goal.startsWith("every peer's personal model"))
    assert.equal(goal?.pass, true, JSON.stringify(goal))
    assert.match(renderTable(results), /personal models: poissonDeviance/, 'the summary shows the section')
    assert.match(renderTable(results), /North \(1\)/, 'per region')
    const paths = await writeOutputs(results, dir)
    const json = JSON.parse(await readFile(paths.json, 'utf8'))
    assert.equal(json.personal.perPeer[0].localOnly, p.perPeer[0].localOnly, 'results.json carries the local-only figure')
    assert.ok(extrasOf(json).personal != null, 'the report reader accepts the section')
    const html = await readFile(paths.html, 'utf8')
    assert.match(html, /<canvas id="personal">/, 'the chart is drawn')
    assert.match(html, /Personal models: every peer on its own rows/, 'the table is in the report')
    const plain = await runScenario({ ...scenario, personal: undefined, goals: {} }, { workers: 0, variants: false })
    assert.equal(plain.personal, undefined, 'no personal: no section')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
