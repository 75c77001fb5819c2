/**
 * Models as flat weight vectors over one shared TF.js runtime.
 *
 * A `Model` is the per-thread, shareable part: the spec, the layer layout and the TF.js code that trains and
 * predicts. It holds no peer's state. A peer's state is `TrainState`: its flat `Float32Array` weights, its
 * optimizer state (adam: 2 x numParams; momentum: 1 x; sgd: none) and its step count. `trainSteps` uploads a
 * state, runs k steps inside `tf.tidy`, and downloads it again, so hundreds of peers in one thread share one
 * `Model` and cost only their own arrays.
 *
 * The training step is written by hand (forward pass, backward pass with explicit transposes, optimizer on the
 * flat vector): on the wasm backend this is several times faster than autodiff, whose transposed matMuls are slow.
 * `gradientCheck` (tests) compares it with `tf.grads`.
 */
import { createHash } from 'node:crypto'
import { tf } from './tf.js'
import { createRng } from '../protocol/rng.js'
import { parseModelSpec, type Activation, type LossName, type ModelSpec, type ModelSpecInput } from './specs.js'
import { IncompatibleModelError, InvalidSpecError, UnsupportedOnBackendError, WeightsMismatchError } from './errors.js'
import { CONV_TRAINING_BACKENDS } from './backend.js'
import type { Task } from './metrics.js'
import { DEFAULT_BATCH_SIZE, DEFAULT_LEARNING_RATE } from './constants.js'

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

type Output = 'sigmoid' | 'softmax' | 'exp' | 'identity'

interface ConvLayer { name: string, kernel: ParamInfo, bias: ParamInfo, inC: number, filters: number, size: number, pool: number, inH: number, inW: number }

/** Kernels a convolutional model needs for training (wasm lacks Conv2DBackpropFilter). */
const CONV_KERNELS = ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPool', 'MaxPoolGrad']

interface Layer { name: string, inDim: number, outDim: number, activation: Activation | Output, kernel: ParamInfo, bias: ParamInfo }

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

const CLIP_ETA: [number, number] = [-30, 20]

export class Model {
  readonly spec: ModelSpec
  readonly info: Required<ModelInfo>
  readonly params: ParamInfo[]
  readonly numParams: number
  readonly schemaHash: string
  /** Natural loss of the output (the only one supported for it). */
  readonly loss: LossName
  readonly output: Output
  /** Width of the output layer (1, or the number of classes for softmax). */
  readonly outputDim: number
  /** How many numParams-long slots the optimizer keeps per peer. */
  readonly optimizerSlots: number
  readonly defaultBatchSize: number
  private readonly layers: Layer[]
  private readonly convs: ConvLayer[]
  /** Per training part (see `trainParts`): 1 where L2 applies (kernels), 0 elsewhere. */
  private l2Masks: tf.Tensor[] | null = null
  /** Evaluation tensors by (data, rows buffer, offset, length); least recently used first; at most EVAL_CACHE_ENTRIES. */
  private readonly evalCache = new Map<string, CachedRows>()
  /** The plain-JS step's gradient buffer, reused across calls (training is synchronous; many peers share a model). */
  private jsGradient: Float64Array | null = null
  private disposed = false

  /**
   * Linear models (logistic, softmax, linear, poisson-glm) train with a plain-JavaScript step by default: the
   * same math as the TF.js step (a test checks they agree), without TF.js's per-op dispatch, which dominates
   * for so few parameters (10,000 logistic peers in one thread). `engine: 'tfjs'` forces TF.js.
   */
  readonly engine: 'tfjs' | 'js'

