/**
 * The dense trainer (mlp, poisson-mlp; linear models on request): a hand-written forward and backward pass
 * with explicit transposes, one tensor per parameter on the backend. On the wasm backend this is several times
 * faster than autodiff, whose transposed matMuls are slow; a test compares it with tf.grads. Holding one
 * tensor per parameter avoids slicing a flat vector, which costs a full copy of it per slice on the wasm
 * backend (its slice kernel reads its whole input back first).
 */
import { tf } from '../tf.js'
import type { Activation } from '../specs.js'
import type { Layout } from '../model/layout.js'
import type { BatchTensors } from '../model/batch.js'
import { activate, backAct, CLIP_ETA, type LayerParams } from '../model/ops.js'
import { TfTrainer, type Part } from './tf-trainer.js'

export class DenseTrainer extends TfTrainer {
  readonly family = 'dense' as const
  protected readonly parts: readonly Part[]

  constructor (lay: Layout, optimizerSlots: number) {
    super(lay, optimizerSlots)
    this.parts = lay.params
  }

  protected override readonly perExampleClipping = true

  protected lossAndGrads (th: readonly tf.Tensor[], bt: BatchTensors, rows: number, dropoutSeed: number | null, clip: number | null): [tf.Scalar, tf.Tensor[]] {
    const ps: LayerParams = this.lay.layers.map((_, l) => ({ W: th[2 * l] as tf.Tensor2D, b: th[2 * l + 1] as tf.Tensor1D }))
    return forwardBackward(this.lay, ps, bt.x, bt.xT, bt.y, bt.offset, bt.weight, rows, dropoutSeed, clip)
  }
}

/**
 * Forward and backward on one batch of a dense model with layer parameters `ps`: returns [lossSum (scalar,
 * summed over rows, weighted), gradient of the MEAN loss per parameter (`params` order and shapes)]. Must run
 * inside tf.tidy. `xT` is the transposed batch (built in JS; faster than tf.transpose).
 * With `clip` (DP-SGD), each row's gradient is scaled to an L2 norm of at most `clip` before the mean: a row's
 * kernel gradient at layer l is the outer product a_l[i] d_l[i], so its squared norm is the sum over layers of
 * (||a_l[i]||^2 + 1) ||d_l[i]||^2 (bias included), and scaling row i of the output delta scales row i of every
 * d_l alike; no per-example gradient is materialised.
 */
