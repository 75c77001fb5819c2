/** IEEE 754 binary16 bit conversion, round to nearest even (no dependency; Node 20 has no Float16Array). */

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

/** The binary16 bits of a float32 value (round to nearest even; overflow gives infinity). */
export function toFloat16Bits (value: number): number {
  f32[0] = value
  return float32BitsToFloat16Bits(u32[0])
}

/** The binary16 bits of float32 bits `x` (round to nearest even; overflow gives infinity). */
export function float32BitsToFloat16Bits (x: number): number {
  const sign = (x >>> 16) & 0x8000
  const exp = (x >>> 23) & 0xff
  const mant = x & 0x7fffff
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0)
  const e = exp - 112
  if (e >= 0x1f) return sign | 0x7c00
  if (e <= 0) {
    if (e < -10) return sign
    const m = mant | 0x800000
    const shift = 14 - e
    let half = m >>> shift
    const rem = m & ((1 << shift) - 1)
    const halfway = 1 << (shift - 1)
    if (rem > halfway || (rem === halfway && (half & 1) === 1)) half++
    return sign | half
  }
  let half = sign | (e << 10) | (mant >>> 13)
  const rem = mant & 0x1fff
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++
  return half
}

let table: Float32Array | null = null

/** float32 value of every binary16 bit pattern (built once, 256 KiB). */
export function float16Table (): Float32Array {
  if (table != null) return table
  const t = new Float32Array(65536)
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) !== 0 ? -1 : 1
    const e = (h >>> 10) & 0x1f
    const m = h & 0x3ff
    let v: number
    if (e === 0) v = m * 2 ** -24
    else if (e === 0x1f) v = m === 0 ? Infinity : NaN
    else v = (1 + m / 1024) * 2 ** (e - 15)
    t[h] = sign * v
  }
  table = t
  return t
}

/** Largest finite binary16 value. */
export const FLOAT16_MAX = 65504
