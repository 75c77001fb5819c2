/**
 * Payload codecs for model updates: how a Float32Array of weights (or deltas) becomes the bytes that are
 * sealed into an envelope, and back. The codec and its parameters travel in the signed header.
 *
 * | codec   | id | params (in header)   | payload bytes                           | error bound (per coordinate)          |
 * |---------|----|----------------------|-----------------------------------------|---------------------------------------|
 * | float32 | 1  | none                 | 4n, little-endian                       | exact                                 |
 * | float16 | 2  | none                 | 2n, little-endian binary16              | rel. 2^-11 (normal), abs. 2^-25 near 0 |
 * | int8    | 3  | u32 chunkSize        | 4*ceil(n/c) f32 scales, then n int8     | max|x| of its chunk / 254             |
 * | topk    | 4  | u32 k                | k u32 indices (strictly increasing), k f32 | exact on sent coords; others: see below |
 *
 * Top-k with error feedback: the encoder (one per sender, stateful) adds the residual it kept from earlier
 * rounds, sends the k largest-magnitude coordinates exactly, and keeps the rest as the new residual, so
 * nothing is lost over time. The receiver gets a DENSE vector with ZEROS at the coordinates not sent, plus
 * `indices` (the coordinates sent). Top-k is meant for deltas (a zero means "no change"); when the engine
 * sends weights rather than deltas it must use `indices` to merge only the sent coordinates.
 *
 * @example
 * ```ts
 * const enc = createEncoder({ name: 'int8', chunkSize: 1024 })
 * const { codec, payload } = enc.encode(weights)
 * const r = decodePayload(codec, payload, weights.length, { maxBytes: 64 << 20 })
 * if (r.ok) use(r.values)
 * ```
 */
import { float32BitsToFloat16Bits, float16Table, FLOAT16_MAX } from './float16.js'
import { NonFiniteWeightsError, CodecRangeError, CodecSpecError } from './errors.js'
import { sumOfSquares } from './sum-squares.js'

export { NonFiniteWeightsError, CodecRangeError, CodecSpecError } from './errors.js'
export { FLOAT16_MAX } from './float16.js'
export { sumOfSquares, sumOfSquaresPortable, sumOfSquaresBackend } from './sum-squares.js'

/** Payloads are little-endian; typed-array fast paths are used only on little-endian hosts. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

export type CodecName = 'float32' | 'float16' | 'int8' | 'topk'

/** A codec with all its parameters fixed: what the header records. */
export type CodecDescriptor =
  | { name: 'float32' }
  | { name: 'float16' }
  | { name: 'int8', chunkSize: number }
  | { name: 'topk', k: number }

/** What a user or scenario asks for; defaults filled by `createEncoder`. */
export type CodecSpec =
  | { name: 'float32' }
  | { name: 'float16' }
  | { name: 'int8', chunkSize?: number }
  | { name: 'topk', k?: number, fraction?: number, errorFeedback?: boolean }

export const CODEC_IDS: Record<CodecName, number> = { float32: 1, float16: 2, int8: 3, topk: 4 }
export const DEFAULT_INT8_CHUNK = 1024
export const DEFAULT_TOPK_FRACTION = 0.01
export const MAX_INT8_CHUNK = 1 << 24
/** Largest weight vector any codec accepts (2^28 params = 1 GiB of float32). */
export const MAX_PARAMS = 1 << 28

export interface EncodedPayload { codec: CodecDescriptor, payload: Uint8Array }

export interface EncodeOptions {
  /**
   * float32 only (little-endian hosts): the payload may be a view of `values` itself instead of a copy, for a
   * caller that consumes it before `values` can change (sealUpdate reads it once, synchronously). Saves a
   * copy and a fresh buffer of the whole vector per seal. The other codecs always return new bytes.
   */
  view?: boolean
}

export interface Encoder {
  readonly spec: CodecSpec
  /** Encodes one vector. Throws NonFiniteWeightsError on NaN/Inf, CodecRangeError when float16 overflows. */
  encode: (values: Float32Array, options?: EncodeOptions) => EncodedPayload
  /** Forgets the error-feedback residual (top-k); a no-op for the others. */
  reset: () => void
  /** Euclidean norm of the residual kept for the next round (0 for codecs without error feedback). */
  residualNorm: () => number
}

