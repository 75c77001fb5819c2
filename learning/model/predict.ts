/**
 * Predictions of a model's weights on rows of some data, with the rows' features cached as tensors (least
 * recently used first, at most EVAL_CACHE_ENTRIES sets) so that many peers evaluating on one test split
 * upload it once.
 */
import { tf } from '../tf.js'
import type { Layout, TensorData } from './layout.js'
import { activate, convForward, layerTensors, slices } from './ops.js'

export class Predictor {
  /** Evaluation tensors by (data, rows buffer, offset, length); least recently used first. */
  private readonly evalCache = new Map<string, CachedRows>()

  constructor (private readonly lay: Layout) {}

  /**
   * Predictions for rows of `data`: binary -> P(positive); multiclass -> n x k probabilities; count -> expected
   * count (frequency x exposure); regression -> value. The rows' features are cached as tensors per `rows`
   * array (by identity) so that many peers evaluating on one test split upload it once.
   */
  predict (weights: Float32Array, data: TensorData, rows: Uint32Array, options: { cache?: boolean, chunkRows?: number } = {}): Float32Array {
    const lay = this.lay
    const k = lay.output === 'softmax' ? lay.outputDim : 1
    const out = new Float32Array(rows.length * k)
    const chunkRows = options.chunkRows ?? 16384
    const key = options.cache !== false ? cacheKey(data, rows) : null
    let cached = key != null ? this.evalCache.get(key) : undefined
    if (cached != null && key != null) { this.evalCache.delete(key); this.evalCache.set(key, cached) }
    if (cached == null) {
      const x: tf.Tensor2D[] = []; const offset: Array<tf.Tensor2D | null> = []; const sizes: number[] = []
      const d = lay.info.inputDim
      for (let start = 0; start < rows.length; start += chunkRows) {
        const n = Math.min(chunkRows, rows.length - start)
        const xb = new Float32Array(n * d)
        const ob = new Float32Array(n)
        for (let i = 0; i < n; i++) {
          const r = rows[start + i]
          xb.set(data.x.subarray(r * d, r * d + d), i * d)
          if (data.offset != null) ob[i] = data.offset[r]
        }
        x.push(tf.keep(tf.tensor2d(xb, [n, d])))
        offset.push(lay.output === 'exp' && data.offset != null ? tf.keep(tf.tensor2d(ob, [n, 1])) : null)
        sizes.push(n)
      }
      cached = { x, offset, rows: sizes }
      if (key != null) {
        this.evalCache.set(key, cached)
        while (this.evalCache.size > EVAL_CACHE_ENTRIES) {
          const [oldest, entry] = this.evalCache.entries().next().value as [string, CachedRows]
          this.evalCache.delete(oldest)
          for (const t of [...entry.x, ...entry.offset]) t?.dispose()
        }
      }
    }
    tf.tidy(() => {
      const theta = lay.convs.length > 0 ? tf.tensor1d(weights) : null
      const ps = theta != null ? slices(lay, theta) : layerTensors(lay, weights)
      let o = 0
      for (let c = 0; c < cached!.x.length; c++) {
        let a: tf.Tensor2D = convForward(lay, theta, cached!.x[c])
        for (let l = 0; l < lay.layers.length - 1; l++) a = activate(tf.add(tf.matMul(a, ps[l].W), ps[l].b) as tf.Tensor2D, lay.layers[l].activation)
        const L = lay.layers.length - 1
        let eta = tf.add(tf.matMul(a, ps[L].W), ps[L].b) as tf.Tensor2D
        const off = cached!.offset[c]
        if (off != null) eta = tf.add(eta, off)
        const p = activate(eta, lay.output)
        const vals = p.dataSync() as Float32Array
        out.set(vals, o)
        o += vals.length
        // free this chunk's intermediates now (never the cached input itself)
        tf.dispose([a, eta, p].filter((t) => t !== cached!.x[c] && t !== off))
      }
    })
    if (key == null) for (const t of [...cached.x, ...cached.offset]) t?.dispose()
    return out
  }

  /** Frees cached evaluation tensors. */
  clearCache (): void {
    for (const entry of this.evalCache.values()) for (const t of [...entry.x, ...entry.offset]) t?.dispose()
    this.evalCache.clear()
  }
}

interface CachedRows { x: tf.Tensor2D[], offset: Array<tf.Tensor2D | null>, rows: number[] }

const EVAL_CACHE_ENTRIES = 4
const ids = new WeakMap<object, number>()
let nextId = 1
function idOf (o: object): number {
  let id = ids.get(o)
  if (id == null) { id = nextId++; ids.set(o, id) }
  return id
}
/** Identity of a set of rows of some data: the same buffer region gives the same key, even via a new subarray. */
function cacheKey (data: TensorData, rows: Uint32Array): string {
  return `${idOf(data)}:${idOf(data.x)}:${idOf(rows.buffer)}:${rows.byteOffset}:${rows.length}`
}
