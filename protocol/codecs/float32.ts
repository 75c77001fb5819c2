/** float32: 4n bytes, little-endian IEEE 754 binary32; exact. */
import { CodecSpecError } from './errors.js'
import { LITTLE_ENDIAN, allocUninitialised, assertFinite, bytesOf, finish, stateless, uninitialisedFloats } from './shared.js'
import type { PayloadCodec } from './types.js'

type Float32Descriptor = { name: 'float32' }

export const float32Codec: PayloadCodec<Float32Descriptor, Float32Descriptor> = {
  name: 'float32',
  id: 1,
  params: [],
  usage: 'float32',
  format: () => 'float32',
  parseSpec (arg) {
    if (arg != null) throw new CodecSpecError('codec float32 takes no parameter')
    return { name: 'float32' }
  },
  createEncoder (spec) {
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
  },
  encodedLength: (_codec, numParams) => 4 * numParams,
  decode (_codec, payload, numParams, options) {
    let values: Float32Array
    if (!LITTLE_ENDIAN) {
      const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
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
}