export type PayloadRefusal = 'MALFORMED' | 'LENGTH_MISMATCH' | 'NON_FINITE' | 'OVERSIZED'

export type DecodeResult =
  | { ok: true, values: Float32Array, indices: Uint32Array | null, sumSquares: number }
  | { ok: false, reason: PayloadRefusal, detail: string }

export interface DecodeOptions {
  /** Largest decoded vector in bytes (4 * numParams) that may be allocated. */
  maxBytes?: number
  /**
   * float32 only: return a Float32Array view over the payload's own buffer instead of a copy when the payload
   * is 4-byte aligned (the validator does this with the buffer it just decrypted into). Default false.
   */
  shareBuffer?: boolean
}

/** Parses and checks a user's codec spec (CLI, scenario files): "float16", "int8:512", "topk:0.05", "topk:k=1000". */
export function parseCodecSpec (text: string): CodecSpec {
  const [name, arg] = text.split(':', 2)
  switch (name) {
    case 'float32': case 'float16':
      if (arg != null) throw new CodecSpecError(`codec ${name} takes no parameter`)
      return { name }
    case 'int8': {
      if (arg == null) return { name }
      const chunkSize = Number(arg)
      checkChunk(chunkSize)
      return { name, chunkSize }
    }
    case 'topk': {
      if (arg == null) return { name }
      if (arg.startsWith('k=')) {
        const k = Number(arg.slice(2))
        if (!Number.isInteger(k) || k < 1) throw new CodecSpecError(`topk k must be a positive integer, got ${arg}`)
        return { name, k }
      }
      const fraction = Number(arg)
      if (!(fraction > 0 && fraction <= 1)) throw new CodecSpecError(`topk fraction must be in (0, 1], got ${arg}`)
      return { name, fraction }
    }
    default:
      throw new CodecSpecError(`unknown codec "${text}" (float32, float16, int8[:chunk], topk[:fraction|:k=N])`)
  }
}

function checkChunk (chunkSize: number): void {
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_INT8_CHUNK) {
    throw new CodecSpecError(`int8 chunkSize must be an integer in 1..${MAX_INT8_CHUNK}, got ${chunkSize}`)
  }
}

/** Throws NonFiniteWeightsError naming the first NaN/Inf; one SIMD sum-of-squares pass when all are finite. */
function assertFinite (values: Float32Array): void {
  const s = sumOfSquares(values)
  if (s - s === 0) return
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v - v !== 0) throw new NonFiniteWeightsError(`weight ${i} is ${v}: refusing to encode a non-finite value`)
  }
}

/** A Uint8Array of n bytes the caller overwrites completely (skips zero-filling; unpooled). */
function allocUninitialised (n: number): Uint8Array {
  if (n < 256) return new Uint8Array(n)
  const b = Buffer.allocUnsafeSlow(n)
  return new Uint8Array(b.buffer, b.byteOffset, n)
}

/** A Float32Array of n values the caller overwrites completely (its own ArrayBuffer, offset 0). */
function uninitialisedFloats (n: number): Float32Array {
  if (4 * n < 256) return new Float32Array(n)
  const b = Buffer.allocUnsafeSlow(4 * n) // unpooled: its own ArrayBuffer
  return b.byteOffset % 4 === 0 ? new Float32Array(b.buffer, b.byteOffset, n) : new Float32Array(n)
}

function bytesOf (values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength)
}

/** A stateless encoder (float32, float16, int8) or a stateful top-k encoder with error feedback (one per sender). */
export function createEncoder (spec: CodecSpec): Encoder {
  switch (spec.name) {
    case 'float32':
      return stateless(spec, (values, options) => {
        assertFinite(values)
        if (LITTLE_ENDIAN && options?.view === true) return { codec: { name: 'float32' }, payload: bytesOf(values) }
        if (!LITTLE_ENDIAN) {
          const out = new Uint8Array(values.length * 4)
          const view = new DataView(out.buffer)
          for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true)
          return { codec: { name: 'float32' }, payload: out }
        }
        const payload = allocUninitialised(values.byteLength)
        payload.set(bytesOf(values))
        return { codec: { name: 'float32' }, payload }
      })
    case 'float16':
      return stateless(spec, (values) => ({ codec: { name: 'float16' }, payload: encodeFloat16(values) }))
    case 'int8': {
      const chunkSize = spec.chunkSize ?? DEFAULT_INT8_CHUNK
      checkChunk(chunkSize)
      return stateless(spec, (values) => ({ codec: { name: 'int8', chunkSize }, payload: encodeInt8(values, chunkSize) }))
    }
    case 'topk':
      return topkEncoder(spec)
    default:
      throw new CodecSpecError(`unknown codec ${(spec as { name: string }).name}`)
  }
}