  constructor (specInput: ModelSpecInput | ModelSpec, info: ModelInfo, options: { engine?: 'auto' | 'tfjs' | 'js' } = {}) {
    this.spec = parseModelSpec(specInput)
    const numClasses = info.task === 'multiclass' ? (info.numClasses ?? 0) : info.task === 'binary' ? 2 : 1
    if (info.task === 'multiclass' && numClasses < 2) throw new IncompatibleModelError('a multiclass model needs numClasses >= 2')
    if (!(Number.isInteger(info.inputDim) && info.inputDim > 0)) throw new IncompatibleModelError(`inputDim must be a positive integer, got ${info.inputDim}`)
    this.info = { inputDim: info.inputDim, task: info.task, numClasses }
    this.output = naturalOutput(this.spec.type, info.task)
    this.loss = LOSS_OF[this.output]
    if (this.spec.loss != null && this.spec.loss !== this.loss) {
      throw new InvalidSpecError(`invalid model spec: model.loss: '${this.spec.loss}' does not fit a '${this.spec.type}' model on a ${info.task} label (its loss is '${this.loss}')`, 'model.loss')
    }
    this.outputDim = this.output === 'softmax' ? numClasses : 1
    const hidden = this.spec.type === 'mlp' || this.spec.type === 'poisson-mlp' || this.spec.type === 'cnn' ? (this.spec.hidden ?? []) : []
    this.layers = []
    this.params = []
    this.convs = []
    let offset = 0
    let denseIn = info.inputDim
    if (this.spec.type === 'cnn') {
      const [h0, w0, c0] = this.spec.inputShape!
      if (h0 * w0 * c0 !== info.inputDim) {
        throw new InvalidSpecError(`invalid model spec: model.inputShape: ${h0}x${w0}x${c0} = ${h0 * w0 * c0} values, the data has ${info.inputDim} features`, 'model.inputShape')
      }
      this.checkKernels(CONV_KERNELS)
      let h = h0; let w = w0; let c = c0
      this.spec.conv!.forEach((cv, i) => {
        const name = `conv_${i}_${this.spec.activation}`
        const kernel: ParamInfo = { name: `${name}/kernel`, shape: [cv.kernel, cv.kernel, c, cv.filters], offset, size: cv.kernel * cv.kernel * c * cv.filters, kind: 'kernel' }
        offset += kernel.size
        const bias: ParamInfo = { name: `${name}/bias`, shape: [cv.filters], offset, size: cv.filters, kind: 'bias' }
        offset += bias.size
        this.params.push(kernel, bias)
        const outH = Math.floor(h / cv.pool); const outW = Math.floor(w / cv.pool)
        if (outH < 1 || outW < 1) throw new InvalidSpecError(`invalid model spec: model.conv.${i}.pool: the image is ${h}x${w} here, too small to pool by ${cv.pool}`, `model.conv.${i}.pool`)
        this.convs.push({ name, kernel, bias, inC: c, filters: cv.filters, size: cv.kernel, pool: cv.pool, inH: h, inW: w })
        h = outH; w = outW; c = cv.filters
      })
      denseIn = h * w * c
    }
    const dims = [denseIn, ...hidden, this.outputDim]
    for (let l = 0; l + 1 < dims.length; l++) {
      const last = l + 2 === dims.length
      const activation = last ? this.output : this.spec.activation
      const name = last ? `output_${this.output}` : `hidden_${l}_${activation}`
      const kernel: ParamInfo = { name: `${name}/kernel`, shape: [dims[l], dims[l + 1]], offset, size: dims[l] * dims[l + 1], kind: 'kernel' }
      offset += kernel.size
      const bias: ParamInfo = { name: `${name}/bias`, shape: [dims[l + 1]], offset, size: dims[l + 1], kind: 'bias' }
      offset += bias.size
      this.params.push(kernel, bias)
      this.layers.push({ name, inDim: dims[l], outDim: dims[l + 1], activation, kernel, bias })
    }
    this.numParams = offset
    this.schemaHash = schemaHashOf(this.params)
    this.optimizerSlots = this.spec.optimizer.type === 'adam' ? 2 : this.spec.optimizer.type === 'momentum' ? 1 : 0
    this.defaultBatchSize = this.spec.batchSize ?? DEFAULT_BATCH_SIZE
    const linear = this.layers.length === 1 && this.convs.length === 0
    const wanted = options.engine ?? 'auto'
    if (wanted === 'js' && !linear) throw new IncompatibleModelError(`the js engine trains linear models only, not '${this.spec.type}'`)
    this.engine = wanted === 'tfjs' || !linear ? 'tfjs' : 'js'
  }

  get hiddenSizes (): number[] { return this.layers.slice(0, -1).map((l) => l.outDim) }

  /** Deterministic initial weights: Glorot-uniform kernels for networks, zeros for linear models; output bias from the spec. */
  initialWeights (seed: number | string = 0): Float32Array {
    const w = new Float32Array(this.numParams)
    const rng = createRng(seed).fork('init')
    const linear = this.layers.length === 1 && this.convs.length === 0
    for (const cv of this.convs) {
      const limit = Math.sqrt(6 / (cv.size * cv.size * (cv.inC + cv.filters)))
      for (let i = 0; i < cv.kernel.size; i++) w[cv.kernel.offset + i] = (rng.next() * 2 - 1) * limit
    }
    for (const layer of this.layers) {
      if (!linear) {
        const limit = Math.sqrt(6 / (layer.inDim + layer.outDim))
        for (let i = 0; i < layer.kernel.size; i++) w[layer.kernel.offset + i] = (rng.next() * 2 - 1) * limit
      }
    }
    const out = this.layers[this.layers.length - 1]
    if (this.spec.outputBiasInit != null) w.fill(this.spec.outputBiasInit, out.bias.offset, out.bias.offset + out.bias.size)
    return w
  }

  /** A fresh training state (initial weights from the seed, zero optimizer slots). */
  initialState (seed: number | string = 0, weights?: Float32Array): TrainState {
    if (weights != null) this.checkWeights(weights)
    return {
      weights: weights != null ? Float32Array.from(weights) : this.initialWeights(seed),
      optimizer: this.optimizerSlots > 0 ? new Float32Array(this.optimizerSlots * this.numParams) : null,
      step: 0
    }
  }

  checkWeights (weights: Float32Array): void {
    if (!(weights instanceof Float32Array)) throw new WeightsMismatchError('weights must be a Float32Array')
    if (weights.length !== this.numParams) {
      throw new WeightsMismatchError(`weights have ${weights.length} values, model ${this.schemaHash.slice(0, 12)} needs ${this.numParams}`)
    }
  }

  /** Per-parameter arrays (views) of a flat vector. */
  unflatten (weights: Float32Array): Float32Array[] { return unflattenWeights(weights, this.params) }

  private getL2Masks (): tf.Tensor[] {
    if (this.l2Masks == null) {
      const m = new Float32Array(this.numParams)
      for (const p of this.params) if (p.kind === 'kernel') m.fill(1, p.offset, p.offset + p.size)
      this.l2Masks = this.uploadParts(m, 0)
    }
    return this.l2Masks
  }

