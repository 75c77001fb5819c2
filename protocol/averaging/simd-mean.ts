/**
 * The weighted mean's float64 accumulation as a hand-written WebAssembly SIMD kernel (bytes below, no toolchain):
 * `acc[i] = (first ? 0 : acc[i]) + a * x[i]` over float32 `x`, two elements per f64x2 lane pair. Each lane does
 * the very float64 operations of the JS loop (`acc += a * x[i]`, x promoted exactly), in the same order, so
 * `weightedMean` gives bit-identical results on either path (test/averaging/vector-robust.test.ts). Inputs are
 * copied into the kernel's memory in chunks that keep the accumulator in cache.
 *
 * Used where WebAssembly SIMD compiles and the host is little-endian; `MURMUR_SIMD=off` switches it off (as for
 * the codecs' sum of squares). `weightedMeanBackend` says which path this process uses.
 */
import { loadSimdKernel } from '../wasm-simd.js'

/*
 * The module, as WebAssembly text:
 * (module
 *   (memory (export "m") 1)
 *   (func (export "axpy") (param $acc i32) (param $x i32) (param $n i32) (param $a f64) (param $first i32)
 *     (local $end i32) (local $va v128)
 *     (local.set $va (f64x2.splat (local.get $a)))
 *     (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
 *     (block $done
 *       (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
 *       (if (local.get $first)
 *         (then (loop $l                                   ;; acc = 0 + a * x
 *           (v128.store (local.get $acc) (f64x2.add (v128.const f64x2 0 0)
 *             (f64x2.mul (local.get $va) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $x))))))
 *           (local.set $acc (i32.add (local.get $acc) (i32.const 16)))
 *           (br_if $l (i32.lt_u (local.tee $x (i32.add (local.get $x) (i32.const 8))) (local.get $end)))))
 *         (else (loop $l                                   ;; acc = acc + a * x
 *           (v128.store (local.get $acc) (f64x2.add (v128.load (local.get $acc))
 *             (f64x2.mul (local.get $va) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $x))))))
 *           (local.set $acc (i32.add (local.get $acc) (i32.const 16)))
 *           (br_if $l (i32.lt_u (local.tee $x (i32.add (local.get $x) (i32.const 8))) (local.get $end))))))))
 * `n` is even (an odd tail reads and writes one padding element past the end, never returned).
 */
const KERNEL = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x09, 0x01, 0x60, 0x05, 0x7f, 0x7f, 0x7f,
  0x7c, 0x7f, 0x00, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x0c, 0x02, 0x01,
  0x6d, 0x02, 0x00, 0x04, 0x61, 0x78, 0x70, 0x79, 0x00, 0x00, 0x0a, 0x99, 0x01, 0x01, 0x96, 0x01,
  0x02, 0x01, 0x7f, 0x01, 0x7b, 0x20, 0x03, 0xfd, 0x14, 0x21, 0x06, 0x20, 0x01, 0x20, 0x02, 0x41,
  0x02, 0x74, 0x6a, 0x21, 0x05, 0x02, 0x40, 0x20, 0x01, 0x20, 0x05, 0x4f, 0x0d, 0x00, 0x20, 0x04,
  0x04, 0x40, 0x03, 0x40, 0x20, 0x00, 0xfd, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x06, 0x20, 0x01, 0xfd, 0x5d, 0x03, 0x00,
  0xfd, 0x5f, 0xfd, 0xf2, 0x01, 0xfd, 0xf0, 0x01, 0xfd, 0x0b, 0x04, 0x00, 0x20, 0x00, 0x41, 0x10,
  0x6a, 0x21, 0x00, 0x20, 0x01, 0x41, 0x08, 0x6a, 0x22, 0x01, 0x20, 0x05, 0x49, 0x0d, 0x00, 0x0b,
  0x05, 0x03, 0x40, 0x20, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x04, 0x00, 0x20, 0x06, 0x20, 0x01, 0xfd,
  0x5d, 0x03, 0x00, 0xfd, 0x5f, 0xfd, 0xf2, 0x01, 0xfd, 0xf0, 0x01, 0xfd, 0x0b, 0x04, 0x00, 0x20,
  0x00, 0x41, 0x10, 0x6a, 0x21, 0x00, 0x20, 0x01, 0x41, 0x08, 0x6a, 0x22, 0x01, 0x20, 0x05, 0x49,
  0x0d, 0x00, 0x0b, 0x0b, 0x0b, 0x0b
])

/** Elements per chunk: the float64 accumulator (32 KiB) and the float32 input (16 KiB) stay in L1/L2. */
const CHUNK = 4096
const ACC_OFFSET = 0
const X_OFFSET = CHUNK * 8
const MEMORY_BYTES = X_OFFSET + CHUNK * 4 + 16
/** Below this many elements the JS loop is as fast as copying into the kernel. */
export const MIN_KERNEL_ELEMENTS = 256

type Axpy = (acc: number, x: number, n: number, a: number, first: number) => void
interface Kernel { acc: Float64Array, x: Float32Array, axpy: Axpy }

function loadKernel (): Kernel | null {
  const k = loadSimdKernel<{ axpy: Axpy }>(KERNEL, MEMORY_BYTES)
  return k == null ? null : { acc: new Float64Array(k.memory, ACC_OFFSET, CHUNK), x: new Float32Array(k.memory, X_OFFSET, CHUNK + 2), axpy: k.exports.axpy }
}

const kernel = loadKernel()

/** Which path `weightedMean` takes for float32 inputs in this process. */
export const weightedMeanBackend: 'wasm-simd' | 'js' = kernel != null ? 'wasm-simd' : 'js'

/**
 * target[i] = float(0 + a_0 x_0[i] + a_1 x_1[i] + ...), summed left to right in float64, through the kernel;
 * false (nothing written) where the kernel is off. Every x must be a Float32Array of length n.
 */
export function weightedSumSimd (xs: readonly Float32Array[], as: readonly number[], target: Float32Array | Float64Array, n: number): boolean {
  if (kernel == null) return false
  const { acc, x, axpy } = kernel
  for (let o = 0; o < n; o += CHUNK) {
    const len = Math.min(CHUNK, n - o)
    const even = len + (len & 1)
    for (let k = 0; k < xs.length; k++) {
      x.set(xs[k].subarray(o, o + len))
      if (even !== len) x[len] = 0
      axpy(ACC_OFFSET, X_OFFSET, even, as[k], k === 0 ? 1 : 0)
    }
    target.set(acc.subarray(0, len), o)
  }
  return true
}
