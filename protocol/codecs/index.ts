/**
 * Payload codecs for model updates: how a Float32Array of weights (or deltas) becomes the bytes that are
 * sealed into an envelope, and back. The codec and its parameters travel in the signed header. Each codec is
 * one `PayloadCodec` object in its own file; `registry.ts` holds the table and the shared checks.
 *
 * | codec   | id | params (in header)   | payload bytes                           | error bound (per coordinate)          |
 * |---------|----|----------------------|-----------------------------------------|---------------------------------------|
 * | float32 | 1  | none                 | 4n, little-endian                       | exact                                 |
 * | float16 | 2  | none                 | 2n, little-endian binary16              | rel. 2^-11 (normal), abs. 2^-25 near 0 |
 * | int8    | 3  | u32 chunkSize        | 4*ceil(n/c) f32 scales, then n int8     | max|x| of its chunk / 254             |
 * | topk    | 4  | u32 k                | k u32 indices (strictly increasing), k f32 | exact on sent coords (topk.ts)     |
 *
 * @example
 * ```ts
 * const enc = createEncoder({ name: 'int8', chunkSize: 1024 })
 * const { codec, payload } = enc.encode(weights)
 * const r = decodePayload(codec, payload, weights.length, { maxBytes: 64 << 20 })
 * if (r.ok) use(r.values)
 * ```
 */
export type {
  CodecName, CodecDescriptor, CodecSpec, EncodedPayload, EncodeOptions, Encoder, PayloadRefusal, DecodeResult,
  DecodeOptions, PayloadCodec, CodecParam
} from './types.js'
export { NonFiniteWeightsError, CodecRangeError, CodecSpecError } from './errors.js'
export { FLOAT16_MAX } from './binary16.js'
export { sumOfSquares, sumOfSquaresPortable, sumOfSquaresBackend } from './sum-squares.js'
export { DEFAULT_INT8_CHUNK, DEFAULT_TOPK_FRACTION, MAX_INT8_CHUNK, MAX_PARAMS } from './constants.js'
export {
  CODECS, CODEC_IDS, codecByName, codecById, parseCodecSpec, createEncoder, expectedPayloadLength, decodePayload,
  codecParamBytes, writeCodec, readCodec, formatCodec
} from './registry.js'
