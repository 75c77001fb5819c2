/**
 * The layer layout of a model: what its spec and data imply (output, loss, layers, convolutions, the flat
 * parameter vector's parts and their offsets), and helpers over flat weight vectors. Plain data, shared by
 * the `Model` facade, its trainer and its predictor.
 */
import { createHash } from 'node:crypto'
import { tf } from '../tf.js'
import type { Activation, LossName, ModelSpec } from '../specs.js'
import { IncompatibleModelError, InvalidSpecError, UnsupportedOnBackendError, WeightsMismatchError } from '../errors.js'
import { CONV_TRAINING_BACKENDS } from '../backend.js'
import type { Task } from '../metrics.js'

/** What a model must know about the data it will see. */
export interface ModelInfo {
  inputDim: number
  task: Task
  /** Number of classes for multiclass (>= 2); ignored otherwise. */
  numClasses?: number
}

/** Row-major training data that models read minibatches from (a `Dataset` is one). */
export interface TensorData {
  readonly numFeatures: number
  /** Features, row-major, at least size x numFeatures. */
  readonly x: Float32Array
  /** Labels: class index, 0/1, count or value. */
  readonly y: Float32Array
  /** log(exposure) per row for count models, or null. */
  readonly offset: Float32Array | null
  /** Exposure per row, or null. */
  readonly exposure: Float32Array | null
  /** Sample weight per row, or null. */
  readonly weight: Float32Array | null
}

export interface ParamInfo { name: string, shape: number[], offset: number, size: number, kind: 'kernel' | 'bias' }

/** A peer's own training state: everything a shared Model needs to train on its behalf. */
export interface TrainState {
  weights: Float32Array
  /** Optimizer slots, `optimizerSlots x numParams` floats (adam: m then v; momentum: velocity), or null. */
  optimizer: Float32Array | null
  /** Optimizer steps taken so far (adam bias correction). */
  step: number
}

export type Output = 'sigmoid' | 'softmax' | 'exp' | 'identity'

export interface ConvLayer { name: string, kernel: ParamInfo, bias: ParamInfo, inC: number, filters: number, size: number, pool: number, inH: number, inW: number }

export interface Layer { name: string, inDim: number, outDim: number, activation: Activation | Output, kernel: ParamInfo, bias: ParamInfo }

/** Kernels a convolutional model needs for training (wasm lacks Conv2DBackpropFilter). */
const CONV_KERNELS = ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPool', 'MaxPoolGrad']

function naturalOutput (type: ModelSpec['type'], task: Task): Output {
  const bad = (): never => {
    throw new IncompatibleModelError(`model '${type}' cannot be trained on a ${task} label` +
      (task === 'count' ? " (use 'poisson-glm' or 'poisson-mlp')" : task === 'binary' ? " (use 'logistic' or 'mlp')" : task === 'multiclass' ? " (use 'softmax' or 'mlp')" : " (use 'linear' or 'mlp')"))
  }
  switch (type) {
    case 'logistic': return task === 'binary' ? 'sigmoid' : bad()
    case 'softmax': return task === 'multiclass' || task === 'binary' ? 'softmax' : bad()
    case 'linear': return task === 'regression' ? 'identity' : bad()
    case 'poisson-glm':
    case 'poisson-mlp': return task === 'count' ? 'exp' : bad()
    case 'mlp':
    case 'cnn': return task === 'binary' ? 'sigmoid' : task === 'multiclass' ? 'softmax' : task === 'count' ? 'exp' : 'identity'
  }
}

const LOSS_OF: Record<Output, LossName> = {
  sigmoid: 'binary-crossentropy', softmax: 'categorical-crossentropy', exp: 'poisson-deviance', identity: 'mse'
}

/** Hex SHA-256 of the layer names, shapes and dtypes: the identity of a weight layout. */
export function schemaHashOf (params: ReadonlyArray<{ name: string, shape: readonly number[] }>): string {
  const text = JSON.stringify(params.map((p) => ({ name: p.name, shape: p.shape, dtype: 'float32' })))
  return createHash('sha256').update(text).digest('hex')
}

/** Flattens named tensors' values (in the given order) into one Float32Array. */
export function flattenWeights (parts: ReadonlyArray<Float32Array | number[]>): Float32Array {
  const n = parts.reduce((s, p) => s + p.length, 0)
  const out = new Float32Array(n)
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}

/** Splits a flat vector back into per-parameter arrays (views, no copy) following a layout. */
export function unflattenWeights (flat: Float32Array, params: readonly ParamInfo[]): Float32Array[] {
  const total = params.reduce((s, p) => s + p.size, 0)
  if (flat.length !== total) throw new WeightsMismatchError(`weights have ${flat.length} values, the layout needs ${total}`)
  return params.map((p) => flat.subarray(p.offset, p.offset + p.size))
}

