/**
 * Murmur's learning layer: TF.js models as flat weight vectors, datasets from validated JSON specs,
 * partitioners, a `Learner` per peer over one shared model runtime, metrics and centralized baselines.
 *
 * @example
 * ```ts
 * import { setBackend, loadDataset, partition, sharedModel, createLearner, runBaseline } from './learning/index.js'
 *
 * await setBackend('wasm')                                         // default; 'cpu', 'tensorflow', 'tensorflow-gpu'
 * const data = await loadDataset('mnist')                          // embedded; or 'fremtpl2freq', a spec file, a spec object
 * const shards = partition(data, { kind: 'dirichlet', peers: 100, alpha: 0.5, seed: 7 })
 * const model = await sharedModel('mlp', data.info)                // ONE runtime per thread, shared by all peers
 * const peers = shards.map((shard, i) => createLearner({ model, dataset: data, shard, seed: i, batchSize: 32 }))
 * await peers[0].train(10)                                         // 10 minibatch steps on peer 0's rows
 * const w = peers[0].weights()                                     // Float32Array (model.numParams)
 * peers[1].setWeights(w)
 * const m = await peers[1].evaluate({ split: 'test' })             // { accuracy, logLoss, examples }
 * const central = await runBaseline({ dataset: data, model: 'mlp', epochs: 3 })
 * ```
 */
export { tf } from './tf.js'
export { setBackend, ensureBackend, currentBackend, BACKEND_NAMES, CONV_TRAINING_BACKENDS, type BackendName, type SetBackendOptions } from './backend.js'
export {
  BackendUnavailableError, InvalidSpecError, BadRowError, DatasetNotFoundError, EmptyDatasetError, UnsupportedFormatError, UnsupportedOnBackendError,
  WeightsMismatchError, IncompatibleModelError
} from './errors.js'
export {
  parseModelSpec, parseDatasetSpec, ModelSpecSchema, DatasetSpecSchema, ColumnSpecSchema, ModelTypes, Activations, Losses,
  type ModelSpec, type ModelSpecInput, type DatasetSpec, type DatasetSpecInput, type ColumnSpec, type ModelType, type LossName
} from './specs.js'
export { Model, schemaHashOf, flattenWeights, unflattenWeights, type ModelInfo, type TensorData, type TrainState, type ParamInfo } from './model.js'
export { buildModel, sharedModel, disposeSharedModels, resolveModelSpec, BUILTIN_MODELS, BUILTIN_MODEL_NAMES } from './models.js'
export { Dataset, loadDatasetFromSpec, datasetFromArrays, defaultDataDir, type LoadOptions, type Encoding, type BadRowReport, type AppendOptions } from './dataset.js'
export { RecordSource, BadRows, RowProblem, DelimitedReader, type RecordFormat, type SourcePosition, type SourceRecord, type BadRowPolicy } from './records/index.js'
export { loadDataset, loadMnist, resolveDatasetSpec, BUILTIN_DATASETS, BUILTIN_DATASET_NAMES, DEFAULT_MODEL_FOR } from './builtin.js'
export { partition, apportion, PARTITION_KINDS, type PartitionKind, type PartitionOptions, type Shard } from './partition.js'
export { DatasetLearner, createLearner, evaluateWeights, type LearnerInit } from './learner.js'
export {
  primaryMetric, computeMetrics, binaryAccuracy, binaryLogLoss, rocAuc, multiclassAccuracy, multiclassLogLoss,
  poissonUnitDeviance, poissonMetrics, regressionMetrics, poissonGini, goalMetric, GOAL_METRICS, TASK_METRICS, UnknownMetricError,
  type Task, type PrimaryMetric, type PoissonMetrics
} from './metrics.js'
export { drawResamples, rowTerms, metricsAt, resampledMetrics, percentileInterval, type Resamples, type RowTerms } from './bootstrap.js'
export { runBaseline, type BaselineOptions, type BaselineResult } from './baseline.js'
export * as defaults from './constants.js'
export { createFileLearner, evaluateWeightsOnFile, FileLearner, type FileLearnerInit } from './file-learner.js'
export { exportLayersModel, toLayersModel, type ExportOptions } from './export.js'
export { BLEND_GRID, DEFAULT_VALIDATION_FRACTION, PersonalSelectionError, holdOutRows, blendWeights, blendPredictions, chooseBlend, labelsCanTell, selectionLoss, rowContributions, pairedDifference, type BlendChoice } from './personal.js'
export { aucPlacements, pairedAucDifference, type PairedAuc, type Placements } from './auc-compare.js'
export { blendModeOf, choosePersonal, evaluatePersonal, personalWeights, predictPersonal, type BlendMode, type PersonalModel, type PersonalChoice, type PersonalFigures } from './personal-model.js'
