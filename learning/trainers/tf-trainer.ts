/**
 * The TF.js training loop shared by the dense and cnn trainers: uploads a peer's state as one tensor per
 * training part (`parts`), runs the steps inside tf.tidy with the optimizer (sgd, momentum, adam; L2 on
 * kernels) applied per part, and downloads the state again. Subclasses give the parts and the step's loss
 * and gradients. The optimizer's updates are elementwise, so the part layout changes no bit of the result.
 */
import { tf } from '../tf.js'
import { DEFAULT_LEARNING_RATE } from '../constants.js'
import type { Layout, TensorData, TrainState } from '../model/layout.js'
import { batchTensors, gather, makeBuffers, type BatchTensors, type Buffers } from '../model/batch.js'
import { IncompatibleModelError } from '../errors.js'
import { gaussianNoise } from '../privacy/dp-sgd.js'
import type { Trainer, TrainerFamily, TrainOptions, TrainResult } from './trainer.js'

/** One training part: a range of the flat vector, held as one tensor of `shape`. */
export interface Part { offset: number, size: number, shape: number[] }

export abstract class TfTrainer implements Trainer {
  abstract readonly family: TrainerFamily
  /** How the weights are held on the backend during training, in flat-vector order. */
  protected abstract readonly parts: readonly Part[]
  /** Per training part: 1 where L2 applies (kernels), 0 elsewhere. */
  private l2Masks: tf.Tensor[] | null = null

  constructor (protected readonly lay: Layout, protected readonly optimizerSlots: number) {}

  /**
   * One batch's summed (weighted) loss and the gradient of its MEAN loss per training part, from the parts'
   * tensors `th`. Runs inside tf.tidy.
   */
  protected abstract lossAndGrads (th: readonly tf.Tensor[], bt: BatchTensors, rows: number, dropoutSeed: number | null, clip: number | null): [tf.Scalar, tf.Tensor[]]
  /** Whether lossAndGrads honours `clip` (DP-SGD's per-example clipping). */
  protected readonly perExampleClipping: boolean = false

  private getL2Masks (): tf.Tensor[] {
    if (this.l2Masks == null) {
      const m = new Float32Array(this.lay.numParams)
      for (const p of this.lay.params) if (p.kind === 'kernel') m.fill(1, p.offset, p.offset + p.size)
      this.l2Masks = this.uploadParts(m, 0)
    }
    return this.l2Masks
  }

  /** `src[base .. base + numParams)` as training parts (kept: the caller disposes them). */
  protected uploadParts (src: Float32Array, base: number): tf.Tensor[] {
    return this.parts.map((p) => tf.keep(tf.tensor(src.subarray(base + p.offset, base + p.offset + p.size), p.shape)))
  }

