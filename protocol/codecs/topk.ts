/**
 * Top-k with error feedback: k u32 indices (strictly increasing), then k float32 values, little-endian; exact
 * on the coordinates sent.
 *
 * The encoder (one per sender, stateful) adds the residual it kept from earlier rounds, sends the k
 * largest-magnitude coordinates exactly, and keeps the rest as the new residual, so nothing is lost over time.
 * The receiver gets a DENSE vector with ZEROS at the coordinates not sent, plus `indices` (the coordinates
 * sent). Top-k is meant for deltas (a zero means "no change"); when the engine sends weights rather than deltas
 * it must use `indices` to merge only the sent coordinates.
 */
import { DEFAULT_TOPK_FRACTION, U32_MAX } from './constants.js'
import { CodecSpecError } from './errors.js'
import { assertFinite, finish, inRange } from './shared.js'
import type { Encoder, PayloadCodec } from './types.js'

type TopkDescriptor = { name: 'topk', k: number }
type TopkSpec = { name: 'topk', k?: number, fraction?: number, errorFeedback?: boolean }

/** The k-th largest value (0-based, k < a.length) by in-place quickselect with a fixed pivot sequence. */
function kthLargest (a: Float32Array, k: number): number {
  let lo = 0
  let hi = a.length - 1
  let seed = 0x9e3779b9
  while (lo < hi) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
    const pivot = a[lo + (seed % (hi - lo + 1))]
    let i = lo
    let j = hi
    while (i <= j) {
      while (a[i] > pivot) i++
      while (a[j] < pivot) j--
      if (i <= j) { const t = a[i]; a[i] = a[j]; a[j] = t; i++; j-- }
    }
    if (k <= j) hi = j
    else if (k >= i) lo = i
    else return a[k]
  }
  return a[k]
}

function topkEncoder (spec: TopkSpec): Encoder {
  const errorFeedback = spec.errorFeedback ?? true
  if (spec.k != null && (!Number.isInteger(spec.k) || spec.k < 1)) throw new CodecSpecError('topk k must be a positive integer')
  const fraction = spec.fraction ?? DEFAULT_TOPK_FRACTION
  if (!(fraction > 0 && fraction <= 1)) throw new CodecSpecError('topk fraction must be in (0, 1]')
  let residual: Float32Array | null = null
  return {
    spec,
    reset: () => { residual = null },
    residualNorm: () => {
      if (residual == null) return 0
      let s = 0
      for (let i = 0; i < residual.length; i++) s += residual[i] * residual[i]
      return Math.sqrt(s)
    },
    encode (values) {
      assertFinite(values)
      const n = values.length
      const k = Math.min(n, spec.k ?? Math.max(1, Math.round(fraction * n)))
      const v = new Float32Array(values)
      if (errorFeedback && residual != null && residual.length === n) {
        for (let i = 0; i < n; i++) v[i] += residual[i]
      }
      const out = new Uint8Array(8 * k)
      const view = new DataView(out.buffer)
      if (k > 0) {
        const abs = new Float32Array(n)
        for (let i = 0; i < n; i++) abs[i] = Math.abs(v[i])
        const threshold = k >= n ? 0 : kthLargest(abs, k - 1)
        let above = 0
        for (let i = 0; i < n; i++) if (Math.abs(v[i]) > threshold) above++
        let ties = k - above
        let j = 0
        for (let i = 0; i < n && j < k; i++) {
          const a = Math.abs(v[i])
          if (a > threshold || (a === threshold && ties-- > 0)) {
            view.setUint32(j * 4, i, true)
            view.setFloat32(4 * k + j * 4, v[i], true)
            v[i] = 0
            j++
          }
        }
      }
      residual = errorFeedback ? v : null
      return { codec: { name: 'topk', k }, payload: out }
    }
  }
}

export const topkCodec: PayloadCodec<TopkDescriptor, TopkSpec> = {
  name: 'topk',
  id: 4,
  params: [{ key: 'k', min: 1, max: U32_MAX }],
  usage: 'topk[:fraction|:k=N]',
  format: (codec) => `topk:k=${codec.k}`,
  parseSpec (arg) {
    if (arg == null) return { name: 'topk' }
    if (arg.startsWith('k=')) {
      const k = Number(arg.slice(2))
      if (!Number.isInteger(k) || k < 1) throw new CodecSpecError(`topk k must be a positive integer, got ${arg}`)
      return { name: 'topk', k }
    }
    const fraction = Number(arg)
    if (!(fraction > 0 && fraction <= 1)) throw new CodecSpecError(`topk fraction must be in (0, 1], got ${arg}`)
    return { name: 'topk', fraction }
  },
  createEncoder: topkEncoder,
  encodedLength (codec, numParams) {
    if (!inRange(codec.k, 1, numParams)) return null
    return 8 * codec.k
  },
  decode (codec, payload, numParams) {
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
    const k = codec.k
    const indices = new Uint32Array(k)
    const values = new Float32Array(numParams)
    let prev = -1
    for (let j = 0; j < k; j++) {
      const idx = view.getUint32(j * 4, true)
      if (idx >= numParams) return { ok: false, reason: 'MALFORMED', detail: `index ${idx} out of range ${numParams}` }
      if (idx <= prev) return { ok: false, reason: 'MALFORMED', detail: 'indices must be strictly increasing' }
      const v = view.getFloat32(4 * k + j * 4, true)
      if (v - v !== 0) return { ok: false, reason: 'NON_FINITE', detail: `value at index ${idx} is ${v}` }
      indices[j] = idx
      values[idx] = v
      prev = idx
    }
    return finish(values, indices)
  }
}
