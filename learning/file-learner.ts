/**
 * A learner over one local data file (the daemon's case): the peer's own rows only, no global split,
 * a local validation split, and growth by appended records.
 */
import type { DatasetSpecInput, ModelSpecInput } from './specs.js'
import { parseDatasetSpec } from './specs.js'
import { resolveDatasetSpec, loadDataset } from './builtin.js'
import type { AppendOptions, Dataset, Encoding } from './dataset.js'
import { buildModel } from './models.js'
import { DatasetLearner, evaluateWeights } from './learner.js'
import { primaryMetric, type PrimaryMetric } from './metrics.js'
import { setBackend, ensureBackend, type BackendName } from './backend.js'
import type { MetricValues } from '../protocol/interfaces.js'
import { createRng, type Rng } from '../protocol/rng.js'

export interface FileLearnerInit {
  /** Model spec or built-in name. */
  model: string | ModelSpecInput
  /** Dataset spec or built-in name (its columns and encoding; `dataFile` replaces its file). */
  dataset: string | DatasetSpecInput
  /** The peer's data file (default: the spec's file). */
  dataFile?: string
  dataDir?: string
  seed?: number | string
  /** Seed of the initial weights; peers of one network share it (default 0). */
  initSeed?: number | string
  backend?: BackendName
  batchSize?: number
  /** Fraction of the local rows held out for evaluate({ split: 'local' }) (default 0.1). */
  localValidation?: number
  /** Encoding statistics to use where the spec has none (e.g. from the network manifest). */
  encoding?: Encoding
  signal?: AbortSignal
}

/** The dataset spec pointed at one file, with every row for training. */
function localSpec (dataset: string | DatasetSpecInput, dataFile?: string): DatasetSpecInput {
  const spec = parseDatasetSpec(resolveDatasetSpec(dataset))
  return { ...spec, file: dataFile ?? spec.file, testFile: undefined, testFormat: undefined, testFraction: 0 }
}

export class FileLearner extends DatasetLearner {
  readonly primaryMetric: PrimaryMetric
  /** Bytes of the data file consumed by the initial load (resume tailing from here). */
  readonly loadedBytes: number

  private readonly holdOut: number
  private readonly splitRng: Rng

  constructor (init: ConstructorParameters<typeof DatasetLearner>[0]) {
    super(init)
    this.primaryMetric = primaryMetric(init.dataset.task)
    this.loadedBytes = init.dataset.loadedBytes
    this.holdOut = init.localValidation ?? 0
    this.splitRng = createRng(init.seed ?? 0).fork('appended-validation')
  }

  /**
   * Appends records (cells in the file's column order, complete lines, no header): the same share as at load
   * time goes to the local validation split, the rest is trained on from the next round. Returns numExamples().
   */
  appendRecords (records: readonly string[][], options: string | AppendOptions = 'appended'): number {
    const idx = this.dataset.appendRecords(records, options)
    const train: number[] = []; const validation: number[] = []
    for (const r of idx) (this.splitRng.next() < this.holdOut ? validation : train).push(r)
    if (validation.length > 0) this.addValidationRows(validation)
    return this.addRows(train)
  }
}

/**
 * Loads the peer's data file and creates its learner.
 *
 * @example
 * ```ts
 * const learner = await createFileLearner({ model: 'poisson-glm', dataset: 'fremtpl2freq', dataFile: 'my-branch.csv' })
 * await learner.train(50)
 * learner.appendRecords([['123', '0', '0.5', ...]])      // rows appended to the file later
 * ```
 */
export async function createFileLearner (init: FileLearnerInit): Promise<FileLearner> {
  if (init.backend != null) await setBackend(init.backend); else await ensureBackend()
  const dataset = await loadDataset(localSpec(init.dataset, init.dataFile), { dataDir: init.dataDir, signal: init.signal, encoding: init.encoding })
  const model = await buildModel(init.model, dataset.info)
  return new FileLearner({
    model,
    dataset,
    shard: dataset.train,
    localValidation: init.localValidation ?? 0.1,
    batchSize: init.batchSize,
    seed: init.seed,
    initSeed: init.initSeed
  })
}

/** Evaluates weights on every row of a data file (`murmur evaluate --data FILE`). */
export async function evaluateWeightsOnFile (init: {
  model: string | ModelSpecInput, dataset: string | DatasetSpecInput, dataFile?: string, weights: Float32Array,
  backend?: BackendName, dataDir?: string, encoding?: Encoding, signal?: AbortSignal
}): Promise<{ rows: number, metrics: MetricValues, metric: PrimaryMetric, dataset: Dataset }> {
  if (init.backend != null) await setBackend(init.backend); else await ensureBackend()
  const dataset = await loadDataset(localSpec(init.dataset, init.dataFile), { dataDir: init.dataDir, signal: init.signal, encoding: init.encoding })
  const model = await buildModel(init.model, dataset.info)
  try {
    const metrics = evaluateWeights(model, dataset, dataset.train, init.weights, { cache: false })
    return { rows: dataset.train.length, metrics, metric: primaryMetric(dataset.task), dataset }
  } finally {
    model.dispose()
  }
}