  /**
   * How training holds the weights on the backend: dense models one tensor per parameter, cnn one flat vector
   * (autodiff differentiates with respect to it). Slicing a flat vector would cost a full copy of it per slice on
   * the WASM backend, whose slice kernel reads its whole input back first (readSync).
   */
  private get trainParts (): ReadonlyArray<{ offset: number, size: number, shape: number[] }> {
    return this.convs.length > 0 ? [{ offset: 0, size: this.numParams, shape: [this.numParams] }] : this.params
  }

  /** `src[base .. base + numParams)` as training parts (kept: the caller disposes them). */
  private uploadParts (src: Float32Array, base: number): tf.Tensor[] {
    return this.trainParts.map((p) => tf.keep(tf.tensor(src.subarray(base + p.offset, base + p.offset + p.size), p.shape)))
  }

  /** Dense layers' parameters from training parts (one tensor per parameter, in `params` order). */
  private layerParams (parts: readonly tf.Tensor[]): Array<{ W: tf.Tensor2D, b: tf.Tensor1D }> {
    return this.layers.map((_, l) => ({ W: parts[2 * l] as tf.Tensor2D, b: parts[2 * l + 1] as tf.Tensor1D }))
  }

  /** Dense layers' parameters straight from a flat vector (uploads each parameter; no flat tensor). */
  private layerTensors (weights: Float32Array): Array<{ W: tf.Tensor2D, b: tf.Tensor1D }> {
    return this.layers.map((l) => ({
      W: tf.tensor2d(weights.subarray(l.kernel.offset, l.kernel.offset + l.kernel.size), [l.inDim, l.outDim]),
      b: tf.tensor1d(weights.subarray(l.bias.offset, l.bias.offset + l.bias.size))
    }))
  }

  /** Throws UnsupportedOnBackendError when the active backend lacks a kernel this model trains with. */
  private checkKernels (kernels: string[]): void {
    const backend = tf.getBackend()
    const missing = kernels.filter((k) => tf.getKernel(k, backend) == null)
    if (missing.length > 0) {
      throw new UnsupportedOnBackendError(`model '${this.spec.type}' cannot be trained on the ${backend} backend, which lacks ${missing.join(', ')}` +
        ` (convolution gradients); use --backend ${CONV_TRAINING_BACKENDS.join(', --backend ')}`)
    }
  }

  /** Convolution blocks (cnn): [n, d] -> [n, flat]; identity for dense models. */
  private convForward (theta: tf.Tensor1D | null, x: tf.Tensor2D): tf.Tensor2D {
    if (this.convs.length === 0 || theta == null) return x
    const [h, w, c] = this.spec.inputShape!
    let a: tf.Tensor4D = tf.reshape(x, [x.shape[0], h, w, c])
    for (const cv of this.convs) {
      const K = tf.reshape(theta.slice(cv.kernel.offset, cv.kernel.size), cv.kernel.shape as [number, number, number, number]) as tf.Tensor4D
      const b = theta.slice(cv.bias.offset, cv.bias.size)
      const z = tf.add(tf.conv2d(a, K, 1, 'same'), b) as tf.Tensor4D
      const act = this.activate(tf.reshape(z, [-1, cv.filters]), this.spec.activation)
      a = tf.reshape(act, z.shape)
      if (cv.pool > 1) a = tf.maxPool(a, cv.pool, cv.pool, 'valid')
    }
    return tf.reshape(a, [x.shape[0], -1])
  }

  /** Loss (summed over rows) and flat gradient of the mean loss by autodiff (cnn). */
  private autodiffStep (theta: tf.Tensor1D, t: { x: tf.Tensor2D, y: tf.Tensor2D, offset: tf.Tensor2D | null, weight: tf.Tensor2D | null }, rows: number, dropoutSeed: number | null): [tf.Scalar, tf.Tensor1D] {
    const f = (th: tf.Tensor): tf.Scalar => tf.div(this.lossSumOf(th as tf.Tensor1D, t, dropoutSeed), rows) as tf.Scalar
    const { value, grad } = tf.valueAndGrad(f)(theta)
    return [tf.mul(value, rows) as tf.Scalar, grad as tf.Tensor1D]
  }