  /**
   * Trains `steps` minibatches for one peer: uploads its state, runs the steps, writes the new weights and
   * optimizer slots back into `state` (in place) and returns the mean training loss. `nextRows` gives each
   * step's row indices into `data` (a fixed batch size keeps TF.js kernels cached).
   */
  trainSteps (state: TrainState, data: TensorData, steps: number, nextRows: () => Uint32Array, options: TrainOptions = {}): TrainResult {
    const lay = this.lay
    const opt = lay.spec.optimizer
    const lr = options.learningRate ?? opt.learningRate ?? DEFAULT_LEARNING_RATE[opt.type]
    const P = lay.numParams
    const parts = this.parts
    // one tensor per training part; the optimizer's slots likewise (updates are elementwise, so the part layout
    // changes no bit of the result)
    let theta = this.uploadParts(state.weights, 0)
    let m = this.optimizerSlots >= 1 ? this.uploadParts(state.optimizer!, 0) : null
    let v = this.optimizerSlots >= 2 ? this.uploadParts(state.optimizer!, P) : null
    let lossTotal = tf.keep(tf.scalar(0))
    let examples = 0
    let buf: Buffers | null = null
    const l2 = opt.l2
    const masks = l2 > 0 ? this.getL2Masks() : null
    const dp = options.privacy ?? null
    if (dp != null && !this.perExampleClipping) throw new IncompatibleModelError(`differential privacy: the ${this.family} trainer has no per-example clipping`)
    try {
      for (let s = 0; s < steps; s++) {
        const rows = nextRows()
        const n = rows.length
        if (n === 0) break
        if (buf == null || buf.x.length !== n * lay.info.inputDim) buf = makeBuffers(lay, n)
        gather(lay, data, rows, buf, options.labelFlip === true)
        const b = buf
        const t = ++state.step
        const dropoutSeed = lay.spec.dropout > 0 ? (options.dropoutSeed?.() ?? t) : null
        const th = theta; const mm = m; const vv = v
        // DP-SGD noise on the sum of clipped gradients, over n as the mean is (drawn in JS from the seeded source)
        const noise = dp != null ? gaussianNoise(P, dp, 1 / n) : null
        // out: [lossTotal, then per part: theta, m?, v?]
        const out = tf.tidy(() => {
          const bt = batchTensors(lay, b, n)
          const [lossSum, gs] = this.lossAndGrads(th, bt, n, dropoutSeed, dp?.clip ?? null)
          if (noise != null) for (let i = 0; i < parts.length; i++) gs[i] = tf.add(gs[i], tf.tensor(noise.subarray(parts[i].offset, parts[i].offset + parts[i].size), parts[i].shape))
          const res: tf.Tensor[] = [tf.add(lossTotal, lossSum)]
          const lrT = opt.type === 'adam' ? lr * Math.sqrt(1 - Math.pow(opt.beta2, t)) / (1 - Math.pow(opt.beta1, t)) : lr
          for (let i = 0; i < parts.length; i++) {
            let g = gs[i]
            if (masks != null) g = tf.add(g, tf.mul(tf.mul(th[i], masks[i]), l2))
            if (opt.type === 'sgd') {
              res.push(tf.sub(th[i], tf.mul(g, lr)))
            } else if (opt.type === 'momentum') {
              const nm = tf.add(tf.mul(mm![i], opt.momentum), g)
              res.push(tf.sub(th[i], tf.mul(nm, lr)), nm)
            } else {
              const nm = tf.add(tf.mul(mm![i], opt.beta1), tf.mul(g, 1 - opt.beta1))
              const nv = tf.add(tf.mul(vv![i], opt.beta2), tf.mul(tf.square(g), 1 - opt.beta2))
              res.push(tf.sub(th[i], tf.mul(tf.div(nm, tf.add(tf.sqrt(nv), opt.epsilon)), lrT)), nm, nv)
            }
          }
          return res
        })
        lossTotal.dispose(); lossTotal = out[0] as tf.Scalar
        const k = 1 + (m != null ? 1 : 0) + (v != null ? 1 : 0)
        tf.dispose(theta); theta = parts.map((_, i) => out[1 + k * i])
        if (m != null) { tf.dispose(m); m = parts.map((_, i) => out[2 + k * i]) }
        if (v != null) { tf.dispose(v); v = parts.map((_, i) => out[3 + k * i]) }
        examples += n
      }
      for (let i = 0; i < parts.length; i++) {
        const o = parts[i].offset
        state.weights.set(theta[i].dataSync(), o)
        if (m != null) state.optimizer!.set(m[i].dataSync(), o)
        if (v != null) state.optimizer!.set(v[i].dataSync(), P + o)
      }
      const loss = examples > 0 ? lossTotal.dataSync()[0] / examples : NaN
      return { loss, examples }
    } finally {
      tf.dispose(theta); if (m != null) tf.dispose(m); if (v != null) tf.dispose(v); lossTotal.dispose()
    }
  }

  /** Loss and gradient of the mean loss at `weights` on the given rows, by this trainer's step (tests); `clip`: of the mean of clipped per-example gradients. */
  gradient (weights: Float32Array, data: TensorData, rows: Uint32Array, clip: number | null = null): { loss: number, grad: Float32Array } {
    const lay = this.lay
    if (clip != null && !this.perExampleClipping) throw new IncompatibleModelError(`differential privacy: the ${this.family} trainer has no per-example clipping`)
    const buf: Buffers = makeBuffers(lay, rows.length)
    gather(lay, data, rows, buf)
    return tf.tidy(() => {
      const t = batchTensors(lay, buf, rows.length)
      const th = this.parts.map((p) => tf.tensor(weights.subarray(p.offset, p.offset + p.size), p.shape))
      const [ls, g] = this.lossAndGrads(th, t, rows.length, null, clip)
      const flat = g.length === 1 ? g[0] : tf.concat(g.map((x) => tf.reshape(x, [-1])))
      return { loss: ls.dataSync()[0] / rows.length, grad: flat.dataSync() as Float32Array }
    })
  }

  dispose (): void {
    if (this.l2Masks != null) tf.dispose(this.l2Masks)
    this.l2Masks = null
  }
}