/** A model's layout: everything its trainer and predictor need to know about its shape. */
export interface Layout {
  readonly spec: ModelSpec
  readonly info: Required<ModelInfo>
  readonly output: Output
  /** Natural loss of the output (the only one supported for it). */
  readonly loss: LossName
  /** Width of the output layer (1, or the number of classes for softmax). */
  readonly outputDim: number
  readonly layers: readonly Layer[]
  readonly convs: readonly ConvLayer[]
  readonly params: readonly ParamInfo[]
  readonly numParams: number
}

/** Throws UnsupportedOnBackendError when the active backend lacks a kernel a model of `type` trains with. */
function checkKernels (type: string, kernels: string[]): void {
  const backend = tf.getBackend()
  const missing = kernels.filter((k) => tf.getKernel(k, backend) == null)
  if (missing.length > 0) {
    throw new UnsupportedOnBackendError(`model '${type}' cannot be trained on the ${backend} backend, which lacks ${missing.join(', ')}` +
      ` (convolution gradients); use --backend ${CONV_TRAINING_BACKENDS.join(', --backend ')}`)
  }
}

/** The layout of a parsed spec on data described by `info`; throws on a spec that does not fit the data. */
export function buildLayout (spec: ModelSpec, info: ModelInfo): Layout {
  const numClasses = info.task === 'multiclass' ? (info.numClasses ?? 0) : info.task === 'binary' ? 2 : 1
  if (info.task === 'multiclass' && numClasses < 2) throw new IncompatibleModelError('a multiclass model needs numClasses >= 2')
  if (!(Number.isInteger(info.inputDim) && info.inputDim > 0)) throw new IncompatibleModelError(`inputDim must be a positive integer, got ${info.inputDim}`)
  const output = naturalOutput(spec.type, info.task)
  const loss = LOSS_OF[output]
  if (spec.loss != null && spec.loss !== loss) {
    throw new InvalidSpecError(`invalid model spec: model.loss: '${spec.loss}' does not fit a '${spec.type}' model on a ${info.task} label (its loss is '${loss}')`, 'model.loss')
  }
  const outputDim = output === 'softmax' ? numClasses : 1
  if (Array.isArray(spec.outputBiasInit) && spec.outputBiasInit.length !== outputDim) {
    throw new InvalidSpecError(`invalid model spec: model.outputBiasInit: ${spec.outputBiasInit.length} values, the output has ${outputDim} unit(s)`, 'model.outputBiasInit')
  }
  const hidden = spec.type === 'mlp' || spec.type === 'poisson-mlp' || spec.type === 'cnn' ? (spec.hidden ?? []) : []
  const layers: Layer[] = []
  const params: ParamInfo[] = []
  const convs: ConvLayer[] = []
  let offset = 0
  let denseIn = info.inputDim
  if (spec.type === 'cnn') {
    const [h0, w0, c0] = spec.inputShape!
    if (h0 * w0 * c0 !== info.inputDim) {
      throw new InvalidSpecError(`invalid model spec: model.inputShape: ${h0}x${w0}x${c0} = ${h0 * w0 * c0} values, the data has ${info.inputDim} features`, 'model.inputShape')
    }
    checkKernels(spec.type, CONV_KERNELS)
    let h = h0; let w = w0; let c = c0
    spec.conv!.forEach((cv, i) => {
      const name = `conv_${i}_${spec.activation}`
      const kernel: ParamInfo = { name: `${name}/kernel`, shape: [cv.kernel, cv.kernel, c, cv.filters], offset, size: cv.kernel * cv.kernel * c * cv.filters, kind: 'kernel' }
      offset += kernel.size
      const bias: ParamInfo = { name: `${name}/bias`, shape: [cv.filters], offset, size: cv.filters, kind: 'bias' }
      offset += bias.size
      params.push(kernel, bias)
      const outH = Math.floor(h / cv.pool); const outW = Math.floor(w / cv.pool)
      if (outH < 1 || outW < 1) throw new InvalidSpecError(`invalid model spec: model.conv.${i}.pool: the image is ${h}x${w} here, too small to pool by ${cv.pool}`, `model.conv.${i}.pool`)
      convs.push({ name, kernel, bias, inC: c, filters: cv.filters, size: cv.kernel, pool: cv.pool, inH: h, inW: w })
      h = outH; w = outW; c = cv.filters
    })
    denseIn = h * w * c
  }
  const dims = [denseIn, ...hidden, outputDim]
  for (let l = 0; l + 1 < dims.length; l++) {
    const last = l + 2 === dims.length
    const activation = last ? output : spec.activation
    const name = last ? `output_${output}` : `hidden_${l}_${activation}`
    const kernel: ParamInfo = { name: `${name}/kernel`, shape: [dims[l], dims[l + 1]], offset, size: dims[l] * dims[l + 1], kind: 'kernel' }
    offset += kernel.size
    const bias: ParamInfo = { name: `${name}/bias`, shape: [dims[l + 1]], offset, size: dims[l + 1], kind: 'bias' }
    offset += bias.size
    params.push(kernel, bias)
    layers.push({ name, inDim: dims[l], outDim: dims[l + 1], activation, kernel, bias })
  }
  return { spec, info: { inputDim: info.inputDim, task: info.task, numClasses }, output, loss, outputDim, layers, convs, params, numParams: offset }
}
