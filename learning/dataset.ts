/**
 * Datasets: the public names of ./dataset/ (columns, encoding, the Dataset class, loading).
 */
export { Dataset, datasetFromArrays, splitRows, type AppendOptions } from './dataset/dataset.js'
export { loadDatasetFromSpec, defaultDataDir, type LoadOptions } from './dataset/load.js'
export type { Encoding } from './dataset/encoding.js'
export type { BadRowReport } from './records/index.js'
