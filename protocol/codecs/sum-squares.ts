/**
 * Sum of squares of a Float32Array in float64: the decoder's single pass that yields both the norm and the
 * "all finite" check (a float32 square is below 2^256, so the float64 sum of at most 2^28 of them is finite
 * exactly when every value is).
 *
 * Two implementations, bit-identical by construction (test/codecs proves it on random and hostile vectors):
 * - `sumOfSquaresPortable`: plain JS, four float64 accumulators a, b, c, d taking elements i mod 4 = 0..3 in
 *   index order, the tail (length mod 4) added to a, result (a + b) + (c + d);
 * - a hand-written WebAssembly SIMD kernel (bytes below, no toolchain) doing the very same float64 operations
 *   in the same order: accumulator (a, b) is one f64x2, (c, d) another; each step loads 4 float32, promotes
 *   lanes 0-1 and 2-3 to float64, squares (exact: a float32 square fits in 53 bits) and adds (figures: docs/design-notes.md).
 *
 * The kernel runs where WebAssembly SIMD compiles and the host is little-endian (wasm memory is
 * little-endian); `MURMUR_SIMD=off` switches it off. `sumOfSquaresBackend` says which one this process uses.
 */
import { loadSimdKernel } from '../wasm-simd.js'

/*
 * The module, as WebAssembly text:
 * (module
 *   (memory (export "m") 1)                      ;; [0, 32): accumulators (a, b), (c, d); [64, 64 + CHUNK): input
 *   (func (export "ss") (param $p i32) (param $end i32)
 *     (local $ab v128) (local $cd v128) (local $v v128) (local $w v128)
 *     (local.set $ab (v128.load (i32.const 0)))
 *     (local.set $cd (v128.load offset=16 (i32.const 0)))
 *     (block $done
 *       (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
 *       (loop $next
 *         (local.set $v (v128.load (local.get $p)))                       ;; x0 x1 x2 x3 (float32)
 *         (local.set $w (f64x2.promote_low_f32x4 (local.get $v)))         ;; x0 x1 (float64)
 *         (local.set $ab (f64x2.add (local.get $ab) (f64x2.mul (local.get $w) (local.get $w))))
 *         (local.set $w (f64x2.promote_low_f32x4
 *           (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v))))  ;; x2 x3
 *         (local.set $cd (f64x2.add (local.get $cd) (f64x2.mul (local.get $w) (local.get $w))))
 *         (br_if $next (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end)))))
 *     (v128.store (i32.const 0) (local.get $ab))
 *     (v128.store offset=16 (i32.const 0) (local.get $cd))))
 */
const KERNEL = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x00,
  0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x0a, 0x02, 0x01, 0x6d, 0x02, 0x00,
  0x02, 0x73, 0x73, 0x00, 0x00, 0x0a, 0x84, 0x01, 0x01, 0x81, 0x01, 0x01, 0x04, 0x7b, 0x41, 0x00,
  0xfd, 0x00, 0x04, 0x00, 0x21, 0x02, 0x41, 0x00, 0xfd, 0x00, 0x04, 0x10, 0x21, 0x03, 0x02, 0x40,
  0x20, 0x00, 0x20, 0x01, 0x4f, 0x0d, 0x00, 0x03, 0x40, 0x20, 0x00, 0xfd, 0x00, 0x04, 0x00, 0x21,
  0x04, 0x20, 0x04, 0xfd, 0x5f, 0x21, 0x05, 0x20, 0x02, 0x20, 0x05, 0x20, 0x05, 0xfd, 0xf2, 0x01,
  0xfd, 0xf0, 0x01, 0x21, 0x02, 0x20, 0x04, 0x20, 0x04, 0xfd, 0x0d, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
  0x0d, 0x0e, 0x0f, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xfd, 0x5f, 0x21, 0x05, 0x20,
  0x03, 0x20, 0x05, 0x20, 0x05, 0xfd, 0xf2, 0x01, 0xfd, 0xf0, 0x01, 0x21, 0x03, 0x20, 0x00, 0x41,
  0x10, 0x6a, 0x22, 0x00, 0x20, 0x01, 0x49, 0x0d, 0x00, 0x0b, 0x0b, 0x41, 0x00, 0x20, 0x02, 0xfd,
  0x0b, 0x04, 0x00, 0x41, 0x00, 0x20, 0x03, 0xfd, 0x0b, 0x04, 0x10, 0x0b
])

/** Input bytes copied into the kernel's memory per call (a multiple of 16; 32 KiB stays in L1/L2). */
const CHUNK_BYTES = 32768
const DATA_OFFSET = 64
/** Below this many values the JS loop is as fast as copying into the kernel. */
const MIN_KERNEL_VALUES = 256

interface Kernel {
  memory: Uint8Array
  acc: Float64Array
  ss: (p: number, end: number) => void
}

function loadKernel (): Kernel | null {
  const k = loadSimdKernel<{ ss: (p: number, end: number) => void }>(KERNEL)
  return k == null ? null : { memory: new Uint8Array(k.memory), acc: new Float64Array(k.memory, 0, 4), ss: k.exports.ss }
}

const kernel = loadKernel()

/** Which implementation `sumOfSquares` uses in this process. */
export const sumOfSquaresBackend: 'wasm-simd' | 'js' = kernel != null ? 'wasm-simd' : 'js'

/** The portable reference: four float64 accumulators over i mod 4, tail into the first, (a + b) + (c + d). */
export function sumOfSquaresPortable (values: Float32Array): number {
  const n = values.length
  const end = n - (n & 3)
  let a = 0
  let b = 0
  let c = 0
  let d = 0
  for (let i = 0; i < end; i += 4) {
    const x = values[i]
    const y = values[i + 1]
    const z = values[i + 2]
    const w = values[i + 3]
    a += x * x
    b += y * y
    c += z * z
    d += w * w
  }
  for (let i = end; i < n; i++) a += values[i] * values[i]
  return (a + b) + (c + d)
}

/**
 * Sum of squares in float64, bit-identical to `sumOfSquaresPortable` (same operations, same order), through
 * the WebAssembly SIMD kernel where it loaded. Non-finite exactly when some value is NaN or infinite.
 */
export function sumOfSquares (values: Float32Array): number {
  const n = values.length
  if (kernel == null || n < MIN_KERNEL_VALUES) return sumOfSquaresPortable(values)
  const { memory, acc, ss } = kernel
  const end = n - (n & 3)
  acc[0] = 0; acc[1] = 0; acc[2] = 0; acc[3] = 0
  const bytes = new Uint8Array(values.buffer, values.byteOffset, end * 4)
  for (let o = 0; o < bytes.length; o += CHUNK_BYTES) {
    const len = Math.min(CHUNK_BYTES, bytes.length - o)
    memory.set(bytes.subarray(o, o + len), DATA_OFFSET)
    ss(DATA_OFFSET, DATA_OFFSET + len)
  }
  let a = acc[0]
  for (let i = end; i < n; i++) a += values[i] * values[i]
  return (a + acc[1]) + (acc[2] + acc[3])
}