  /** Summed (weighted) loss of a batch as a differentiable function of theta. */
  private lossSumOf (theta: tf.Tensor1D, t: { x: tf.Tensor2D, y: tf.Tensor2D, offset: tf.Tensor2D | null, weight: tf.Tensor2D | null }, dropoutSeed: number | null): tf.Scalar {
    const ps = this.slices(theta)
    let a: tf.Tensor2D = this.convForward(theta, t.x)
    for (let l = 0; l < this.layers.length - 1; l++) {
      a = this.activate(tf.add(tf.matMul(a, ps[l].W), ps[l].b) as tf.Tensor2D, this.layers[l].activation)
      if (this.spec.dropout > 0 && dropoutSeed != null) {
        a = tf.mul(a, tf.div(tf.step(tf.sub(tf.randomUniform(a.shape, 0, 1, 'float32', dropoutSeed + l), this.spec.dropout)), 1 - this.spec.dropout))
      }
    }
    const L = this.layers.length - 1
    let eta = tf.add(tf.matMul(a, ps[L].W), ps[L].b) as tf.Tensor2D
    if (this.output === 'exp' && t.offset != null) eta = tf.add(eta, t.offset)
    let rowsLoss: tf.Tensor
    if (this.output === 'sigmoid') rowsLoss = tf.add(tf.sub(tf.relu(eta), tf.mul(eta, t.y)), tf.log1p(tf.exp(tf.neg(tf.abs(eta)))))
    else if (this.output === 'softmax') rowsLoss = tf.neg(tf.sum(tf.mul(t.y, tf.logSoftmax(eta)), 1, true))
    else if (this.output === 'exp') {
      const etaC = tf.clipByValue(eta, CLIP_ETA[0], CLIP_ETA[1])
      rowsLoss = tf.mul(2, tf.add(tf.sub(tf.sub(tf.exp(etaC), t.y), tf.mul(t.y, etaC)), tf.mul(t.y, tf.log(tf.maximum(t.y, 1e-30)))))
    } else rowsLoss = tf.square(tf.sub(eta, t.y))
    if (t.weight != null) rowsLoss = tf.mul(rowsLoss, t.weight)
    return tf.sum(rowsLoss) as tf.Scalar
  }

  private slices (theta: tf.Tensor1D): Array<{ W: tf.Tensor2D, b: tf.Tensor1D }> {
    return this.layers.map((l) => ({
      W: theta.slice(l.kernel.offset, l.kernel.size).reshape([l.inDim, l.outDim]) as tf.Tensor2D,
      b: theta.slice(l.bias.offset, l.bias.size)
    }))
  }

  private activate (z: tf.Tensor2D, a: Activation | Output): tf.Tensor2D {
    switch (a) {
      case 'relu': return tf.relu(z)
      case 'tanh': return tf.tanh(z)
      case 'sigmoid': return tf.sigmoid(z)
      case 'elu': return tf.elu(z)
      case 'linear': case 'identity': return z
      case 'softmax': return tf.softmax(z)
      case 'exp': return tf.exp(tf.clipByValue(z, CLIP_ETA[0], CLIP_ETA[1]))
    }
  }

  /** d activation / d z, given z and a = act(z), times the incoming gradient. */
  private backAct (da: tf.Tensor2D, z: tf.Tensor2D, a: tf.Tensor2D, act: Activation): tf.Tensor2D {
    switch (act) {
      case 'relu': return tf.mul(da, tf.step(z))
      case 'tanh': return tf.mul(da, tf.sub(1, tf.square(a)))
      case 'sigmoid': return tf.mul(da, tf.mul(a, tf.sub(1, a)))
      case 'elu': return tf.mul(da, tf.where(tf.greater(z, 0), tf.onesLike(z), tf.add(a, 1)))
      case 'linear': return da
    }
  }

  /**
   * Forward and backward on one batch of a dense model with layer parameters `ps`: returns [lossSum (scalar,
   * summed over rows, weighted), gradient of the MEAN loss per parameter (`params` order and shapes)]. Must run
   * inside tf.tidy. `xT` is the transposed batch (built in JS; faster than tf.transpose).
   */
  private forwardBackward (ps: Array<{ W: tf.Tensor2D, b: tf.Tensor1D }>, x: tf.Tensor2D, xT: tf.Tensor2D, y: tf.Tensor, offset: tf.Tensor2D | null,
    weight: tf.Tensor2D | null, rows: number, dropoutSeed: number | null): [tf.Scalar, tf.Tensor[]] {
    const acts: tf.Tensor2D[] = [x]
    const zs: tf.Tensor2D[] = []
    const rate = this.spec.dropout
    for (let l = 0; l < this.layers.length - 1; l++) {
      const z = tf.add(tf.matMul(acts[l], ps[l].W), ps[l].b) as tf.Tensor2D
      let a = this.activate(z, this.layers[l].activation)
      if (rate > 0 && dropoutSeed != null) {
        const keep = tf.div(tf.step(tf.sub(tf.randomUniform(a.shape, 0, 1, 'float32', dropoutSeed + l), rate)), 1 - rate) as tf.Tensor2D
        a = tf.mul(a, keep)
        zs.push(z)
        acts.push(a)
        ;(a as unknown as { murmurKeep: tf.Tensor2D }).murmurKeep = keep
      } else {
        zs.push(z)
        acts.push(a)
      }
    }
    const L = this.layers.length - 1
    let eta = tf.add(tf.matMul(acts[L], ps[L].W), ps[L].b) as tf.Tensor2D
    if (this.output === 'exp' && offset != null) eta = tf.add(eta, offset)
    const inv = 1 / rows
    let lossRows: tf.Tensor2D
    let deta: tf.Tensor2D
    switch (this.output) {
      case 'sigmoid': {
        const yy = y as tf.Tensor2D
        // BCE from logits: max(eta, 0) - eta*y + log(1 + exp(-|eta|))
        lossRows = tf.add(tf.sub(tf.relu(eta), tf.mul(eta, yy)), tf.log1p(tf.exp(tf.neg(tf.abs(eta)))))
        deta = tf.sub(tf.sigmoid(eta), yy)
        break
      }
      case 'softmax': {
        const Y = y as tf.Tensor2D
        const logp = tf.logSoftmax(eta)
        lossRows = tf.neg(tf.sum(tf.mul(Y, logp), 1, true)) as tf.Tensor2D
        deta = tf.sub(tf.exp(logp), Y)
        break
      }
      case 'exp': {
        const yy = y as tf.Tensor2D
        const etaC = tf.clipByValue(eta, CLIP_ETA[0], CLIP_ETA[1])
        const mu = tf.exp(etaC)
        // unit deviance 2 (mu - y - y log(mu/y)) = 2 (mu - y - y eta + y log y); y log y precomputed as 0 for y = 0
        const ylogy = tf.mul(yy, tf.log(tf.maximum(yy, 1e-30)))
        lossRows = tf.mul(2, tf.add(tf.sub(tf.sub(mu, yy), tf.mul(yy, etaC)), ylogy))
        deta = tf.mul(2, tf.sub(mu, yy))
        break
      }
      case 'identity': {
        const diff = tf.sub(eta, y as tf.Tensor2D)
        lossRows = tf.square(diff) as tf.Tensor2D
        deta = tf.mul(2, diff)
        break
      }
    }
    if (weight != null) { lossRows = tf.mul(lossRows, weight); deta = tf.mul(deta, weight) }
    const lossSum = tf.sum(lossRows) as tf.Scalar
    deta = tf.mul(deta, inv)
    const grads: tf.Tensor[] = new Array(this.layers.length * 2)
    let d: tf.Tensor2D = deta
    for (let l = L; l >= 0; l--) {
      const aT = l === 0 ? xT : tf.transpose(acts[l])
      grads[2 * l] = tf.matMul(aT, d)
      grads[2 * l + 1] = tf.sum(d, 0)
      if (l > 0) {
        let da = tf.matMul(d, tf.transpose(ps[l].W)) as tf.Tensor2D
        const keep = (acts[l] as unknown as { murmurKeep?: tf.Tensor2D }).murmurKeep
        if (keep != null) da = tf.mul(da, keep)
        // a (before dropout) is needed for tanh/sigmoid/elu: recompute from z
        const aPre = keep != null ? this.activate(zs[l - 1], this.layers[l - 1].activation) : acts[l]
        d = this.backAct(da, zs[l - 1], aPre, this.layers[l - 1].activation as Activation)
      }
    }
    return [lossSum, grads]
  }

