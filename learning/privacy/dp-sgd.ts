/**
 * DP-SGD's two operations (Abadi et al. 2016): each example's gradient is scaled to an L2 norm of at most
 * `clip`, and Gaussian noise of standard deviation `noiseMultiplier * clip` is added to the SUM of the
 * clipped gradients before it is divided by the batch size. The trainers call these where they compute
 * gradients (trainers/glm.ts per row; trainers/dense.ts per batch row by the outer-product norm identity).
 */
import { InvalidPrivacyError } from './errors.js'

/** What a trainer needs to make a step differentially private. */
export interface DpSgdOptions {
  /** L2 bound of each example's gradient. */
  clip: number
  /** Noise standard deviation over `clip`. */
  noiseMultiplier: number
  /** Standard normal draws (seeded in simulations; a CSPRNG-backed source in a daemon: `cryptoNormal`). */
  normal: () => number
}

export function checkDpSgdOptions (o: DpSgdOptions): void {
  if (!(o.clip > 0 && Number.isFinite(o.clip))) throw new InvalidPrivacyError(`must be finite and > 0, got ${o.clip}`, 'privacy.clip')
  if (!(o.noiseMultiplier >= 0 && Number.isFinite(o.noiseMultiplier))) throw new InvalidPrivacyError(`must be finite and >= 0, got ${o.noiseMultiplier}`, 'privacy.noiseMultiplier')
}

/** The factor that brings a gradient of L2 norm `norm` within `clip`: min(1, clip / norm). */
export function clipFactor (norm: number, clip: number): number {
  return norm > clip ? clip / norm : 1
}

/** Scales each row of `grads` (rows x dim, row-major) in place to an L2 norm of at most `clip`; returns the factors. */
export function clipRows (grads: Float32Array | Float64Array, rows: number, clip: number): Float64Array {
  const dim = grads.length / rows
  if (!Number.isInteger(dim)) throw new RangeError(`clipRows: ${grads.length} values are not ${rows} rows`)
  const f = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    let s = 0
    for (let j = r * dim; j < (r + 1) * dim; j++) s += grads[j] * grads[j]
    f[r] = clipFactor(Math.sqrt(s), clip)
    for (let j = r * dim; j < (r + 1) * dim; j++) grads[j] *= f[r]
  }
  return f
}

/**
 * Adds N(0, (noiseMultiplier * clip)^2) to each entry of a summed gradient, scaled by `scale` (1 / batch size
 * when `sum` is already the mean of the clipped gradients).
 */
export function addGaussianNoise (sum: Float32Array | Float64Array, o: DpSgdOptions, scale = 1): void {
  const std = o.noiseMultiplier * o.clip * scale
  if (std === 0) return
  for (let j = 0; j < sum.length; j++) sum[j] += std * o.normal()
}

/** `n` draws of N(0, (noiseMultiplier * clip * scale)^2) (the noise the TF.js trainers upload per step). */
export function gaussianNoise (n: number, o: DpSgdOptions, scale = 1): Float32Array {
  const out = new Float32Array(n)
  addGaussianNoise(out, o, scale)
  return out
}

/** Standard normal draws from the platform CSPRNG (Web Crypto), by Box-Muller on 53-bit uniforms. */
export function cryptoNormal (): () => number {
  const buf = new Uint32Array(256)
  let at = buf.length
  let spare: number | null = null
  const uniform = (): number => {
    if (at + 2 > buf.length) { globalThis.crypto.getRandomValues(buf); at = 0 }
    const hi = buf[at++] >>> 5; const lo = buf[at++] >>> 6
    return (hi * 67108864 + lo + 1) / 9007199254740993 // in (0, 1)
  }
  return () => {
    if (spare != null) { const s = spare; spare = null; return s }
    const r = Math.sqrt(-2 * Math.log(uniform())); const t = 2 * Math.PI * uniform()
    spare = r * Math.sin(t)
    return r * Math.cos(t)
  }
}
