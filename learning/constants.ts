/** Defaults of the learning layer: the single source for code and CLI defaults. */
import type { BackendName } from './backend.js'

export const DEFAULT_BACKEND: BackendName = 'wasm'
export const DEFAULT_BATCH_SIZE = 32
export const DEFAULT_LEARNING_RATE = { sgd: 0.05, momentum: 0.01, adam: 0.001 } as const
export const DEFAULT_SEED = 1
export const DEFAULT_EPOCHS = 3
/** Environment variable naming the data directory. */
export const DATA_DIR_ENV = 'MURMUR_DATA_DIR'
