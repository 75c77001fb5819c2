/**
 * Export of a flat weight vector as a TF.js Layers model (`model.json` + `weights.bin`) that stock
 * `tf.loadLayersModel` opens, plus `preprocessing.json` (dataset spec, encoding statistics, feature names).
 *
 * Classification and regression models are `Sequential` stacks of Dense layers with the same activations.
 * Count models (Poisson) take two inputs, `features` and `log_exposure`, and output the LOG of the expected
 * claim count (TF.js has no exponential activation): expected count = exp(output).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tf } from './tf.js'
import { Model, type ModelInfo } from './model.js'
import type { ModelSpecInput } from './specs.js'
import { resolveModelSpec } from './models.js'
import type { Dataset } from './dataset.js'
import { ensureBackend } from './backend.js'

/** Builds the equivalent tf.LayersModel with the given weights (caller disposes it). */
export function toLayersModel (model: Model, weights: Float32Array): tf.LayersModel {
  model.checkWeights(weights)
  const desc = model.describe()
  const parts = model.unflatten(weights)
  const d = model.info.inputDim
  const act = (a: string): 'relu' | 'tanh' | 'sigmoid' | 'elu' | 'linear' | 'softmax' =>
    a === 'identity' || a === 'exp' ? 'linear' : a as 'relu'
  const layers = desc.layers.map((l) => tf.layers.dense({ units: l.outDim, activation: act(l.activation), name: l.name.replace(/[^A-Za-z0-9_]/g, '_') }))
  const convLayers = desc.conv.map((c) => tf.layers.conv2d({ filters: c.filters, kernelSize: c.kernel, padding: 'same', activation: act(model.spec.activation), name: c.name }))
  const features = tf.input({ shape: [d], name: 'features' })
  let h: tf.SymbolicTensor = features
  if (convLayers.length > 0) {
    h = tf.layers.reshape({ targetShape: model.spec.inputShape!, name: 'image' }).apply(h) as tf.SymbolicTensor
    desc.conv.forEach((c, i) => {
      h = convLayers[i].apply(h) as tf.SymbolicTensor
      if (c.pool > 1) h = tf.layers.maxPooling2d({ poolSize: c.pool, strides: c.pool, padding: 'valid', name: `${c.name}_pool` }).apply(h) as tf.SymbolicTensor
    })
    h = tf.layers.flatten({ name: 'flatten' }).apply(h) as tf.SymbolicTensor
  }
  for (const layer of layers) h = layer.apply(h) as tf.SymbolicTensor
  const name = 'murmur_' + model.spec.type.replace(/-/g, '_')
  let result: tf.LayersModel
  if (model.output === 'exp') {
    const logExposure = tf.input({ shape: [1], name: 'log_exposure' })
    const out = tf.layers.add({ name: 'log_expected_count' }).apply([h, logExposure]) as tf.SymbolicTensor
    result = tf.model({ inputs: [features, logExposure], outputs: out, name })
  } else {
    result = tf.model({ inputs: features, outputs: h, name })
  }
  const params = model.params
  let p = 0
  convLayers.forEach((layer) => {
    const k = params[p++]; const b = params[p++]
    tf.tidy(() => layer.setWeights([tf.tensor(parts[p - 2], k.shape), tf.tensor1d(parts[p - 1])]))
    void b
  })
  layers.forEach((layer, i) => {
    const l = desc.layers[i]
    tf.tidy(() => layer.setWeights([tf.tensor2d(parts[p], [l.inDim, l.outDim]), tf.tensor1d(parts[p + 1])]))
    p += 2
  })
  return result
}

export interface ExportOptions {
  /** The dataset (or its info) the model was built for; a Dataset also writes preprocessing.json. */
  dataset: Dataset | ModelInfo
}

/**
 * Writes `model.json`, `weights.bin` and (given a Dataset) `preprocessing.json` into `dir`.
 *
 * @example
 * ```ts
 * await exportLayersModel('mlp', learner.weights(), 'out/model', { dataset })
 * // later, anywhere: await tf.loadLayersModel('file://out/model/model.json')   (tfjs-node) or over http
 * ```
 */
export async function exportLayersModel (modelSpec: string | ModelSpecInput | Model, weights: Float32Array, dir: string, options: ExportOptions): Promise<{ files: string[] }> {
  await ensureBackend()
  const info: ModelInfo = 'numFeatures' in options.dataset ? (options.dataset as Dataset).info : options.dataset as ModelInfo
  const model = modelSpec instanceof Model ? modelSpec : new Model(resolveModelSpec(modelSpec), info)
  const layersModel = toLayersModel(model, weights)
  await mkdir(dir, { recursive: true })
  const files: string[] = []
  try {
    await layersModel.save(tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData
      const bin = Array.isArray(weightData)
        ? Buffer.concat(weightData.map((b) => Buffer.from(b)))
        : Buffer.from(weightData as ArrayBuffer)
      const modelJson = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: 'murmur',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        userDefinedMetadata: { schemaHash: model.schemaHash, murmurModel: model.describe() }
      }
      await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson))
      await writeFile(join(dir, 'weights.bin'), bin)
      files.push(join(dir, 'model.json'), join(dir, 'weights.bin'))
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
    }))
    if ('numFeatures' in options.dataset) {
      const ds = options.dataset as Dataset
      const pre = {
        dataset: ds.spec,
        encoding: ds.encoding,
        featureNames: ds.featureNames,
        task: ds.task,
        classes: ds.classes,
        datasetSchemaHash: ds.schemaHash,
        output: model.output === 'exp'
          ? 'log expected count: inputs [features, log_exposure]; expected count = exp(output)'
          : model.output === 'sigmoid' ? 'P(positive class)' : model.output === 'softmax' ? 'class probabilities' : 'value'
      }
      await writeFile(join(dir, 'preprocessing.json'), JSON.stringify(pre, null, 2))
      files.push(join(dir, 'preprocessing.json'))
    }
  } finally {
    layersModel.dispose()
    if (!(modelSpec instanceof Model)) model.dispose()
  }
  return { files }
}
