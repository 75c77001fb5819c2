/** float16: 2n bytes, little-endian IEEE 754 binary16 (round to nearest even); rel. error 2^-11, abs. 2^-25 near 0. */
import { float32BitsToFloat16Bits, float16Table, FLOAT16_MAX } from './binary16.js'
import { CodecRangeError, CodecSpecError, NonFiniteWeightsError } from './errors.js'
import { LITTLE_ENDIAN, finish, stateless, uninitialisedFloats } from './shared.js'
import type { PayloadCodec } from './types.js'

type Float16Descriptor = { name: 'float16' }

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

export const float16Codec: PayloadCodec<Float16Descriptor, Float16Descriptor> = {
  name: 'float16',
  id: 2,
  params: [],
  usage: 'float16',
  format: () => 'float16',
  parseSpec (arg) {
    if (arg != null) throw new CodecSpecError('codec float16 takes no parameter')
    return { name: 'float16' }
  },
  createEncoder: (spec) => stateless(spec, (values) => ({ codec: { name: 'float16' }, payload: encodeFloat16(values) })),
  encodedLength: (_codec, numParams) => 2 * numParams,
  decode (_codec, payload, numParams) {
    const t = float16Table()
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
    const values = uninitialisedFloats(numParams) // every value is written below (or the result refused)
    const halves = LITTLE_ENDIAN && payload.byteOffset % 2 === 0 ? new Uint16Array(payload.buffer, payload.byteOffset, numParams) : null
    for (let i = 0; i < numParams; i++) {
      const h = halves != null ? halves[i] : view.getUint16(i * 2, true)
      if ((h & 0x7c00) === 0x7c00) return { ok: false, reason: 'NON_FINITE', detail: `value ${i} is not finite` }
      values[i] = t[h]
    }
    return finish(values, null)
  }
}
