import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseScenario, type ScenarioInput } from '../../simulations/scenario.js'
import { runScenario } from '../../simulations/run.js'
import { summaryOf, type Results } from '../../simulations/results.js'

const tiny: ScenarioInput = {
  name: 'tiny',
  peers: 8,
  rounds: 3,
  localSteps: 2,
  batchSize: 16,
  dataset: 'mnist',
  partition: { kind: 'dirichlet', alpha: 0.5 },
  model: 'softmax',
  rule: { rule: 'epidemic', fanout: 3 },
  topology: { kind: 's-random', s: 3 },
  network: { loss: 0.1 },
  evaluation: { every: 1, curveRows: 100 },
  baselines: { centralized: false, localOnly: false, fedavg: false }
}

const stable = (r: Results): string => JSON.stringify({ ...summaryOf(r), wallSeconds: 0, peerStepsPerSecond: 0, maxRssMiB: 0, details: r.details })

test('real PeerEngine: same scenario and seed give identical results in one thread and on two workers', async () => {
  const scenario = parseScenario(tiny)
  const a = await runScenario(scenario, { workers: 0 })
  const b = await runScenario(scenario, { workers: 2 })
  assert.ok(a.decentralized.mean != null && a.decentralized.mean > 0.1, 'expected a.decentralized.mean != null && a.decentralized.mean > 0.1')
  assert.ok(a.bytesPerPeerPerRound > 0, 'expected a.bytesPerPeerPerRound > 0')
  assert.equal(stable(b), stable(a))
  const c = await runScenario(parseScenario({ ...tiny, seed: 99 }), { workers: 0 })
  assert.notEqual(stable(c), stable(a))
})

test('real PeerEngine: equivocation and replay are refused with their named reasons', async () => {
  const eq = await runScenario(parseScenario({ ...tiny, network: {}, adversaries: { fraction: 0.25, attack: { kind: 'equivocation' } } }), { workers: 0 })
  assert.ok((eq.refused.EQUIVOCATION ?? 0) > 0, JSON.stringify(eq.refused))
  const rp = await runScenario(parseScenario({ ...tiny, network: {}, adversaries: { fraction: 0.25, attack: { kind: 'replay' } } }), { workers: 0 })
  assert.ok((rp.refused.REPLAYED ?? 0) > 0, JSON.stringify(rp.refused))
})

test('murmur simulate --json: a tiny run writes results.json and report.html with the summary keys', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'murmur-cli-'))
  try {
    const file = join(dir, 'tiny.yaml')
    await writeFile(file, JSON.stringify({ ...tiny, peers: 6, rounds: 2, baselines: { centralizedEpochs: 1, fedavgFraction: 0.5 } }))
    const out = join(dir, 'out')
    const root = new URL('../../', import.meta.url).pathname
    const r = spawnSync(process.execPath, ['bin/murmur.js', 'simulate', '--scenario', file, '--workers', '0', '--json', '--out', out], { cwd: root, encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    const summary = JSON.parse(r.stdout)
    assert.deepEqual(Object.keys(summary), ['scenario', 'peers', 'rounds', 'seed', 'rule', 'metric', 'decentralized', 'centralized', 'localOnly',
      'fedavg', 'curve', 'bytesPerPeerPerRound', 'refused', 'wallSeconds', 'peerStepsPerSecond', 'maxRssMiB', 'signalKept', 'signalKeptInterval', 'convergence'], 'summary keys: the old ones, then signal kept')
    assert.equal(summary.peers, 6)
    assert.equal(summary.curve.length, 2)
    for (const k of ['centralized', 'fedavg']) assert.equal(typeof summary[k].value, 'number', k)
    assert.equal(typeof summary.localOnly.mean, 'number')
    assert.ok(existsSync(join(out, 'report.html')), 'expected existsSync(join(out, \'report.html\'))')
    const json = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'))
    assert.equal(json.decentralized.mean, summary.decentralized.mean)
    const bad = spawnSync(process.execPath, ['bin/murmur.js', 'simulate', '--scenario', file, '--topology', 'torus', '--out', out], { cwd: root, encoding: 'utf8' })
    assert.equal(bad.status, 1)
    assert.match(bad.stderr, /ScenarioError: .*topology\.kind/s)
    const noDir = spawnSync(process.execPath, ['bin/murmur.js', 'simulate', '--scenario', file, '--data-dir', join(dir, 'missing'), '--out', out], { cwd: root, encoding: 'utf8' })
    assert.equal(noDir.status, 1, 'a missing --data-dir fails')
    assert.match(noDir.stderr, /ScenarioError: --data-dir .*missing: no such folder/, 'and names the flag and the folder')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
