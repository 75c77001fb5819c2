/**
 * Models as flat weight vectors over one shared TF.js runtime.
 *
 * A `Model` is the per-thread, shareable part: the spec, the layer layout (./model/layout.ts), the trainer
 * of its family (./trainers/: dense, cnn, glm) and the predictor (./model/predict.ts). It holds no peer's
 * state. A peer's state is `TrainState`: its flat `Float32Array` weights, its optimizer state (adam:
 * 2 x numParams; momentum: 1 x; sgd: none) and its step count. `trainSteps` hands a state to the trainer,
 * which trains k steps and writes it back, so hundreds of peers in one thread share one `Model` and cost
 * only their own arrays.
 */
import { tf } from './tf.js'
import { createRng } from '../protocol/rng.js'
import { parseModelSpec, type LossName, type ModelSpec, type ModelSpecInput } from './specs.js'
import { WeightsMismatchError } from './errors.js'
import { DEFAULT_BATCH_SIZE } from './constants.js'
import {
  buildLayout, schemaHashOf, unflattenWeights, type Layout, type ModelInfo, type Output, type ParamInfo, type TensorData, type TrainState
} from './model/layout.js'
import { batchTensors, gather, makeBuffers } from './model/batch.js'
import { lossSumOf } from './model/ops.js'
import { Predictor } from './model/predict.js'
import { outputPrior, priorStats, type PriorStats } from './model/prior.js'
import { createTrainer, DenseTrainer, isLinear, TfTrainer, type Trainer, type TrainOptions, type TrainResult } from './trainers/index.js'

export { priorBias, addPriorStats, type PriorStats } from './model/prior.js'
export { schemaHashOf, flattenWeights, unflattenWeights, type ModelInfo, type TensorData, type ParamInfo, type TrainState } from './model/layout.js'

export class Model {
  readonly spec: ModelSpec
  readonly info: Required<ModelInfo>
  readonly params: readonly ParamInfo[]
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
  /** The trainer of this model's family. */
  readonly trainer: Trainer
  /**
   * 'js' when the glm trainer (plain JavaScript) trains this model, else 'tfjs'. Linear models default to it;
   * `engine: 'tfjs'` in the constructor's options forces the dense TF.js trainer.
   */
  readonly engine: 'tfjs' | 'js'
  private readonly lay: Layout
  private readonly predictor: Predictor
  private disposed = false

  constructor (specInput: ModelSpecInput | ModelSpec, info: ModelInfo, options: { engine?: 'auto' | 'tfjs' | 'js' } = {}) {
    this.spec = parseModelSpec(specInput)
    this.lay = buildLayout(this.spec, info)
    this.info = this.lay.info
    this.output = this.lay.output
    this.loss = this.lay.loss
    this.outputDim = this.lay.outputDim
    this.params = this.lay.params
    this.numParams = this.lay.numParams
    this.schemaHash = schemaHashOf(this.params)
    this.optimizerSlots = this.spec.optimizer.type === 'adam' ? 2 : this.spec.optimizer.type === 'momentum' ? 1 : 0
    this.defaultBatchSize = this.spec.batchSize ?? DEFAULT_BATCH_SIZE
    this.trainer = createTrainer(this.lay, this.optimizerSlots, options.engine)
    this.engine = this.trainer.family === 'glm' ? 'js' : 'tfjs'
    this.predictor = new Predictor(this.lay)
  }

  get hiddenSizes (): number[] { return this.lay.layers.slice(0, -1).map((l) => l.outDim) }

  /**
   * Deterministic initial weights: Glorot-uniform kernels for networks, zeros for linear models. The output bias
   * is the spec's `outputBiasInit` when set, else `outputBias` (the data's own mean: `outputPrior`), else 0.
   */
  initialWeights (seed: number | string = 0, outputBias?: ArrayLike<number> | null): Float32Array {
    const w = new Float32Array(this.numParams)
    const rng = createRng(seed).fork('init')
    const linear = isLinear(this.lay)
    for (const cv of this.lay.convs) {
      const limit = Math.sqrt(6 / (cv.size * cv.size * (cv.inC + cv.filters)))
      for (let i = 0; i < cv.kernel.size; i++) w[cv.kernel.offset + i] = (rng.next() * 2 - 1) * limit
    }
    for (const layer of this.lay.layers) {
      if (!linear) {
        const limit = Math.sqrt(6 / (layer.inDim + layer.outDim))
        for (let i = 0; i < layer.kernel.size; i++) w[layer.kernel.offset + i] = (rng.next() * 2 - 1) * limit
      }
    }
    const out = this.lay.layers[this.lay.layers.length - 1]
    const fixed = this.spec.outputBiasInit
    if (typeof fixed === 'number') w.fill(fixed, out.bias.offset, out.bias.offset + out.bias.size)
    else if (fixed != null) w.set(fixed, out.bias.offset)
    else if (outputBias != null) {
      if (outputBias.length !== out.bias.size) throw new WeightsMismatchError(`outputBias has ${outputBias.length} values, the output has ${out.bias.size}`)
      for (let i = 0; i < out.bias.size; i++) w[out.bias.offset + i] = outputBias[i]
    }
    return w
  }