  /** Gradient of the mean loss at `weights` on the given rows (for tests and diagnostics). */
  gradient (weights: Float32Array, data: TensorData, rows: Uint32Array): { loss: number, grad: Float32Array } {
    this.checkWeights(weights)
    const buf = this.makeBuffers(rows.length)
    this.gather(data, rows, buf)
    const [loss, grad] = tf.tidy(() => {
      const t = this.batchTensors(buf, rows.length)
      const [ls, g] = this.convs.length > 0
        ? this.autodiffStep(tf.tensor1d(weights), t, rows.length, null)
        : this.forwardBackward(this.layerTensors(weights), t.x, t.xT, t.y, t.offset, t.weight, rows.length, null)
      const flat = Array.isArray(g) ? tf.concat(g.map((x) => tf.reshape(x, [-1]))) : g
      return [ls.dataSync()[0] / rows.length, flat.dataSync() as Float32Array]
    })
    return { loss, grad }
  }

  /** The same gradient by TF.js autodiff (tf.grad), to check the hand-written backward pass. */
  autodiffGradient (weights: Float32Array, data: TensorData, rows: Uint32Array): Float32Array {
    const buf = this.makeBuffers(rows.length)
    this.gather(data, rows, buf)
    return tf.tidy(() => {
      const t = this.batchTensors(buf, rows.length)
      const f = (theta: tf.Tensor): tf.Scalar => tf.div(this.lossSumOf(theta as tf.Tensor1D, t, null), rows.length) as tf.Scalar
      return tf.grad(f)(tf.tensor1d(weights)).dataSync() as Float32Array
    })
  }

  private makeBuffers (rows: number): Buffers {
    const d = this.info.inputDim
    return {
      x: new Float32Array(rows * d),
      xT: new Float32Array(rows * d),
      y: new Float32Array(rows * (this.output === 'softmax' ? this.outputDim : 1)),
      offset: new Float32Array(rows),
      weight: new Float32Array(rows),
      hasOffset: false,
      hasWeight: false
    }
  }

  private gather (data: TensorData, rows: Uint32Array, b: Buffers, flip = false): void {
    const d = this.info.inputDim
    const n = rows.length
    if (data.numFeatures !== d) throw new IncompatibleModelError(`data has ${data.numFeatures} features, the model expects ${d}`)
    const X = data.x
    for (let i = 0; i < n; i++) {
      const r = rows[i]
      const src = r * d
      b.x.set(X.subarray(src, src + d), i * d)
      for (let j = 0; j < d; j++) b.xT[j * n + i] = X[src + j]
    }
    if (this.output === 'softmax') {
      const k = this.outputDim
      b.y.fill(0)
      for (let i = 0; i < n; i++) b.y[i * k + (flip ? k - 1 - data.y[rows[i]] : data.y[rows[i]])] = 1
    } else if (!flip) {
      for (let i = 0; i < n; i++) b.y[i] = data.y[rows[i]]
    } else {
      for (let i = 0; i < n; i++) b.y[i] = this.output === 'sigmoid' ? 1 - data.y[rows[i]] : 0
    }
    b.hasOffset = this.output === 'exp' && data.offset != null
    if (b.hasOffset) for (let i = 0; i < n; i++) b.offset[i] = data.offset![rows[i]]
    b.hasWeight = data.weight != null
    if (b.hasWeight) for (let i = 0; i < n; i++) b.weight[i] = data.weight![rows[i]]
  }

