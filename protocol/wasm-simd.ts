/**
 * Loads the small hand-written WebAssembly SIMD kernels of protocol/ (protocol/codecs/sum-squares.ts,
 * protocol/averaging/simd-mean.ts): each module exports its memory as `m` and its functions. Null where
 * WebAssembly SIMD does not compile here, the host is big-endian (wasm memory is little-endian, the kernels read
 * typed arrays byte for byte), or `MURMUR_SIMD=off`; callers then use their plain JS loops, which give the same
 * bits.
 *
 * @example
 * ```ts
 * const k = loadSimdKernel<{ ss: (p: number, end: number) => void }>(KERNEL_BYTES)
 * if (k != null) k.exports.ss(64, 64 + len)   // k.memory: the module's ArrayBuffer
 * ```
 */

/** The part of the WebAssembly JS API used here (the project's TS lib has no DOM types). */
interface WasmApi {
  validate: (bytes: Uint8Array) => boolean
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object) => { exports: Record<string, unknown> & { m: { buffer: ArrayBuffer } } }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

export function loadSimdKernel<T> (bytes: Uint8Array, minMemoryBytes = 0): { memory: ArrayBuffer, exports: T } | null {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly
  if (process.env.MURMUR_SIMD === 'off' || !LITTLE_ENDIAN || wasm == null) return null
  try {
    if (!wasm.validate(bytes)) return null
    const { exports } = new wasm.Instance(new wasm.Module(bytes))
    if (exports.m.buffer.byteLength < minMemoryBytes) return null
    return { memory: exports.m.buffer, exports: exports as unknown as T }
  } catch {
    return null
  }
}
