import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseModelSpec, parseDatasetSpec } from '../../learning/specs.js'
import { resolveModelSpec, resolveDatasetSpec, Model, IncompatibleModelError } from '../../learning/index.js'

const throwsSpec = (fn: () => unknown, field: string, text?: RegExp): void => {
  assert.throws(fn, (err: Error & { field?: string }) => {
    assert.equal(err.name, 'InvalidSpecError')
    assert.equal(err.field, field)
    assert.ok(err.message.includes(field), `message names ${field}: ${err.message}`)
    if (text != null) assert.match(err.message, text)
    return true
  })
}

test('model spec: defaults and built-in names', () => {
  const s = parseModelSpec({ type: 'mlp' })
  assert.deepEqual(s.hidden, [128])
  assert.equal(s.activation, 'relu')
  assert.equal(s.optimizer.type, 'adam')
  assert.equal(resolveModelSpec('poisson-mlp').type, 'poisson-mlp')
  assert.equal(resolveModelSpec('{"type":"softmax"}').type, 'softmax')
})

test('model spec errors name the field', () => {
  throwsSpec(() => parseModelSpec({ type: 'cnnn' }), 'model.type')
  throwsSpec(() => parseModelSpec({ type: 'mlp', optimizer: { type: 'adam', learningRate: -1 } }), 'model.optimizer.learningRate')
  throwsSpec(() => parseModelSpec({ type: 'mlp', hidden: [0] }), 'model.hidden.0')
  throwsSpec(() => parseModelSpec({ type: 'mlp', dropout: 1.5 }), 'model.dropout')
  throwsSpec(() => parseModelSpec({ type: 'mlp', hiddn: [3] }), 'model', /unknown field\(s\) 'hiddn'/)
  throwsSpec(() => parseModelSpec({ type: 'logistic', hidden: [3] }), 'model.hidden')
  throwsSpec(() => resolveModelSpec('no-such-model'), 'model', /unknown model/)
  throwsSpec(() => new Model({ type: 'mlp', loss: 'mse' }, { inputDim: 3, task: 'binary' }), 'model.loss')
})

test('a model that does not fit the label is refused by name', () => {
  assert.throws(() => new Model({ type: 'poisson-glm' }, { inputDim: 3, task: 'binary' }), (e: Error) => e.name === IncompatibleModelError.name)
  assert.throws(() => new Model({ type: 'logistic' }, { inputDim: 3, task: 'count' }), (e: Error) => e.name === 'IncompatibleModelError' && /poisson-glm/.test(e.message))
})

test('dataset spec errors name the field', () => {
  const base = { file: 'x.csv', columns: [{ name: 'a', role: 'numeric' }, { name: 'y', role: 'label', kind: 'binary' }] }
  assert.equal(parseDatasetSpec(base).format.delimiter, ',')
  throwsSpec(() => parseDatasetSpec({ ...base, columns: [{ name: 'a', role: 'numerc' }] }), 'dataset.columns.0.role')
  throwsSpec(() => parseDatasetSpec({ ...base, columns: [{ name: 'a', role: 'numeric' }] }), 'dataset.columns', /exactly one column must have role 'label'/)
  throwsSpec(() => parseDatasetSpec({ ...base, columns: [...base.columns, { name: 't', role: 'text', buckets: 0 }] }), 'dataset.columns.2.buckets')
  throwsSpec(() => parseDatasetSpec({ ...base, testFraction: 1.5 }), 'dataset.testFraction')
  throwsSpec(() => parseDatasetSpec({ ...base, format: { delimiter: '' } }), 'dataset.format.delimiter')
  throwsSpec(() => parseDatasetSpec({ ...base, columns: [{ name: 'a', role: 'numeric' }, { name: 'y', role: 'label', kind: 'binary', classes: ['a', 'b', 'c'] }] }), 'dataset.columns.1.classes')
  throwsSpec(() => resolveDatasetSpec('no-such-dataset'), 'dataset', /unknown dataset/)
})
