/**
 * The trainer seam: one trainer per model family trains a peer's `TrainState` in place. The `Model` facade
 * picks one (trainers/index.ts) and checks the state before handing it over.
 */
import type { TensorData, TrainState } from '../model/layout.js'
import type { DpSgdOptions } from '../privacy/dp-sgd.js'

export type TrainerFamily = 'dense' | 'cnn' | 'glm'

export interface TrainOptions {
  /** Seed of each step's dropout masks (default: the step count). */
  dropoutSeed?: () => number
  learningRate?: number
  /** Train on flipped labels (a label-flipping peer). */
  labelFlip?: boolean
  /** DP-SGD: clip each example's gradient and add Gaussian noise to their sum (dense and glm trainers). */
  privacy?: DpSgdOptions
}

export interface TrainResult { loss: number, examples: number }

export interface Trainer {
  readonly family: TrainerFamily
  /**
   * Trains `steps` (> 0) minibatches: the new weights, optimizer slots and step count are written into
   * `state`; returns the mean training loss over the examples seen. `nextRows` gives each step's rows.
   */
  trainSteps: (state: TrainState, data: TensorData, steps: number, nextRows: () => Uint32Array, options: TrainOptions) => TrainResult
  /** Frees what the trainer holds on the backend. */
  dispose: () => void
}