function stateless (spec: CodecSpec, encode: (values: Float32Array, options?: EncodeOptions) => EncodedPayload): Encoder {
  return { spec, encode, reset: () => {}, residualNorm: () => 0 }
}

function encodeFloat16 (values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 2)
  const halves = LITTLE_ENDIAN ? new Uint16Array(out.buffer) : null
  const view = new DataView(out.buffer)
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length)
  for (let i = 0; i < values.length; i++) {
    const x = bits[i]
    if ((x & 0x7f800000) === 0x7f800000) {
      throw new NonFiniteWeightsError(`weight ${i} is ${values[i]}: refusing to encode a non-finite value`)
    }
    const h = float32BitsToFloat16Bits(x)
    const v = values[i]
    if ((h & 0x7c00) === 0x7c00) throw new CodecRangeError(`weight ${i} = ${v} is beyond float16's range (±${FLOAT16_MAX})`)
    if (halves != null) halves[i] = h
    else view.setUint16(i * 2, h, true)
  }
  return out
}

function encodeInt8 (values: Float32Array, chunkSize: number): Uint8Array {
  const n = values.length
  const chunks = Math.ceil(n / chunkSize)
  const out = new Uint8Array(chunks * 4 + n)
  const view = new DataView(out.buffer)
  const q = new Int8Array(out.buffer, chunks * 4, n)
  for (let c = 0; c < chunks; c++) {
    const start = c * chunkSize
    const end = Math.min(n, start + chunkSize)
    let max = 0
    for (let i = start; i < end; i++) {
      const v = values[i]
      if (v - v !== 0) throw new NonFiniteWeightsError(`weight ${i} is ${v}: refusing to encode a non-finite value`)
      const a = Math.abs(v)
      if (a > max) max = a
    }
    const scale = Math.fround(max / 127)
    view.setFloat32(c * 4, scale, true)
    if (scale === 0) continue
    for (let i = start; i < end; i++) {
      let r = Math.round(values[i] / scale)
      if (r > 127) r = 127
      else if (r < -127) r = -127
      q[i] = r
    }
  }
  return out
}

/** Index of the k-th largest value (0-based, k < a.length) by in-place quickselect; returns that value. */
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

