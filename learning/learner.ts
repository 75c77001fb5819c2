/**
 * `DatasetLearner`: the `Learner` of one peer, over its shard of a dataset, training through a shared `Model`.
 *
 * Memory per peer: its weights, its optimizer slots (adam: 2 x weights), its shard's row indices and a seeded
 * RNG. The TF.js runtime (`Model`) is shared by every learner of the thread that uses the same spec: `train`
 * uploads this peer's weights and optimizer state, runs the steps, and downloads them again.
 */
import type { AbortOptions, Learner, MetricValues, TrainResult } from '../protocol/interfaces.js'
import { createRng, type Rng } from '../protocol/rng.js'
import type { AppendOptions, Dataset } from './dataset.js'
import { computeMetrics } from './metrics.js'
import type { Model, TrainState } from './model.js'
import type { Shard } from './partition.js'
import { WeightsMismatchError } from './errors.js'
import type { PeerPrivacy } from './privacy/peer.js'

export interface LearnerInit {
  /** The shared model runtime (one per spec per thread; see `sharedModel`). */
  model: Model
  dataset: Dataset
  /** This peer's training rows (a Shard or row indices). Copied. Default: all of dataset.train. */
  shard?: Shard | Uint32Array
  /** Rows for evaluate({ split: 'test' }) (default dataset.test). Shared, not copied. */
  testRows?: Uint32Array
  /** Fraction of the shard held out for evaluate({ split: 'local' }) (default 0: evaluate on the shard). */
  localValidation?: number
  /** Minibatch size (default: the model spec's, else 32). */
  batchSize?: number
  /** Seed of this peer's minibatch order and dropout. */
  seed?: number | string
  /** Starting weights (copied). Default: model.initialWeights(initSeed). */
  weights?: Float32Array
  /** Seed of the initial weights when none are given: peers of one network should share it (default 0). */
  initSeed?: number | string
  /**
   * Output bias of the initial weights when none are given (the spec's outputBiasInit wins). Default: this
   * shard's own mean on the link scale (model/prior.ts); a network passes one pooled start to all its peers.
   */
  outputBias?: ArrayLike<number> | null
  /** Reset the optimizer slots when merged weights arrive via setWeights (default false). */
  resetOptimizerOnSetWeights?: boolean
  /**
   * Data-poisoning attack for simulations: train on flipped labels (class c -> k-1-c; binary 0 <-> 1;
   * counts and values: y -> 0). Evaluation still uses the true labels.
   */
  labelFlip?: boolean
  /** DP-SGD with a budget: this peer's privacy (its accountant is stepped by every train call). */
  privacy?: PeerPrivacy
}

export class DatasetLearner implements Learner {
  readonly model: Model
  readonly dataset: Dataset
  readonly schemaHash: string
  readonly numParams: number
  readonly batchSize: number
  readonly state: TrainState
  private shard: Uint32Array
  private shardLength: number
  private validation: Uint32Array
  private readonly testRows: Uint32Array
  private cursor: number
  private readonly rng: Rng
  private readonly resetOptimizer: boolean
  private batch: Uint32Array
  private readonly labelFlip: boolean
  readonly privacy: PeerPrivacy | null
  /** Overrides the spec's learning rate for the next train calls (schedules); null = the spec's. */
  learningRate: number | null = null

  constructor (init: LearnerInit) {
    this.model = init.model
    this.dataset = init.dataset
    this.schemaHash = init.model.schemaHash
    this.numParams = init.model.numParams
    this.rng = createRng(init.seed ?? 0).fork('learner')
    const rows = init.shard == null ? init.dataset.train : init.shard instanceof Uint32Array ? init.shard : init.shard.indices
    let own = Uint32Array.from(rows)
    const v = init.localValidation ?? 0
    if (v > 0 && own.length > 1) {
      const order = this.rng.fork('validation').shuffle(Array.from(own))
      const nv = Math.max(1, Math.min(own.length - 1, Math.round(own.length * v)))
      this.validation = Uint32Array.from(order.slice(0, nv)).sort()
      own = Uint32Array.from(order.slice(nv))
    } else {
      this.validation = new Uint32Array(0)
    }
    this.shard = own
    this.shardLength = own.length
    this.testRows = init.testRows ?? init.dataset.test
    this.batchSize = init.batchSize ?? init.model.defaultBatchSize
    this.batch = new Uint32Array(this.batchSize)
    this.cursor = this.shardLength // forces a shuffle before the first batch
    this.resetOptimizer = init.resetOptimizerOnSetWeights ?? false
    this.labelFlip = init.labelFlip ?? false
    this.privacy = init.privacy ?? null
    const bias = init.weights != null || init.model.fixedOutputBias ? null : (init.outputBias ?? init.model.outputPrior(init.dataset, own))
    this.state = init.model.initialState(init.initSeed ?? 0, init.weights, bias)
  }

  numExamples (): number { return this.shardLength }

  /** This peer's training rows (a view; do not modify). */
  rows (): Uint32Array { return this.shard.subarray(0, this.shardLength) }

  /** Adds rows (indices into the dataset, e.g. from dataset.appendRecords) to this peer's training shard. */
  addRows (indices: Uint32Array | number[]): number {
    const need = this.shardLength + indices.length
    if (need > this.shard.length) {
      const grown = new Uint32Array(Math.max(need, this.shard.length * 2))
      grown.set(this.shard.subarray(0, this.shardLength))
      this.shard = grown
    }
    this.shard.set(indices, this.shardLength)
    this.shardLength = need
    this.cursor = this.shardLength // reshuffle so new rows are seen this epoch
    return this.shardLength
  }