  private batchTensors (b: Buffers, n: number): { x: tf.Tensor2D, xT: tf.Tensor2D, y: tf.Tensor2D, offset: tf.Tensor2D | null, weight: tf.Tensor2D | null } {
    const d = this.info.inputDim
    const k = this.output === 'softmax' ? this.outputDim : 1
    return {
      x: tf.tensor2d(b.x, [n, d]),
      xT: tf.tensor2d(b.xT, [d, n]),
      y: tf.tensor2d(b.y, [n, k]),
      offset: b.hasOffset ? tf.tensor2d(b.offset, [n, 1]) : null,
      weight: b.hasWeight ? tf.tensor2d(b.weight, [n, 1]) : null
    }
  }

  /**
   * Trains `steps` minibatches for one peer: uploads its state, runs the steps, writes the new weights and
   * optimizer slots back into `state` (in place) and returns the mean training loss. `nextRows` gives each
   * step's row indices into `data` (a fixed batch size keeps TF.js kernels cached).
   */
  trainSteps (state: TrainState, data: TensorData, steps: number, nextRows: () => Uint32Array,
    options: { dropoutSeed?: () => number, learningRate?: number, labelFlip?: boolean } = {}): { loss: number, examples: number } {
    if (this.disposed) throw new Error('model disposed')
    this.checkWeights(state.weights)
    if (steps <= 0) return { loss: NaN, examples: 0 }
    if (this.engine === 'js') return this.trainStepsJs(state, data, steps, nextRows, options)
    const opt = this.spec.optimizer
    const lr = options.learningRate ?? opt.learningRate ?? DEFAULT_LEARNING_RATE[opt.type]
    const P = this.numParams
    const parts = this.trainParts
    const dense = this.convs.length === 0
    // one tensor per training part; the optimizer's slots likewise (updates are elementwise, so the part layout
    // changes no bit of the result)
    let theta = this.uploadParts(state.weights, 0)
    let m = this.optimizerSlots >= 1 ? this.uploadParts(state.optimizer!, 0) : null
    let v = this.optimizerSlots >= 2 ? this.uploadParts(state.optimizer!, P) : null
    let lossTotal = tf.keep(tf.scalar(0))
    let examples = 0
    let buf: Buffers | null = null
    const l2 = opt.l2
    const masks = l2 > 0 ? this.getL2Masks() : null
    try {
      for (let s = 0; s < steps; s++) {
        const rows = nextRows()
        const n = rows.length
        if (n === 0) break
        if (buf == null || buf.x.length !== n * this.info.inputDim) buf = this.makeBuffers(n)
        this.gather(data, rows, buf, options.labelFlip === true)
        const b = buf
        const t = ++state.step
        const dropoutSeed = this.spec.dropout > 0 ? (options.dropoutSeed?.() ?? t) : null
        const th = theta; const mm = m; const vv = v
        // out: [lossTotal, then per part: theta, m?, v?]
        const out = tf.tidy(() => {
          const bt = this.batchTensors(b, n)
          let lossSum: tf.Scalar; let gs: tf.Tensor[]
          if (dense) {
            [lossSum, gs] = this.forwardBackward(this.layerParams(th), bt.x, bt.xT, bt.y, bt.offset, bt.weight, n, dropoutSeed)
          } else {
            const [ls, g] = this.autodiffStep(th[0] as tf.Tensor1D, bt, n, dropoutSeed)
            lossSum = ls; gs = [g]
          }
          const res: tf.Tensor[] = [tf.add(lossTotal, lossSum)]
          const lrT = opt.type === 'adam' ? lr * Math.sqrt(1 - Math.pow(opt.beta2, t)) / (1 - Math.pow(opt.beta1, t)) : lr
          for (let i = 0; i < parts.length; i++) {
            let g = gs[i]
            if (masks != null) g = tf.add(g, tf.mul(tf.mul(th[i], masks[i]), l2))
            if (opt.type === 'sgd') {
              res.push(tf.sub(th[i], tf.mul(g, lr)))
            } else if (opt.type === 'momentum') {
              const nm = tf.add(tf.mul(mm![i], opt.momentum), g)
              res.push(tf.sub(th[i], tf.mul(nm, lr)), nm)
            } else {
              const nm = tf.add(tf.mul(mm![i], opt.beta1), tf.mul(g, 1 - opt.beta1))
              const nv = tf.add(tf.mul(vv![i], opt.beta2), tf.mul(tf.square(g), 1 - opt.beta2))
              res.push(tf.sub(th[i], tf.mul(tf.div(nm, tf.add(tf.sqrt(nv), opt.epsilon)), lrT)), nm, nv)
            }
          }
          return res
        })
        lossTotal.dispose(); lossTotal = out[0] as tf.Scalar
        const k = 1 + (m != null ? 1 : 0) + (v != null ? 1 : 0)
        tf.dispose(theta); theta = parts.map((_, i) => out[1 + k * i])
        if (m != null) { tf.dispose(m); m = parts.map((_, i) => out[2 + k * i]) }
        if (v != null) { tf.dispose(v); v = parts.map((_, i) => out[3 + k * i]) }
        examples += n
      }
      for (let i = 0; i < parts.length; i++) {
        const o = parts[i].offset
        state.weights.set(theta[i].dataSync(), o)
        if (m != null) state.optimizer!.set(m[i].dataSync(), o)
        if (v != null) state.optimizer!.set(v[i].dataSync(), P + o)
      }
      const loss = examples > 0 ? lossTotal.dataSync()[0] / examples : NaN
      return { loss, examples }
    } finally {
      tf.dispose(theta); if (m != null) tf.dispose(m); if (v != null) tf.dispose(v); lossTotal.dispose()
    }
  }

