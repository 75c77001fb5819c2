/**
 * The cnn trainer: convolution blocks, then dense layers, differentiated by TF.js autodiff with respect to
 * one flat weight tensor (the wasm backend lacks the convolution gradient kernels; see backend.ts).
 */
import { tf } from '../tf.js'
import type { Layout } from '../model/layout.js'
import type { BatchTensors } from '../model/batch.js'
import { lossSumOf } from '../model/ops.js'
import { TfTrainer, type Part } from './tf-trainer.js'

export class CnnTrainer extends TfTrainer {
  readonly family = 'cnn' as const
  protected readonly parts: readonly Part[]

  constructor (lay: Layout, optimizerSlots: number) {
    super(lay, optimizerSlots)
    this.parts = [{ offset: 0, size: lay.numParams, shape: [lay.numParams] }]
  }

  /** Loss (summed over rows) and flat gradient of the mean loss by autodiff. */
  protected lossAndGrads (th: readonly tf.Tensor[], bt: BatchTensors, rows: number, dropoutSeed: number | null, _clip: number | null): [tf.Scalar, tf.Tensor[]] {
    const f = (theta: tf.Tensor): tf.Scalar => tf.div(lossSumOf(this.lay, theta as tf.Tensor1D, bt, dropoutSeed), rows) as tf.Scalar
    const { value, grad } = tf.valueAndGrad(f)(th[0] as tf.Tensor1D)
    return [tf.mul(value, rows) as tf.Scalar, [grad as tf.Tensor1D]]
  }
}
