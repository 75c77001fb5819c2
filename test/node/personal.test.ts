import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRng } from '../../protocol/rng.js'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadDatasetFromSpec } from '../../learning/dataset.js'
import { Model } from '../../learning/model.js'
import { DatasetLearner } from '../../learning/learner.js'
import { blendWeights } from '../../learning/personal.js'
import { DaemonPersonal } from '../../node/personal.js'
import { modelRoutes } from '../../node/api/routes/model.js'
import type { RoundReport } from '../../protocol/engine/index.js'

/** A CSV of logistic rows as a daemon reads it; the learner holds out 20% of them as its validation rows. */
async function setup (dir: string): Promise<{ learner: DatasetLearner, model: Model }> {
  const rng = createRng('daemon-personal')
  const lines = ['X0,X1,y']
  for (let i = 0; i < 600; i++) {
    const a = rng.normal(); const b = rng.normal()
    lines.push(`${a.toFixed(4)},${b.toFixed(4)},${rng.next() < 1 / (1 + Math.exp(-(2.5 * a - 2 * b))) ? 1 : 0}`)
  }
  const file = join(dir, 'rows.csv')
  await writeFile(file, lines.join('\n') + '\n')
  const dataset = await loadDatasetFromSpec({
    name: 'd', file, testFraction: 0,
    columns: [{ name: 'X0', role: 'numeric', mean: 0, std: 1 }, { name: 'X1', role: 'numeric', mean: 0, std: 1 }, { name: 'y', role: 'label', kind: 'binary', classes: ['0', '1'] }]
  } as never, { growing: true })
  const model = new Model({ type: 'logistic', optimizer: { type: 'sgd', learningRate: 0.5 } }, dataset.info)
  const learner = new DatasetLearner({ model, dataset, localValidation: 0.2, seed: 3, initSeed: 'net' })
  return { learner, model }
}

const report = (round: number, steps: number, evaluated: boolean): RoundReport => ({ round, steps, ...(evaluated ? { evaluation: { accuracy: 0 } } : {}) }) as unknown as RoundReport

test('daemon personal model: a local-only model trained alongside, z chosen on the validation rows, served on /model/personal', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'murmur-personal-'))
  const { learner, model } = await setup(dir)
  try {
    const personal = new DaemonPersonal(learner, { seed: 3, initSeed: 'net' })
    assert.equal(personal.status().z, null, 'nothing chosen before the first evaluation round')
    // The "network" model here is a poor one (the merged weights of a network whose rows disagree with ours);
    // the local-only model learns this peer's rows.
    for (let r = 0; r < 6; r++) {
      learner.setWeights(Float32Array.of(-1, 1, 0))
      personal.onRound(report(r, 20, r === 5))
    }
    const s = personal.status()
    assert.equal(s.round, 5, 'chosen on the evaluation round')
    assert.equal(s.localOnlySteps, 120, 'the local-only model trained the steps the network learner did')
    assert.equal(s.validationRows, learner.validationRows().length, 'on the learner\'s own validation rows')
    assert.ok(s.validationRows > 0, 'the learner holds rows out')
    assert.ok((s.z as number) >= 0.5, `the far better local-only model gets the credibility (z ${s.z})`)
    assert.ok(s.validation != null && s.validation.personal >= s.validation.network, `personal not worse than the network on validation: ${JSON.stringify(s.validation)}`)
    assert.equal(s.criterion, 'accuracy', 'judged by the task\'s metric')
    const m = personal.model(5)
    assert.deepEqual([...m.weights!], [...blendWeights(m.network, m.local, m.z)], 'a logistic model blends its coefficients: one model')
    const [route] = modelRoutes({ engine: { weights: () => learner.weights(), round: 5 }, learner, personal })
    assert.equal(route.path, '/model/personal', 'the personal model route')
    const answer = await route.handler({ query: new URLSearchParams(), body: new Uint8Array(0) }) as { json: { z: number, weights: string } }
    assert.equal(answer.json.z, m.z, 'the route answers the choice')
    const w = Buffer.from(answer.json.weights, 'base64')
    assert.equal(w.length, 4 * model.numParams, 'float32 weights')
    const [none] = modelRoutes({ engine: { weights: () => learner.weights(), round: 5 }, learner, personal: null })
    const missing = await none.handler({ query: new URLSearchParams(), body: new Uint8Array(0) }) as { status: number }
    assert.equal(missing.status, 404, 'without --personal: 404')
    personal.dispose()
  } finally { model.dispose(); await rm(dir, { recursive: true, force: true }) }
})

test('daemon personal model: rows the data feed appends reach the local-only model too', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'murmur-personal-'))
  const { learner, model } = await setup(dir)
  try {
    const personal = new DaemonPersonal(learner, { seed: 3, initSeed: 'net' })
    const before = learner.numExamples()
    learner.addRecords([['0.5', '0.5', '1'], ['-0.5', '1', '0']])
    assert.equal(learner.numExamples(), before + 2, 'two rows appended to the network learner')
    personal.onRound(report(0, 0, false))
    assert.equal(personal.status().localOnlyExamples, before + 2, 'the local-only model trains on them too')
    personal.onRound(report(1, 5, true))
    assert.equal(personal.status().localOnlySteps, 5, 'trained after the rows arrived')
    personal.dispose()
  } finally { model.dispose(); await rm(dir, { recursive: true, force: true }) }
})