  /** Whether the spec fixes the initial output bias (`outputBiasInit`), so the data's mean is not used. */
  get fixedOutputBias (): boolean { return this.spec.outputBiasInit != null }

  /** The data's own mean on the link scale over `rows`: the honest start of the output bias (model/prior.ts). */
  outputPrior (data: TensorData, rows: ArrayLike<number>): Float32Array {
    return outputPrior(this.output, this.outputDim, data, rows)
  }

  /** The prior's sufficient statistics over `rows` (they add up across shards: addPriorStats). */
  priorStats (data: TensorData, rows: ArrayLike<number>): PriorStats {
    return priorStats(this.output, this.outputDim, data, rows)
  }

  /** A fresh training state (initial weights from the seed and output bias, zero optimizer slots). */
  initialState (seed: number | string = 0, weights?: Float32Array, outputBias?: ArrayLike<number> | null): TrainState {
    if (weights != null) this.checkWeights(weights)
    return {
      weights: weights != null ? Float32Array.from(weights) : this.initialWeights(seed, outputBias),
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

  /**
   * Trains `steps` minibatches for one peer: the trainer writes the new weights and optimizer slots into
   * `state` (in place); returns the mean training loss. `nextRows` gives each step's row indices into `data`
   * (a fixed batch size keeps TF.js kernels cached).
   */
  trainSteps (state: TrainState, data: TensorData, steps: number, nextRows: () => Uint32Array, options: TrainOptions = {}): TrainResult {
    if (this.disposed) throw new Error('model disposed')
    this.checkWeights(state.weights)
    if (steps <= 0) return { loss: NaN, examples: 0 }
    return this.trainer.trainSteps(state, data, steps, nextRows, options)
  }

  /** Gradient of the mean loss at `weights` on the given rows by the TF.js step (for tests and diagnostics). */
  gradient (weights: Float32Array, data: TensorData, rows: Uint32Array): { loss: number, grad: Float32Array } {
    this.checkWeights(weights)
    if (this.trainer instanceof TfTrainer) return this.trainer.gradient(weights, data, rows)
    const dense = new DenseTrainer(this.lay, this.optimizerSlots)
    try { return dense.gradient(weights, data, rows) } finally { dense.dispose() }
  }

  /** The same gradient by TF.js autodiff (tf.grad), to check the hand-written backward pass. */
  autodiffGradient (weights: Float32Array, data: TensorData, rows: Uint32Array): Float32Array {
    const buf = makeBuffers(this.lay, rows.length)
    gather(this.lay, data, rows, buf)
    return tf.tidy(() => {
      const t = batchTensors(this.lay, buf, rows.length)
      const f = (theta: tf.Tensor): tf.Scalar => tf.div(lossSumOf(this.lay, theta as tf.Tensor1D, t, null), rows.length) as tf.Scalar
      return tf.grad(f)(tf.tensor1d(weights)).dataSync() as Float32Array
    })
  }

  /**
   * Predictions for rows of `data`: binary -> P(positive); multiclass -> n x k probabilities; count -> expected
   * count (frequency x exposure); regression -> value. The rows' features are cached as tensors per `rows`
   * array (by identity) so that many peers evaluating on one test split upload it once.
   */
  predict (weights: Float32Array, data: TensorData, rows: Uint32Array, options: { cache?: boolean, chunkRows?: number } = {}): Float32Array {
    this.checkWeights(weights)
    return this.predictor.predict(weights, data, rows, options)
  }

  /** Frees cached evaluation tensors (they are also freed by dispose). */
  clearCache (): void { this.predictor.clearCache() }

  dispose (): void {
    this.clearCache()
    this.trainer.dispose()
    this.disposed = true
  }

  /** The layer layout as plain data (for export and documentation). */
  describe (): { type: string, output: Output, loss: LossName, conv: Array<{ name: string, filters: number, kernel: number, pool: number }>, layers: Array<{ name: string, inDim: number, outDim: number, activation: string }>, numParams: number, schemaHash: string } {
    return {
      type: this.spec.type,
      conv: this.lay.convs.map((c) => ({ name: c.name, filters: c.filters, kernel: c.size, pool: c.pool })),
      output: this.output,
      loss: this.loss,
      layers: this.lay.layers.map((l) => ({ name: l.name, inDim: l.inDim, outDim: l.outDim, activation: l.activation })),
      numParams: this.numParams,
      schemaHash: this.schemaHash
    }
  }
}