  /** The plain-JavaScript training step of linear models (see `engine`). Same math as forwardBackward. */
  private trainStepsJs (state: TrainState, data: TensorData, steps: number, nextRows: () => Uint32Array,
    options: { learningRate?: number, labelFlip?: boolean }): { loss: number, examples: number } {
    const opt = this.spec.optimizer
    const lr = options.learningRate ?? opt.learningRate ?? DEFAULT_LEARNING_RATE[opt.type]
    const d = this.info.inputDim
    const k = this.outputDim
    const P = this.numParams
    const kernelSize = d * k
    const w = state.weights
    const slots = state.optimizer
    const g = (this.jsGradient ??= new Float64Array(P)) // zeroed at every step below
    const eta = new Float64Array(k)
    const de = new Float64Array(k)
    const X = data.x
    const Y = data.y
    const flip = options.labelFlip === true
    const out = this.output
    const l2 = opt.l2
    let lossTotal = 0
    let examples = 0
    for (let s = 0; s < steps; s++) {
      const rows = nextRows()
      const n = rows.length
      if (n === 0) break
      g.fill(0)
      const inv = 1 / n
      for (let i = 0; i < n; i++) {
        const r = rows[i]
        const xo = r * d
        for (let c = 0; c < k; c++) eta[c] = w[kernelSize + c]
        for (let j = 0; j < d; j++) {
          const xv = X[xo + j]
          if (xv === 0) continue
          const wo = j * k
          for (let c = 0; c < k; c++) eta[c] += xv * w[wo + c]
        }
        const yv = Y[r]
        const wi = data.weight != null ? data.weight[r] : 1
        let loss: number
        if (out === 'sigmoid') {
          const y = flip ? 1 - yv : yv
          const z = eta[0]
          loss = Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)))
          de[0] = 1 / (1 + Math.exp(-z)) - y
        } else if (out === 'softmax') {
          const cls = flip ? k - 1 - yv : yv
          let mx = -Infinity
          for (let c = 0; c < k; c++) if (eta[c] > mx) mx = eta[c]
          let sum = 0
          for (let c = 0; c < k; c++) { de[c] = Math.exp(eta[c] - mx); sum += de[c] }
          loss = -(eta[cls] - mx - Math.log(sum))
          for (let c = 0; c < k; c++) de[c] = de[c] / sum - (c === cls ? 1 : 0)
        } else if (out === 'exp') {
          const y = flip ? 0 : yv
          let e = eta[0] + (data.offset != null ? data.offset[r] : 0)
          e = Math.min(CLIP_ETA[1], Math.max(CLIP_ETA[0], e))
          const mu = Math.exp(e)
          loss = 2 * (mu - y - y * e + (y > 0 ? y * Math.log(y) : 0))
          de[0] = 2 * (mu - y)
        } else {
          const y = flip ? 0 : yv
          const diff = eta[0] - y
          loss = diff * diff
          de[0] = 2 * diff
        }
        lossTotal += loss * wi
        const f = wi * inv
        for (let c = 0; c < k; c++) { de[c] *= f; g[kernelSize + c] += de[c] }
        for (let j = 0; j < d; j++) {
          const xv = X[xo + j]
          if (xv === 0) continue
          const go = j * k
          for (let c = 0; c < k; c++) g[go + c] += xv * de[c]
        }
      }
      if (l2 > 0) for (let j = 0; j < kernelSize; j++) g[j] += l2 * w[j]
      const t = ++state.step
      if (opt.type === 'sgd') {
        for (let j = 0; j < P; j++) w[j] -= lr * g[j]
      } else if (opt.type === 'momentum') {
        for (let j = 0; j < P; j++) { const m = opt.momentum * slots![j] + g[j]; slots![j] = m; w[j] -= lr * m }
      } else {
        const b1 = opt.beta1; const b2 = opt.beta2
        const lrT = lr * Math.sqrt(1 - Math.pow(b2, t)) / (1 - Math.pow(b1, t))
        for (let j = 0; j < P; j++) {
          const m = b1 * slots![j] + (1 - b1) * g[j]
          const v = b2 * slots![P + j] + (1 - b2) * g[j] * g[j]
          slots![j] = m; slots![P + j] = v
          w[j] -= lrT * m / (Math.sqrt(v) + opt.epsilon)
        }
      }
      examples += n
    }
    return { loss: examples > 0 ? lossTotal / examples : NaN, examples }
  }

  /**
   * Predictions for rows of `data`: binary -> P(positive); multiclass -> n x k probabilities; count -> expected
   * count (frequency x exposure); regression -> value. The rows' features are cached as tensors per `rows`
   * array (by identity) so that many peers evaluating on one test split upload it once.
   */
  predict (weights: Float32Array, data: TensorData, rows: Uint32Array, options: { cache?: boolean, chunkRows?: number } = {}): Float32Array {
    this.checkWeights(weights)
    const k = this.output === 'softmax' ? this.outputDim : 1
    const out = new Float32Array(rows.length * k)
    const chunkRows = options.chunkRows ?? 16384
    const key = options.cache !== false ? cacheKey(data, rows) : null
    let cached = key != null ? this.evalCache.get(key) : undefined
    if (cached != null && key != null) { this.evalCache.delete(key); this.evalCache.set(key, cached) }
    if (cached == null) {
      const x: tf.Tensor2D[] = []; const offset: Array<tf.Tensor2D | null> = []; const sizes: number[] = []
      const d = this.info.inputDim
      for (let start = 0; start < rows.length; start += chunkRows) {
        const n = Math.min(chunkRows, rows.length - start)
        const xb = new Float32Array(n * d)
        const ob = new Float32Array(n)
        for (let i = 0; i < n; i++) {
          const r = rows[start + i]
          xb.set(data.x.subarray(r * d, r * d + d), i * d)
          if (data.offset != null) ob[i] = data.offset[r]
        }
        x.push(tf.keep(tf.tensor2d(xb, [n, d])))
        offset.push(this.output === 'exp' && data.offset != null ? tf.keep(tf.tensor2d(ob, [n, 1])) : null)
        sizes.push(n)
      }
      cached = { x, offset, rows: sizes }
      if (key != null) {
        this.evalCache.set(key, cached)
        while (this.evalCache.size > EVAL_CACHE_ENTRIES) {
          const [oldest, entry] = this.evalCache.entries().next().value as [string, CachedRows]
          this.evalCache.delete(oldest)
          for (const t of [...entry.x, ...entry.offset]) t?.dispose()
        }
      }
    }
    tf.tidy(() => {
      const theta = this.convs.length > 0 ? tf.tensor1d(weights) : null
      const ps = theta != null ? this.slices(theta) : this.layerTensors(weights)
      let o = 0
      for (let c = 0; c < cached!.x.length; c++) {
        let a: tf.Tensor2D = this.convForward(theta, cached!.x[c])
        for (let l = 0; l < this.layers.length - 1; l++) a = this.activate(tf.add(tf.matMul(a, ps[l].W), ps[l].b) as tf.Tensor2D, this.layers[l].activation)
        const L = this.layers.length - 1
        let eta = tf.add(tf.matMul(a, ps[L].W), ps[L].b) as tf.Tensor2D
        const off = cached!.offset[c]
        if (off != null) eta = tf.add(eta, off)
        const p = this.activate(eta, this.output)
        const vals = p.dataSync() as Float32Array
        out.set(vals, o)
        o += vals.length
        // free this chunk's intermediates now (never the cached input itself)
        tf.dispose([a, eta, p].filter((t) => t !== cached!.x[c] && t !== off))
      }
    })
    if (key == null) for (const t of [...cached.x, ...cached.offset]) t?.dispose()
    return out
  }

  /** Frees cached evaluation tensors (they are also freed by dispose). */
  clearCache (): void {
    for (const entry of this.evalCache.values()) for (const t of [...entry.x, ...entry.offset]) t?.dispose()
    this.evalCache.clear()
  }

  dispose (): void {
    this.clearCache()
    if (this.l2Masks != null) tf.dispose(this.l2Masks)
    this.l2Masks = null
    this.disposed = true
  }

  /** The layer layout as plain data (for export and documentation). */
  describe (): { type: string, output: Output, loss: LossName, conv: Array<{ name: string, filters: number, kernel: number, pool: number }>, layers: Array<{ name: string, inDim: number, outDim: number, activation: string }>, numParams: number, schemaHash: string } {
    return {
      type: this.spec.type,
      conv: this.convs.map((c) => ({ name: c.name, filters: c.filters, kernel: c.size, pool: c.pool })),
      output: this.output,
      loss: this.loss,
      layers: this.layers.map((l) => ({ name: l.name, inDim: l.inDim, outDim: l.outDim, activation: l.activation })),
      numParams: this.numParams,
      schemaHash: this.schemaHash
    }
  }
}

interface CachedRows { x: tf.Tensor2D[], offset: Array<tf.Tensor2D | null>, rows: number[] }

const EVAL_CACHE_ENTRIES = 4
const ids = new WeakMap<object, number>()
let nextId = 1
function idOf (o: object): number {
  let id = ids.get(o)
  if (id == null) { id = nextId++; ids.set(o, id) }
  return id
}
/** Identity of a set of rows of some data: the same buffer region gives the same key, even via a new subarray. */
function cacheKey (data: TensorData, rows: Uint32Array): string {
  return `${idOf(data)}:${idOf(data.x)}:${idOf(rows.buffer)}:${rows.byteOffset}:${rows.length}`
}

interface Buffers { x: Float32Array, xT: Float32Array, y: Float32Array, offset: Float32Array, weight: Float32Array, hasOffset: boolean, hasWeight: boolean }
