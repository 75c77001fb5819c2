/**
 * Centralized baseline: train one model on the pooled training split, evaluate on the held-out test split.
 * `murmur baseline` and the simulator's centralized reference both call `runBaseline`.
 */
import type { DatasetSpecInput, ModelSpecInput } from './specs.js'
import { loadDataset, DEFAULT_MODEL_FOR } from './builtin.js'
import type { Dataset } from './dataset.js'
import { buildModel } from './models.js'
import { createLearner, evaluateWeights } from './learner.js'
import { primaryMetric, type PrimaryMetric } from './metrics.js'
import { setBackend, ensureBackend, type BackendName } from './backend.js'
import { DEFAULT_EPOCHS, DEFAULT_LEARNING_RATE, DEFAULT_SEED } from './constants.js'
import type { Model } from './model.js'
import type { BadRowReport } from './records/index.js'

export interface BaselineOptions {
  /** Dataset: built-in name, spec file, JSON text, spec object, or an already loaded Dataset. */
  dataset: string | DatasetSpecInput | Dataset
  /** Model: built-in name, spec file, JSON text or spec object (default per dataset: mnist/digits -> mlp, fremtpl2freq -> poisson-glm, ...). */
  model?: string | ModelSpecInput
  epochs?: number
  seed?: number | string
  batchSize?: number
  backend?: BackendName
  dataDir?: string
  /** Limit rows read (quick runs). */
  maxRows?: number
  /** Evaluate on the training rows too (default true; up to `trainEvalRows` of them, evenly spaced). */
  evaluateTrain?: boolean
  trainEvalRows?: number
  /**
   * Learning-rate schedule over the run: 'linear' decays from the spec's rate to 5% of it (default; a
   * centralized reference should be converged), 'constant' keeps it.
   */
  schedule?: 'linear' | 'constant'
  signal?: AbortSignal
  /** Called after every chunk of steps: (stepsDone, stepsTotal, epoch, lastLoss). */
  onProgress?: (done: number, total: number, epoch: number, loss: number) => void
}

export interface BaselineResult {
  dataset: string
  model: string
  metric: PrimaryMetric
  test: Record<string, number>
  train: Record<string, number>
  epochs: number
  wallSeconds: number
  /** Extra detail: backend, batch size, steps, parameters, training rows, schema hash, loss per epoch. */
  backend: string
  batchSize: number
  steps: number
  numParams: number
  trainRows: number
  testRows: number
  schemaHash: string
  lossPerEpoch: number[]
  /** Rows the load skipped as bad (onBadRow 'skip'): how many, and the first few with their lines. */
  badRows: BadRowReport
  /** The trained weights (not serialized by the CLI). */
  weights?: Float32Array
}

export async function runBaseline (options: BaselineOptions): Promise<BaselineResult> {
  const started = performance.now()
  const backend = options.backend != null ? await setBackend(options.backend) : await ensureBackend()
  const dataset = typeof options.dataset === 'object' && 'numFeatures' in options.dataset
    ? options.dataset as Dataset
    : await loadDataset(options.dataset as string | DatasetSpecInput, { dataDir: options.dataDir, signal: options.signal, maxRows: options.maxRows })
  const modelArg = options.model ?? DEFAULT_MODEL_FOR[dataset.name] ?? (dataset.task === 'count' ? 'poisson-glm' : dataset.task === 'regression' ? 'linear' : 'mlp')
  const model: Model = await buildModel(modelArg, dataset.info)
  try {
    const seed = options.seed ?? DEFAULT_SEED
    const learner = createLearner({ model, dataset, shard: dataset.train, batchSize: options.batchSize, seed, initSeed: seed })
    const epochs = options.epochs ?? DEFAULT_EPOCHS
    const perEpoch = learner.stepsPerEpoch()
    const total = perEpoch * epochs
    const schedule = options.schedule ?? 'linear'
    const opt = model.spec.optimizer
    const baseRate = opt.learningRate ?? DEFAULT_LEARNING_RATE[opt.type]
    // with a schedule, update the rate at least every 1% of the run
    const chunkSteps = Math.max(1, Math.min(200, Math.ceil(perEpoch / 10), schedule === 'linear' ? Math.ceil(total / 100) : Infinity))
    const lossPerEpoch: number[] = []
    let done = 0
    for (let e = 0; e < epochs; e++) {
      let lossSum = 0; let ex = 0
      for (let s = 0; s < perEpoch; s += chunkSteps) {
        options.signal?.throwIfAborted()
        const k = Math.min(chunkSteps, perEpoch - s)
        if (schedule === 'linear') learner.learningRate = baseRate * (1 - 0.95 * (done / total))
        const r = learner.trainSync(k)
        lossSum += r.loss * r.examples; ex += r.examples
        done += k
        options.onProgress?.(done, total, e + 1, r.loss)
        // yield to the event loop so that signals and progress bars stay live
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
      lossPerEpoch.push(ex > 0 ? lossSum / ex : NaN)
    }
    const weights = learner.weights()
    const test = evaluateWeights(model, dataset, dataset.test, weights)
    let train: Record<string, number> = {}
    if (options.evaluateTrain !== false) {
      const maxRows = options.trainEvalRows ?? 200000
      // evenly spaced training rows (file order is not random)
      const step = dataset.train.length / maxRows
      const rows = dataset.train.length > maxRows ? Uint32Array.from({ length: maxRows }, (_, i) => dataset.train[Math.floor(i * step)]) : dataset.train
      train = evaluateWeights(model, dataset, rows, weights)
    }
    const modelName = typeof modelArg === 'string' && !modelArg.trim().startsWith('{') ? modelArg : model.spec.type
    return {
      dataset: dataset.name,
      model: modelName,
      metric: primaryMetric(dataset.task),
      test,
      train,
      epochs,
      wallSeconds: (performance.now() - started) / 1000,
      backend,
      batchSize: learner.batchSize,
      steps: done,
      numParams: model.numParams,
      trainRows: dataset.train.length,
      testRows: dataset.test.length,
      schemaHash: model.schemaHash,
      lossPerEpoch,
      badRows: dataset.badRows,
      weights
    }
  } finally {
    model.dispose()
  }
}
