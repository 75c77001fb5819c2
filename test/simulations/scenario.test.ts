import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, writeFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadScenario, parseScenario, parseCompactSpec, builtinScenarioNames, variantScenario, ScenarioError } from '../../simulations/scenario.js'

const base = { peers: 10, rounds: 3, dataset: 'mnist', model: 'softmax' }

test('every built-in scenario parses, with its variants', async () => {
  const names = await builtinScenarioNames()
  for (const n of ['default', 'byzantine', 'churn', 'lossy', 'partition-heal', 'digits-dirichlet', 'sms-spam', 'adult-countries', 'fremtpl-regions', 'scale']) {
    assert.ok(names.includes(n), `built-in ${n}`)
  }
  for (const n of names) {
    const s = await loadScenario(n)
    assert.equal(s.name, n)
    for (const v of s.variants) assert.equal(variantScenario(s, v).name, `${n}/${v.name}`)
  }
  const d = await loadScenario('default')
  assert.equal(d.peers, 100)
  assert.equal(d.dataset, 'mnist')
})

test('defaults are filled in; overrides merge deeply', async () => {
  const s = parseScenario(base)
  assert.equal(s.localSteps, 10)
  assert.equal(s.network.loss, 0)
  assert.deepEqual(s.rule, { rule: 'epidemic' })
  const o = await loadScenario('default', { peers: 7, network: { loss: 0.1 }, rule: { rule: 'pairwise' } })
  assert.equal(o.peers, 7)
  assert.equal(o.network.loss, 0.1)
  assert.equal(o.network.roundMs, 1000, 'untouched network fields stay')
  assert.deepEqual(o.rule, { rule: 'pairwise' }, 'a different rule replaces the parameters of the old one')
})

test('a variant of another model type replaces the model spec; a model spec is checked when the scenario is', () => {
  const withMlp = { ...base, model: { type: 'mlp', hidden: [32], optimizer: { type: 'adam', learningRate: 0.01 } } }
  const s = parseScenario({ ...withMlp, variants: [{ name: 'lin', model: { type: 'logistic', optimizer: { type: 'sgd', learningRate: 0.5 } } }] }, 'v.yaml')
  assert.deepEqual(variantScenario(s, s.variants[0]).model, { type: 'logistic', optimizer: { type: 'sgd', learningRate: 0.5 } }, 'no hidden layers, no adam fields carried over')
  const same = parseScenario({ ...withMlp, variants: [{ name: 'wide', model: { hidden: [64] } }] }, 'v.yaml')
  assert.deepEqual(variantScenario(same, same.variants[0]).model, { type: 'mlp', hidden: [64], optimizer: { type: 'adam', learningRate: 0.01 } }, 'the same type still merges')
  assert.throws(() => parseScenario({ ...base, model: { type: 'logistic', hidden: [8] } }, 'm.yaml'),
    (e: Error) => e.name === 'ScenarioError' && /m\.yaml/.test(e.message) && /model\.hidden/.test(e.message), 'a bad model spec is refused at load, naming the file and field')
})

test('validation errors name the file and the field', async () => {
  const bad = (input: Record<string, unknown>, field: RegExp): void => {
    assert.throws(() => parseScenario({ ...base, ...input }, 'x.yaml'), (e: Error) => {
      assert.equal(e.name, 'ScenarioError')
      assert.match(e.message, /x\.yaml/)
      assert.match(e.message, field)
      return true
    })
  }
  bad({ peers: 1 }, /peers: Too small/)
  bad({ network: { loss: 1.5 } }, /network\.loss/)
  bad({ network: { latency: { dist: 'uniform', minMs: 50, maxMs: 10 } } }, /network\.latency\.maxMs/)
  bad({ topology: { kind: 'torus' } }, /topology\.kind/)
  bad({ adversaries: { fraction: 0.2, attack: { kind: 'gaslight' } } }, /adversaries\.attack\.kind/)
  bad({ rule: { rule: 'epidemic', fanout: 0 } }, /rule\.fanout/)
  bad({ rule: 'gossip' }, /rule/)
  bad({ colour: 'blue' }, /colour/)
  bad({ network: { partitions: [{ fromRound: 5, toRound: 3 }] } }, /network\.partitions\.0\.toRound/)
  bad({ adversaries: { fraction: 1 } }, /no honest peer/)
  bad({ variants: [{ name: 'v', network: { loss: 2 } }] }, /variants\.0 \(v\).*network\.loss/s)
  await assert.rejects(loadScenario('no-such-scenario'), (e: Error) => e.name === 'ScenarioError' && /built-ins: .*default/.test(e.message))
  const dir = await mkdtemp(join(tmpdir(), 'murmur-scn-'))
  try {
    const file = join(dir, 'broken.yaml')
    await writeFile(file, 'peers: [1, 2\nrounds: 3\n')
    await assert.rejects(loadScenario(file), (e: Error) => e.name === 'ScenarioError' && /broken\.yaml: not valid YAML/.test(e.message))
    const json = join(dir, 'ok.json')
    await writeFile(json, JSON.stringify({ ...base, name: 'mine' }))
    assert.equal((await loadScenario(json)).name, 'mine')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('compact command-line specs', () => {
  assert.deepEqual(parseCompactSpec('k-regular:k=6', 'topology'), { kind: 'k-regular', k: 6 })
  assert.deepEqual(parseCompactSpec('epidemic:fanout=3,merge=trimmed-mean', 'rule', 'rule'), { rule: 'epidemic', fanout: 3, merge: 'trimmed-mean' })
  assert.deepEqual(parseCompactSpec('{"kind":"s-random","s":2}', 'topology'), { kind: 's-random', s: 2 })
  assert.throws(() => parseCompactSpec('dirichlet:alpha', 'partition'), ScenarioError)
})
