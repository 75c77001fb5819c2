/**
 * One trainer per model family, behind the `Trainer` interface: dense (hand-written TF.js backward pass),
 * cnn (TF.js autodiff), glm (plain JavaScript, for linear models).
 *
 * @example
 * ```ts
 * import { createTrainer } from './learning/trainers/index.js'
 * import { buildLayout } from './learning/model/layout.js'
 *
 * const lay = buildLayout(parseModelSpec({ type: 'logistic' }), { inputDim: 10, task: 'binary' })
 * const trainer = createTrainer(lay, 2)                       // GlmTrainer; { engine: 'tfjs' } for DenseTrainer
 * trainer.trainSteps(state, data, 5, () => rows, {})          // state: a Model's initialState()
 * ```
 */
import { IncompatibleModelError } from '../errors.js'
import type { Layout } from '../model/layout.js'
import { CnnTrainer } from './cnn.js'
import { DenseTrainer } from './dense.js'
import { GlmTrainer } from './glm.js'
import type { Trainer } from './trainer.js'

export { CnnTrainer, DenseTrainer, GlmTrainer }
export { TfTrainer, type Part } from './tf-trainer.js'
export type { Trainer, TrainerFamily, TrainOptions, TrainResult } from './trainer.js'

/** Whether a layout is a linear model (one dense layer, no convolutions). */
export function isLinear (lay: Layout): boolean { return lay.layers.length === 1 && lay.convs.length === 0 }

/**
 * The trainer of a layout. `engine`: 'auto' (glm for linear models, else dense or cnn), 'tfjs' (never glm),
 * 'js' (glm; linear models only).
 */
export function createTrainer (lay: Layout, optimizerSlots: number, engine: 'auto' | 'tfjs' | 'js' = 'auto'): Trainer {
  const linear = isLinear(lay)
  if (engine === 'js' && !linear) throw new IncompatibleModelError(`the js engine trains linear models only, not '${lay.spec.type}'`)
  if (lay.convs.length > 0) return new CnnTrainer(lay, optimizerSlots)
  if (engine === 'tfjs' || !linear) return new DenseTrainer(lay, optimizerSlots)
  return new GlmTrainer(lay)
}