  /** Adds rows to this peer's local validation split (evaluate({ split: 'local' })). */
  addValidationRows (indices: Uint32Array | number[]): number {
    const v = new Uint32Array(this.validation.length + indices.length)
    v.set(this.validation)
    v.set(indices, this.validation.length)
    this.validation = v
    return v.length
  }

  /** Rows of the local validation split (a view). */
  validationRows (): Uint32Array { return this.validation }

  /**
   * Parses, encodes and appends raw records (cells in file column order) to the dataset and to this shard.
   * `options`: the source's name, or its name, file lines and bad-row policy (see Dataset.appendRecords).
   */
  addRecords (records: readonly string[][], options?: string | AppendOptions): number {
    return this.addRows(this.dataset.appendRecords(records, options))
  }

  private nextRows (): Uint32Array {
    const n = this.shardLength
    if (n <= this.batchSize) return this.shard.subarray(0, n)
    if (this.cursor + this.batchSize > n) {
      // Fisher-Yates over the live part of the shard
      const s = this.shard
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(this.rng.next() * (i + 1))
        const t = s[i]; s[i] = s[j]; s[j] = t
      }
      this.cursor = 0
    }
    this.batch.set(this.shard.subarray(this.cursor, this.cursor + this.batchSize))
    this.cursor += this.batchSize
    return this.batch
  }

  /** Steps per epoch over this shard at this batch size. */
  stepsPerEpoch (): number { return Math.max(1, Math.ceil(this.shardLength / this.batchSize)) }

  async train (steps: number, options: AbortOptions = {}): Promise<TrainResult> {
    options.signal?.throwIfAborted()
    if (this.shardLength === 0 || steps <= 0) return { steps: 0, loss: NaN, examples: 0 }
    return this.trainSync(steps)
  }

  /** Synchronous variant of train (for tight loops and benchmarks). */
  trainSync (steps: number): TrainResult {
    if (this.shardLength === 0 || steps <= 0) return { steps: 0, loss: NaN, examples: 0 }
    const dp = this.privacy
    let k = steps
    if (dp != null) {
      dp.setSampleRate(Math.min(1, this.batchSize / this.shardLength))
      k = dp.allowedSteps(steps)
      if (k === 0) { dp.record(0, steps); return { steps: 0, loss: NaN, examples: 0 } }
    }
    const r = this.model.trainSteps(this.state, this.dataset, k, () => this.nextRows(), {
      dropoutSeed: () => this.rng.int(0x7fffffff),
      labelFlip: this.labelFlip,
      learningRate: this.learningRate ?? undefined,
      privacy: dp?.dpSgd()
    })
    dp?.record(k, steps)
    return { steps: k, loss: r.loss, examples: r.examples }
  }

  /** Whether this peer's privacy budget is spent (the engine then sends nothing from it). */
  privacyExhausted (): boolean { return this.privacy?.exhausted === true }

  /** A copy of the current weights. */
  weights (): Float32Array { return Float32Array.from(this.state.weights) }

  setWeights (weights: Float32Array): void {
    if (weights.length !== this.numParams) {
      throw new WeightsMismatchError(`setWeights: got ${weights.length} values, schema ${this.schemaHash.slice(0, 12)} has ${this.numParams}`)
    }
    this.state.weights.set(weights)
    if (this.resetOptimizer && this.state.optimizer != null) { this.state.optimizer.fill(0); this.state.step = 0 }
  }

  /**
   * Metrics of the current weights: `test` on the global held-out rows, `local` (default) on this peer's
   * validation rows (or its training rows when it holds none out). `maxRows` evaluates a fixed prefix only.
   */
  async evaluate (options: AbortOptions & { split?: 'local' | 'test', maxRows?: number } = {}): Promise<MetricValues> {
    options.signal?.throwIfAborted()
    return this.evaluateSync(options)
  }

  evaluateSync (options: { split?: 'local' | 'test', maxRows?: number } = {}): MetricValues {
    let rows: Uint32Array
    let cache = true
    if (options.split === 'test') rows = this.testRows
    else if (this.validation.length > 0) rows = this.validation
    else { rows = this.rows(); cache = false } // the shard is reshuffled in place: never cache it
    if (options.maxRows != null && options.maxRows < rows.length) rows = rows.subarray(0, options.maxRows)
    return evaluateWeights(this.model, this.dataset, rows, this.state.weights, { cache })
  }

  dispose (): void {
    this.shard = new Uint32Array(0)
    this.shardLength = 0
    this.validation = new Uint32Array(0)
  }
}

/** Metrics of `weights` on some rows of a dataset (through a model runtime). */
export function evaluateWeights (model: Model, dataset: Dataset, rows: Uint32Array, weights: Float32Array, options: { cache?: boolean, gini?: boolean } = {}): MetricValues {
  if (rows.length === 0) return { examples: 0 }
  const pred = model.predict(weights, dataset, rows, { cache: options.cache })
  const n = rows.length
  const y = new Float32Array(n)
  for (let i = 0; i < n; i++) y[i] = dataset.y[rows[i]]
  const exposure = dataset.exposure != null ? Float32Array.from(rows, (r) => dataset.exposure![r]) : null
  const weight = dataset.weight != null ? Float32Array.from(rows, (r) => dataset.weight![r]) : null
  let p: Float32Array = pred
  if (dataset.task === 'binary' && model.outputDim === 2) {
    p = new Float32Array(n)
    for (let i = 0; i < n; i++) p[i] = pred[i * 2 + 1]
  }
  return computeMetrics(dataset.task, y, p, { numClasses: dataset.numClasses, exposure, weight, gini: options.gini })
}

/** Creates the learner of one peer. */
export function createLearner (init: LearnerInit): DatasetLearner {
  return new DatasetLearner(init)
}
