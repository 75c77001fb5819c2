/**
 * The largest message the update stream needs for a network: one sealed envelope of the network's model under
 * its codec, with the largest header (all parents) and the envelope's fixed overhead. A receiver refuses any
 * declared length above it before allocating, so a member cannot make a peer reserve more than a model's worth
 * per stream.
 */
import { expectedPayloadLength, parseCodecSpec, DEFAULT_INT8_CHUNK, DEFAULT_TOPK_FRACTION, MAX_PARAMS, type CodecDescriptor, type CodecSpec } from '../../protocol/codecs/index.js'
import { ENVELOPE_OVERHEAD, MAX_HEADER_BYTES } from '../../protocol/messages/index.js'

/** The wire descriptor a codec spec produces for `numParams` values (top-k's k as its encoder rounds it). */
function descriptorFor (spec: CodecSpec, numParams: number): CodecDescriptor {
  switch (spec.name) {
    case 'float32': case 'float16': return { name: spec.name }
    case 'int8': return { name: 'int8', chunkSize: spec.chunkSize ?? DEFAULT_INT8_CHUNK }
    case 'topk': return { name: 'topk', k: Math.max(1, Math.min(numParams, spec.k ?? Math.max(1, Math.round((spec.fraction ?? DEFAULT_TOPK_FRACTION) * numParams)))) }
  }
}

/**
 * Bytes of the largest envelope for `numParams` parameters under `codec` (a spec or text such as `float16`,
 * `int8:512`, `topk:0.05`; default float32). Throws RangeError for an impossible parameter count.
 */
export function updateMessageLimit (numParams: number, codec: CodecSpec | string = 'float32'): number {
  if (!Number.isInteger(numParams) || numParams < 1 || numParams > MAX_PARAMS) throw new RangeError(`numParams must be an integer in 1..${MAX_PARAMS}, got ${numParams}`)
  const spec = typeof codec === 'string' ? parseCodecSpec(codec) : codec
  // never below float32's size: a network's codec is a default its members may not all share
  const payload = Math.max(4 * numParams, expectedPayloadLength(descriptorFor(spec, numParams), numParams) ?? 0)
  return MAX_HEADER_BYTES + ENVELOPE_OVERHEAD + payload
}
