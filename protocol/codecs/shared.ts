/** Helpers every codec uses: finite checks, the decoded result with its sum of squares, uninitialised buffers. */
import { NonFiniteWeightsError } from './errors.js'
import { sumOfSquares } from './sum-squares.js'
import type { CodecSpec, DecodeResult, EncodedPayload, EncodeOptions, Encoder } from './types.js'

/** Payloads are little-endian; typed-array fast paths are used only on little-endian hosts. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Throws NonFiniteWeightsError naming the first NaN/Inf; one SIMD sum-of-squares pass when all are finite. */
export function assertFinite (values: Float32Array): void {
  const s = sumOfSquares(values)
  if (s - s === 0) return
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v - v !== 0) throw new NonFiniteWeightsError(`weight ${i} is ${v}: refusing to encode a non-finite value`)
  }
}

/** A Uint8Array of n bytes the caller overwrites completely (skips zero-filling; unpooled). */
export function allocUninitialised (n: number): Uint8Array {
  if (n < 256) return new Uint8Array(n)
  const b = Buffer.allocUnsafeSlow(n)
  return new Uint8Array(b.buffer, b.byteOffset, n)
}

/** A Float32Array of n values the caller overwrites completely (its own ArrayBuffer, offset 0). */
export function uninitialisedFloats (n: number): Float32Array {
  if (4 * n < 256) return new Float32Array(n)
  const b = Buffer.allocUnsafeSlow(4 * n) // unpooled: its own ArrayBuffer
  return b.byteOffset % 4 === 0 ? new Float32Array(b.buffer, b.byteOffset, n) : new Float32Array(n)
}

export function bytesOf (values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength)
}

/** Sum of squares in one pass; non-finite exactly when some value is NaN or infinite (float32 squares cannot overflow float64). */
export function finish (values: Float32Array, indices: Uint32Array | null): DecodeResult {
  const s = sumOfSquares(values)
  if (s - s !== 0) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]
      if (v - v !== 0) return { ok: false, reason: 'NON_FINITE', detail: `value ${i} is ${v}` }
    }
  }
  return { ok: true, values, indices, sumSquares: s }
}

/** An encoder without state (no residual). */
export function stateless (spec: CodecSpec, encode: (values: Float32Array, options?: EncodeOptions) => EncodedPayload): Encoder {
  return { spec, encode, reset: () => {}, residualNorm: () => 0 }
}

/** Whether `v` is an integer in [min, max]. */
export function inRange (v: number, min: number, max: number): boolean {
  return Number.isInteger(v) && v >= min && v <= max
}
