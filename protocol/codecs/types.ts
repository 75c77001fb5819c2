/** The shapes shared by every payload codec and its callers. */

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

export interface EncodedPayload { codec: CodecDescriptor, payload: Uint8Array }

export interface EncodeOptions {
  /**
   * float32 only (little-endian hosts): the payload may be a view of `values` itself instead of a copy, for a
   * caller that consumes it before `values` can change (sealUpdate reads it once, synchronously). The other
   * codecs always return new bytes.
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

/** One parameter a codec carries in the header: an unsigned 32-bit big-endian integer in [min, max]. */
export interface CodecParam {
  readonly key: string
  readonly min: number
  readonly max: number
}

/**
 * One payload codec. The registry (registry.ts) dispatches on `name` and on the header's `id` byte; the
 * header carries `params` after the id byte, in order, as u32 big-endian each.
 */
export interface PayloadCodec<D extends CodecDescriptor = CodecDescriptor, S extends CodecSpec = CodecSpec> {
  readonly name: D['name']
  /** The header's codec id byte (unique, never reused). */
  readonly id: number
  /** The header parameters (empty for codecs without any). */
  readonly params: readonly CodecParam[]
  /** Text form of the spec in help and errors: "int8[:chunk]". */
  readonly usage: string
  /** Short text form of a descriptor, parseable by `parseSpec` ("int8:1024", "topk:k=500"). */
  format: (codec: D) => string
  /** The spec for the text after "name:" (undefined: no argument); throws CodecSpecError naming the problem. */
  parseSpec: (arg: string | undefined) => S
  /** An encoder for this spec (top-k keeps its error-feedback residual in it); throws CodecSpecError. */
  createEncoder: (spec: S) => Encoder
  /**
   * Payload bytes for this descriptor and `numParams` (an integer in 0..MAX_PARAMS, checked by the caller);
   * null when the parameters are invalid for that length. Called before anything is allocated.
   */
  encodedLength: (codec: D, numParams: number) => number | null
  /**
   * Decodes a payload whose length already equals `encodedLength` and whose size the caller bounded. Never
   * throws: every problem of hostile bytes is a named refusal.
   */
  decode: (codec: D, payload: Uint8Array, numParams: number, options: DecodeOptions) => DecodeResult
}