export function forwardBackward (lay: Layout, ps: LayerParams, x: tf.Tensor2D, xT: tf.Tensor2D, y: tf.Tensor, offset: tf.Tensor2D | null,
  weight: tf.Tensor2D | null, rows: number, dropoutSeed: number | null, clip: number | null = null): [tf.Scalar, tf.Tensor[]] {
  const acts: tf.Tensor2D[] = [x]
  const zs: tf.Tensor2D[] = []
  const rate = lay.spec.dropout
  for (let l = 0; l < lay.layers.length - 1; l++) {
    const z = tf.add(tf.matMul(acts[l], ps[l].W), ps[l].b) as tf.Tensor2D
    let a = activate(z, lay.layers[l].activation)
    if (rate > 0 && dropoutSeed != null) {
      const keep = tf.div(tf.step(tf.sub(tf.randomUniform(a.shape, 0, 1, 'float32', dropoutSeed + l), rate)), 1 - rate) as tf.Tensor2D
      a = tf.mul(a, keep)
      zs.push(z)
      acts.push(a)
      ;(a as unknown as { murmurKeep: tf.Tensor2D }).murmurKeep = keep
    } else {
      zs.push(z)
      acts.push(a)
    }
  }
  const L = lay.layers.length - 1
  let eta = tf.add(tf.matMul(acts[L], ps[L].W), ps[L].b) as tf.Tensor2D
  if (lay.output === 'exp' && offset != null) eta = tf.add(eta, offset)
  const inv = 1 / rows
  let lossRows: tf.Tensor2D
  let deta: tf.Tensor2D
  switch (lay.output) {
    case 'sigmoid': {
      const yy = y as tf.Tensor2D
      // BCE from logits: max(eta, 0) - eta*y + log(1 + exp(-|eta|))
      lossRows = tf.add(tf.sub(tf.relu(eta), tf.mul(eta, yy)), tf.log1p(tf.exp(tf.neg(tf.abs(eta)))))
      deta = tf.sub(tf.sigmoid(eta), yy)
      break
    }
    case 'softmax': {
      const Y = y as tf.Tensor2D
      const logp = tf.logSoftmax(eta)
      lossRows = tf.neg(tf.sum(tf.mul(Y, logp), 1, true)) as tf.Tensor2D
      deta = tf.sub(tf.exp(logp), Y)
      break
    }
    case 'exp': {
      const yy = y as tf.Tensor2D
      const etaC = tf.clipByValue(eta, CLIP_ETA[0], CLIP_ETA[1])
      const mu = tf.exp(etaC)
      // unit deviance 2 (mu - y - y log(mu/y)) = 2 (mu - y - y eta + y log y); y log y precomputed as 0 for y = 0
      const ylogy = tf.mul(yy, tf.log(tf.maximum(yy, 1e-30)))
      lossRows = tf.mul(2, tf.add(tf.sub(tf.sub(mu, yy), tf.mul(yy, etaC)), ylogy))
      deta = tf.mul(2, tf.sub(mu, yy))
      break
    }
    case 'identity': {
      const diff = tf.sub(eta, y as tf.Tensor2D)
      lossRows = tf.square(diff) as tf.Tensor2D
      deta = tf.mul(2, diff)
      break
    }
  }
  if (weight != null) { lossRows = tf.mul(lossRows, weight); deta = tf.mul(deta, weight) }
  const lossSum = tf.sum(lossRows) as tf.Scalar
  deta = tf.mul(deta, inv)
  const grads: tf.Tensor[] = new Array(lay.layers.length * 2)
  const ds: tf.Tensor2D[] = new Array(lay.layers.length)
  let d: tf.Tensor2D = deta
  for (let l = L; l >= 0; l--) {
    ds[l] = d
    if (l > 0) {
      let da = tf.matMul(d, tf.transpose(ps[l].W)) as tf.Tensor2D
      const keep = (acts[l] as unknown as { murmurKeep?: tf.Tensor2D }).murmurKeep
      if (keep != null) da = tf.mul(da, keep)
      // a (before dropout) is needed for tanh/sigmoid/elu: recompute from z
      const aPre = keep != null ? activate(zs[l - 1], lay.layers[l - 1].activation) : acts[l]
      d = backAct(da, zs[l - 1], aPre, lay.layers[l - 1].activation as Activation)
    }
  }
  let scale: tf.Tensor2D | null = null
  if (clip != null) {
    // per-row squared norm of the mean-loss gradient's rows (each 1/rows of the example's own gradient)
    let sq: tf.Tensor2D | null = null
    for (let l = 0; l <= L; l++) {
      const t = tf.mul(tf.add(tf.sum(tf.square(acts[l]), 1, true), 1), tf.sum(tf.square(ds[l]), 1, true)) as tf.Tensor2D
      sq = sq == null ? t : tf.add(sq, t) as tf.Tensor2D
    }
    const norm = tf.mul(tf.sqrt(sq!), rows)
    scale = tf.minimum(1, tf.div(clip, tf.maximum(norm, 1e-30))) as tf.Tensor2D
  }
  for (let l = L; l >= 0; l--) {
    const dl = scale == null ? ds[l] : tf.mul(ds[l], scale) as tf.Tensor2D
    const aT = l === 0 ? xT : tf.transpose(acts[l])
    grads[2 * l] = tf.matMul(aT, dl)
    grads[2 * l + 1] = tf.sum(dl, 0)
  }
  return [lossSum, grads]
}
