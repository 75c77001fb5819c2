/**
 * Minibatches: host buffers a batch is gathered into (rows of a TensorData, transposed copy, labels one-hot
 * or flipped for label-flipping peers) and their tensors.
 */
import { tf } from '../tf.js'
import { IncompatibleModelError } from '../errors.js'
import type { Layout, TensorData } from './layout.js'

export interface Buffers { x: Float32Array, xT: Float32Array, y: Float32Array, offset: Float32Array, weight: Float32Array, hasOffset: boolean, hasWeight: boolean }

export interface BatchTensors { x: tf.Tensor2D, xT: tf.Tensor2D, y: tf.Tensor2D, offset: tf.Tensor2D | null, weight: tf.Tensor2D | null }

/** Host buffers for a batch of `rows` rows (reused across steps of one size). */
export function makeBuffers (lay: Layout, rows: number): Buffers {
  const d = lay.info.inputDim
  return {
    x: new Float32Array(rows * d),
    xT: new Float32Array(rows * d),
    y: new Float32Array(rows * (lay.output === 'softmax' ? lay.outputDim : 1)),
    offset: new Float32Array(rows),
    weight: new Float32Array(rows),
    hasOffset: false,
    hasWeight: false
  }
}

/** Copies rows of `data` into the buffers (x, its transpose, one-hot or flipped labels, offset, weight). */
export function gather (lay: Layout, data: TensorData, rows: Uint32Array, b: Buffers, flip = false): void {
  const d = lay.info.inputDim
  const n = rows.length
  if (data.numFeatures !== d) throw new IncompatibleModelError(`data has ${data.numFeatures} features, the model expects ${d}`)
  const X = data.x
  for (let i = 0; i < n; i++) {
    const r = rows[i]
    const src = r * d
    b.x.set(X.subarray(src, src + d), i * d)
    for (let j = 0; j < d; j++) b.xT[j * n + i] = X[src + j]
  }
  if (lay.output === 'softmax') {
    const k = lay.outputDim
    b.y.fill(0)
    for (let i = 0; i < n; i++) b.y[i * k + (flip ? k - 1 - data.y[rows[i]] : data.y[rows[i]])] = 1
  } else if (!flip) {
    for (let i = 0; i < n; i++) b.y[i] = data.y[rows[i]]
  } else {
    for (let i = 0; i < n; i++) b.y[i] = lay.output === 'sigmoid' ? 1 - data.y[rows[i]] : 0
  }
  b.hasOffset = lay.output === 'exp' && data.offset != null
  if (b.hasOffset) for (let i = 0; i < n; i++) b.offset[i] = data.offset![rows[i]]
  b.hasWeight = data.weight != null
  if (b.hasWeight) for (let i = 0; i < n; i++) b.weight[i] = data.weight![rows[i]]
}

/** The buffers' first n rows as tensors (inside a tidy). */
export function batchTensors (lay: Layout, b: Buffers, n: number): BatchTensors {
  const d = lay.info.inputDim
  const k = lay.output === 'softmax' ? lay.outputDim : 1
  return {
    x: tf.tensor2d(b.x, [n, d]),
    xT: tf.tensor2d(b.xT, [d, n]),
    y: tf.tensor2d(b.y, [n, k]),
    offset: b.hasOffset ? tf.tensor2d(b.offset, [n, 1]) : null,
    weight: b.hasWeight ? tf.tensor2d(b.weight, [n, 1]) : null
  }
}
