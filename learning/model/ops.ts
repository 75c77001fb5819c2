/**
 * The TF.js building blocks shared by trainers and prediction: activations and their derivatives, the
 * convolution blocks, dense layers' parameters from a flat vector, and the batch loss as a differentiable
 * function of the flat weights (autodiff: cnn training, and the check of the hand-written gradients).
 */
import { tf } from '../tf.js'
import type { Activation } from '../specs.js'
import type { Layout, Output } from './layout.js'

/** Linear predictor bounds of the exp output (keeps exp finite). */
export const CLIP_ETA: [number, number] = [-30, 20]

/** One dense layer's kernel and bias tensors, per layer. */
export type LayerParams = Array<{ W: tf.Tensor2D, b: tf.Tensor1D }>

/** A batch's tensors as the loss reads them. */
export interface LossTensors { x: tf.Tensor2D, y: tf.Tensor2D, offset: tf.Tensor2D | null, weight: tf.Tensor2D | null }

export function activate (z: tf.Tensor2D, a: Activation | Output): tf.Tensor2D {
  switch (a) {
    case 'relu': return tf.relu(z)
    case 'tanh': return tf.tanh(z)
    case 'sigmoid': return tf.sigmoid(z)
    case 'elu': return tf.elu(z)
    case 'linear': case 'identity': return z
    case 'softmax': return tf.softmax(z)
    case 'exp': return tf.exp(tf.clipByValue(z, CLIP_ETA[0], CLIP_ETA[1]))
  }
}

/** d activation / d z, given z and a = act(z), times the incoming gradient. */
export function backAct (da: tf.Tensor2D, z: tf.Tensor2D, a: tf.Tensor2D, act: Activation): tf.Tensor2D {
  switch (act) {
    case 'relu': return tf.mul(da, tf.step(z))
    case 'tanh': return tf.mul(da, tf.sub(1, tf.square(a)))
    case 'sigmoid': return tf.mul(da, tf.mul(a, tf.sub(1, a)))
    case 'elu': return tf.mul(da, tf.where(tf.greater(z, 0), tf.onesLike(z), tf.add(a, 1)))
    case 'linear': return da
  }
}

/** Dense layers' parameters straight from a flat vector (uploads each parameter; no flat tensor). */
export function layerTensors (lay: Layout, weights: Float32Array): LayerParams {
  return lay.layers.map((l) => ({
    W: tf.tensor2d(weights.subarray(l.kernel.offset, l.kernel.offset + l.kernel.size), [l.inDim, l.outDim]),
    b: tf.tensor1d(weights.subarray(l.bias.offset, l.bias.offset + l.bias.size))
  }))
}

/** Dense layers' parameters as slices of a flat weight tensor (cnn, autodiff). */
export function slices (lay: Layout, theta: tf.Tensor1D): LayerParams {
  return lay.layers.map((l) => ({
    W: theta.slice(l.kernel.offset, l.kernel.size).reshape([l.inDim, l.outDim]) as tf.Tensor2D,
    b: theta.slice(l.bias.offset, l.bias.size)
  }))
}

/** Convolution blocks (cnn): [n, d] -> [n, flat]; identity for dense models. */
export function convForward (lay: Layout, theta: tf.Tensor1D | null, x: tf.Tensor2D): tf.Tensor2D {
  if (lay.convs.length === 0 || theta == null) return x
  const [h, w, c] = lay.spec.inputShape!
  let a: tf.Tensor4D = tf.reshape(x, [x.shape[0], h, w, c])
  for (const cv of lay.convs) {
    const K = tf.reshape(theta.slice(cv.kernel.offset, cv.kernel.size), cv.kernel.shape as [number, number, number, number]) as tf.Tensor4D
    const b = theta.slice(cv.bias.offset, cv.bias.size)
    const z = tf.add(tf.conv2d(a, K, 1, 'same'), b) as tf.Tensor4D
    const act = activate(tf.reshape(z, [-1, cv.filters]), lay.spec.activation)
    a = tf.reshape(act, z.shape)
    if (cv.pool > 1) a = tf.maxPool(a, cv.pool, cv.pool, 'valid')
  }
  return tf.reshape(a, [x.shape[0], -1])
}

/** Summed (weighted) loss of a batch as a differentiable function of theta. */
export function lossSumOf (lay: Layout, theta: tf.Tensor1D, t: LossTensors, dropoutSeed: number | null): tf.Scalar {
  const ps = slices(lay, theta)
  let a: tf.Tensor2D = convForward(lay, theta, t.x)
  for (let l = 0; l < lay.layers.length - 1; l++) {
    a = activate(tf.add(tf.matMul(a, ps[l].W), ps[l].b) as tf.Tensor2D, lay.layers[l].activation)
    if (lay.spec.dropout > 0 && dropoutSeed != null) {
      a = tf.mul(a, tf.div(tf.step(tf.sub(tf.randomUniform(a.shape, 0, 1, 'float32', dropoutSeed + l), lay.spec.dropout)), 1 - lay.spec.dropout))
    }
  }
  const L = lay.layers.length - 1
  let eta = tf.add(tf.matMul(a, ps[L].W), ps[L].b) as tf.Tensor2D
  if (lay.output === 'exp' && t.offset != null) eta = tf.add(eta, t.offset)
  let rowsLoss: tf.Tensor
  if (lay.output === 'sigmoid') rowsLoss = tf.add(tf.sub(tf.relu(eta), tf.mul(eta, t.y)), tf.log1p(tf.exp(tf.neg(tf.abs(eta)))))
  else if (lay.output === 'softmax') rowsLoss = tf.neg(tf.sum(tf.mul(t.y, tf.logSoftmax(eta)), 1, true))
  else if (lay.output === 'exp') {
    const etaC = tf.clipByValue(eta, CLIP_ETA[0], CLIP_ETA[1])
    rowsLoss = tf.mul(2, tf.add(tf.sub(tf.sub(tf.exp(etaC), t.y), tf.mul(t.y, etaC)), tf.mul(t.y, tf.log(tf.maximum(t.y, 1e-30)))))
  } else rowsLoss = tf.square(tf.sub(eta, t.y))
  if (t.weight != null) rowsLoss = tf.mul(rowsLoss, t.weight)
  return tf.sum(rowsLoss) as tf.Scalar
}
