/**
 * The glm trainer: linear models (logistic, softmax, linear, poisson-glm) trained by a plain-JavaScript step,
 * the same math as the dense TF.js step (a test checks they agree) without TF.js's per-op dispatch, which
 * dominates for so few parameters (many thousands of logistic peers in one thread).
 */
import { DEFAULT_LEARNING_RATE } from '../constants.js'
import type { Layout, TensorData, TrainState } from '../model/layout.js'
import { CLIP_ETA } from '../model/ops.js'
import { addGaussianNoise, clipFactor } from '../privacy/dp-sgd.js'
import type { Trainer, TrainOptions, TrainResult } from './trainer.js'

export class GlmTrainer implements Trainer {
  readonly family = 'glm' as const
  /** The gradient buffer, reused across calls (training is synchronous; many peers share a model). */
  private gradientBuffer: Float64Array | null = null

  constructor (private readonly lay: Layout) {}

  /** Trains `steps` minibatches in place (see Trainer). Same math as the dense trainer's forwardBackward. */
  trainSteps (state: TrainState, data: TensorData, steps: number, nextRows: () => Uint32Array, options: TrainOptions = {}): TrainResult {
    const lay = this.lay
    const opt = lay.spec.optimizer
    const lr = options.learningRate ?? opt.learningRate ?? DEFAULT_LEARNING_RATE[opt.type]
    const d = lay.info.inputDim
    const k = lay.outputDim
    const P = lay.numParams
    const kernelSize = d * k
    const w = state.weights
    const slots = state.optimizer
    const g = (this.gradientBuffer ??= new Float64Array(P)) // zeroed at every step below
    const eta = new Float64Array(k)
    const de = new Float64Array(k)
    const X = data.x
    const Y = data.y
    const flip = options.labelFlip === true
    const out = lay.output
    const l2 = opt.l2
    const dp = options.privacy ?? null
    let lossTotal = 0
    let examples = 0
    for (let s = 0; s < steps; s++) {
      const rows = nextRows()
      const n = rows.length
      if (n === 0) break
      g.fill(0)
      const inv = 1 / n
      for (let i = 0; i < n; i++) {
        const r = rows[i]
        const xo = r * d
        for (let c = 0; c < k; c++) eta[c] = w[kernelSize + c]
        for (let j = 0; j < d; j++) {
          const xv = X[xo + j]
          if (xv === 0) continue
          const wo = j * k
          for (let c = 0; c < k; c++) eta[c] += xv * w[wo + c]
        }
        const yv = Y[r]
        const wi = data.weight != null ? data.weight[r] : 1
        let loss: number
        if (out === 'sigmoid') {
          const y = flip ? 1 - yv : yv
          const z = eta[0]
          loss = Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)))
          de[0] = 1 / (1 + Math.exp(-z)) - y
        } else if (out === 'softmax') {
          const cls = flip ? k - 1 - yv : yv
          let mx = -Infinity
          for (let c = 0; c < k; c++) if (eta[c] > mx) mx = eta[c]
          let sum = 0
          for (let c = 0; c < k; c++) { de[c] = Math.exp(eta[c] - mx); sum += de[c] }
          loss = -(eta[cls] - mx - Math.log(sum))
          for (let c = 0; c < k; c++) de[c] = de[c] / sum - (c === cls ? 1 : 0)
        } else if (out === 'exp') {
          const y = flip ? 0 : yv
          let e = eta[0] + (data.offset != null ? data.offset[r] : 0)
          e = Math.min(CLIP_ETA[1], Math.max(CLIP_ETA[0], e))
          const mu = Math.exp(e)
          loss = 2 * (mu - y - y * e + (y > 0 ? y * Math.log(y) : 0))
          de[0] = 2 * (mu - y)
        } else {
          const y = flip ? 0 : yv
          const diff = eta[0] - y
          loss = diff * diff
          de[0] = 2 * diff
        }
        lossTotal += loss * wi
        let f = wi * inv
        if (dp != null) {
          // this row's gradient is wi * de (x) [x, 1]: its L2 norm is |wi| ||de|| sqrt(||x||^2 + 1)
          let xx = 1; let dd = 0
          for (let j = 0; j < d; j++) { const xv = X[xo + j]; xx += xv * xv }
          for (let c = 0; c < k; c++) dd += de[c] * de[c]
          f *= clipFactor(Math.abs(wi) * Math.sqrt(dd * xx), dp.clip)
        }
        for (let c = 0; c < k; c++) { de[c] *= f; g[kernelSize + c] += de[c] }
        for (let j = 0; j < d; j++) {
          const xv = X[xo + j]
          if (xv === 0) continue
          const go = j * k
          for (let c = 0; c < k; c++) g[go + c] += xv * de[c]
        }
      }
      if (dp != null) addGaussianNoise(g, dp, inv) // noise on the sum of clipped gradients, then / n
      if (l2 > 0) for (let j = 0; j < kernelSize; j++) g[j] += l2 * w[j]
      const t = ++state.step
      if (opt.type === 'sgd') {
        for (let j = 0; j < P; j++) w[j] -= lr * g[j]
      } else if (opt.type === 'momentum') {
        for (let j = 0; j < P; j++) { const m = opt.momentum * slots![j] + g[j]; slots![j] = m; w[j] -= lr * m }
      } else {
        const b1 = opt.beta1; const b2 = opt.beta2
        const lrT = lr * Math.sqrt(1 - Math.pow(b2, t)) / (1 - Math.pow(b1, t))
        for (let j = 0; j < P; j++) {
          const m = b1 * slots![j] + (1 - b1) * g[j]
          const v = b2 * slots![P + j] + (1 - b2) * g[j] * g[j]
          slots![j] = m; slots![P + j] = v
          w[j] -= lrT * m / (Math.sqrt(v) + opt.epsilon)
        }
      }
      examples += n
    }
    return { loss: examples > 0 ? lossTotal / examples : NaN, examples }
  }

  dispose (): void { this.gradientBuffer = null }
}