function topkEncoder (spec: { name: 'topk', k?: number, fraction?: number, errorFeedback?: boolean }): Encoder {
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

/** Bytes the payload must have for this codec and vector length; null when the combination is invalid. */
export function expectedPayloadLength (codec: CodecDescriptor, numParams: number): number | null {
  if (!Number.isInteger(numParams) || numParams < 0 || numParams > MAX_PARAMS) return null
  switch (codec.name) {
    case 'float32': return 4 * numParams
    case 'float16': return 2 * numParams
    case 'int8':
      if (!Number.isInteger(codec.chunkSize) || codec.chunkSize < 1 || codec.chunkSize > MAX_INT8_CHUNK) return null
      return 4 * Math.ceil(numParams / codec.chunkSize) + numParams
    case 'topk':
      if (!Number.isInteger(codec.k) || codec.k < 1 || codec.k > numParams) return null
      return 8 * codec.k
    default: return null
  }
}

/**
 * Decodes a payload from the network. Never throws: every problem is a named refusal. Checks the length
 * against the codec and `numParams` and the size bound before allocating anything.
 */
export function decodePayload (codec: CodecDescriptor, payload: Uint8Array, numParams: number, options: DecodeOptions = {}): DecodeResult {
  const expected = expectedPayloadLength(codec, numParams)
  if (expected == null) return { ok: false, reason: 'MALFORMED', detail: `invalid codec parameters for ${numParams} params` }
  if (payload.length !== expected) {
    return { ok: false, reason: 'LENGTH_MISMATCH', detail: `${codec.name} payload has ${payload.length} bytes, expected ${expected}` }
  }
  if (options.maxBytes != null && 4 * numParams > options.maxBytes) {
    return { ok: false, reason: 'OVERSIZED', detail: `decoded vector would be ${4 * numParams} bytes, limit ${options.maxBytes}` }
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  switch (codec.name) {
    case 'float32': {
      let values: Float32Array
      if (!LITTLE_ENDIAN) {
        values = new Float32Array(numParams)
        for (let i = 0; i < numParams; i++) values[i] = view.getFloat32(i * 4, true)
      } else if (options.shareBuffer === true && payload.byteOffset % 4 === 0) {
        values = new Float32Array(payload.buffer, payload.byteOffset, numParams)
      } else {
        values = uninitialisedFloats(numParams)
        new Uint8Array(values.buffer, values.byteOffset, 4 * numParams).set(payload)
      }
      return finish(values, null)
    }
    case 'float16': {
      const t = float16Table()
      const values = uninitialisedFloats(numParams) // every value is written below (or the result refused)
      const halves = LITTLE_ENDIAN && payload.byteOffset % 2 === 0 ? new Uint16Array(payload.buffer, payload.byteOffset, numParams) : null
      for (let i = 0; i < numParams; i++) {
        const h = halves != null ? halves[i] : view.getUint16(i * 2, true)
        if ((h & 0x7c00) === 0x7c00) return { ok: false, reason: 'NON_FINITE', detail: `value ${i} is not finite` }
        values[i] = t[h]
      }
      return finish(values, null)
    }
    case 'int8': {
      const chunks = Math.ceil(numParams / codec.chunkSize)
      const q = new Int8Array(payload.buffer, payload.byteOffset + chunks * 4, numParams)
      const values = uninitialisedFloats(numParams) // every value is written below (or the result refused)
      for (let c = 0; c < chunks; c++) {
        const scale = view.getFloat32(c * 4, true)
        if (scale - scale !== 0) return { ok: false, reason: 'NON_FINITE', detail: `scale of chunk ${c} is ${scale}` }
        if (scale < 0 || Object.is(scale, -0)) return { ok: false, reason: 'MALFORMED', detail: `scale of chunk ${c} is negative` }
        const end = Math.min(numParams, (c + 1) * codec.chunkSize)
        for (let i = c * codec.chunkSize; i < end; i++) {
          const x = q[i]
          if (x === -128) return { ok: false, reason: 'MALFORMED', detail: `value ${i} is -128 (int8 uses -127..127)` }
          values[i] = x * scale
        }
      }
      return finish(values, null)
    }
    case 'topk': {
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
}

/** Sum of squares in one pass; non-finite exactly when some value is NaN or infinite (float32 squares cannot overflow float64). */
function finish (values: Float32Array, indices: Uint32Array | null): DecodeResult {
  const s = sumOfSquares(values)
  if (s - s !== 0) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]
      if (v - v !== 0) return { ok: false, reason: 'NON_FINITE', detail: `value ${i} is ${v}` }
    }
  }
  return { ok: true, values, indices, sumSquares: s }
}

/** Bytes the codec's parameters take in the header after its id byte; null for an unknown id. */
export function codecParamBytes (id: number): number | null {
  switch (id) {
    case 1: case 2: return 0
    case 3: case 4: return 4
    default: return null
  }
}

/** Writes codec id and params at `offset`; returns the new offset. */
export function writeCodec (view: DataView, offset: number, codec: CodecDescriptor): number {
  view.setUint8(offset, CODEC_IDS[codec.name])
  offset += 1
  if (codec.name === 'int8') { view.setUint32(offset, codec.chunkSize); offset += 4 }
  if (codec.name === 'topk') { view.setUint32(offset, codec.k); offset += 4 }
  return offset
}

/** Reads codec id and params at `offset` (bounds already checked by the caller via codecParamBytes). */
export function readCodec (view: DataView, offset: number): CodecDescriptor | null {
  const id = view.getUint8(offset)
  switch (id) {
    case 1: return { name: 'float32' }
    case 2: return { name: 'float16' }
    case 3: return { name: 'int8', chunkSize: view.getUint32(offset + 1) }
    case 4: return { name: 'topk', k: view.getUint32(offset + 1) }
    default: return null
  }
}

/** Short text form of a descriptor ("int8:1024", "topk:k=500"). */
export function formatCodec (codec: CodecDescriptor): string {
  if (codec.name === 'int8') return `int8:${codec.chunkSize}`
  if (codec.name === 'topk') return `topk:k=${codec.k}`
  return codec.name
}
