/**
 * int8 with a float32 scale per chunk: 4 * ceil(n / chunkSize) bytes of little-endian scales (max|x| / 127 of
 * the chunk), then n int8 values in -127..127; error at most max|x| of its chunk / 254 per coordinate.
 */
import { DEFAULT_INT8_CHUNK, MAX_INT8_CHUNK } from './constants.js'
import { CodecSpecError, NonFiniteWeightsError } from './errors.js'
import { finish, inRange, stateless, uninitialisedFloats } from './shared.js'
import type { PayloadCodec } from './types.js'

type Int8Descriptor = { name: 'int8', chunkSize: number }
type Int8Spec = { name: 'int8', chunkSize?: number }

function checkChunk (chunkSize: number): void {
  if (!inRange(chunkSize, 1, MAX_INT8_CHUNK)) {
    throw new CodecSpecError(`int8 chunkSize must be an integer in 1..${MAX_INT8_CHUNK}, got ${chunkSize}`)
  }
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

export const int8Codec: PayloadCodec<Int8Descriptor, Int8Spec> = {
  name: 'int8',
  id: 3,
  params: [{ key: 'chunkSize', min: 1, max: MAX_INT8_CHUNK }],
  usage: 'int8[:chunk]',
  format: (codec) => `int8:${codec.chunkSize}`,
  parseSpec (arg) {
    if (arg == null) return { name: 'int8' }
    const chunkSize = Number(arg)
    checkChunk(chunkSize)
    return { name: 'int8', chunkSize }
  },
  createEncoder (spec) {
    const chunkSize = spec.chunkSize ?? DEFAULT_INT8_CHUNK
    checkChunk(chunkSize)
    return stateless(spec, (values) => ({ codec: { name: 'int8', chunkSize }, payload: encodeInt8(values, chunkSize) }))
  },
  encodedLength (codec, numParams) {
    if (!inRange(codec.chunkSize, 1, MAX_INT8_CHUNK)) return null
    return 4 * Math.ceil(numParams / codec.chunkSize) + numParams
  },
  decode (codec, payload, numParams) {
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
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
}
