/**
 * Seeded, splittable pseudo-random numbers. Every random choice in Murmur flows from one of these,
 * so the same scenario and seed give the same results.
 *
 * @example
 * ```ts
 * const rng = createRng(42)
 * const peerRng = rng.fork('peer-7')   // independent stream, stable for the same label
 * peerRng.int(10)                      // 0..9
 * ```
 */

/** A deterministic random stream (sfc32 core, seeded through splitmix32 / FNV-1a). */
export interface Rng {
  /** Uniform in [0, 1). */
  next: () => number
  /** Uniform integer in [0, n). */
  int: (n: number) => number
  /** Standard normal (Box-Muller). */
  normal: () => number
  /** Gamma(shape, 1), for Dirichlet draws. */
  gamma: (shape: number) => number
  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle: <T>(items: T[]) => T[]
  /** k distinct items chosen uniformly (k clipped to items.length). */
  sample: <T>(items: readonly T[], k: number) => T[]
  /** Fills a buffer with random bytes (NOT cryptographic; for simulation only). */
  bytes: (n: number) => Uint8Array
  /** An independent stream derived from this one's seed and a label; does not advance this stream. */
  fork: (label: string | number) => Rng
  /** The 32-bit seed this stream was built from. */
  readonly seed: number
}

function fnv1a (text: string, basis = 0x811c9dc5): number {
  let h = basis >>> 0
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}

function splitmix32 (state: number): () => number {
  let s = state >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

/** Turns any seed (number or string) into a 32-bit seed. */
export function seedOf (seed: number | string): number {
  return typeof seed === 'number' && Number.isInteger(seed) ? (seed >>> 0) : fnv1a(String(seed))
}

export function createRng (seed: number | string = 0): Rng {
  const seed32 = seedOf(seed)
  const init = splitmix32(seed32)
  let a = init(); let b = init(); let c = init(); let d = init()
  const u32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) >>> 0
    return t >>> 0
  }
  for (let i = 0; i < 12; i++) u32()
  let spare: number | undefined
  const next = (): number => u32() / 4294967296
  const rng: Rng = {
    seed: seed32,
    next,
    int: (n) => {
      if (!(n > 0)) throw new RangeError(`Rng.int needs n > 0, got ${n}`)
      return Math.floor(next() * n)
    },
    normal: () => {
      if (spare !== undefined) { const s = spare; spare = undefined; return s }
      let u = 0
      while (u === 0) u = next()
      const v = next()
      const r = Math.sqrt(-2 * Math.log(u))
      spare = r * Math.sin(2 * Math.PI * v)
      return r * Math.cos(2 * Math.PI * v)
    },
    gamma: (shape) => {
      // Marsaglia and Tsang; boost for shape < 1.
      if (shape < 1) {
        const u = next() || Number.MIN_VALUE
        return rng.gamma(shape + 1) * Math.pow(u, 1 / shape)
      }
      const dd = shape - 1 / 3
      const cc = 1 / Math.sqrt(9 * dd)
      for (;;) {
        let x: number; let v: number
        do { x = rng.normal(); v = 1 + cc * x } while (v <= 0)
        v = v * v * v
        const u = next()
        if (u < 1 - 0.0331 * x * x * x * x) return dd * v
        if (Math.log(u) < 0.5 * x * x + dd * (1 - v + Math.log(v))) return dd * v
      }
    },
    shuffle: (items) => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1))
        const t = items[i]; items[i] = items[j]; items[j] = t
      }
      return items
    },
    sample: (items, k) => {
      const n = items.length
      const m = Math.max(0, Math.min(k, n))
      const idx = Array.from({ length: n }, (_, i) => i)
      for (let i = 0; i < m; i++) {
        const j = i + Math.floor(next() * (n - i))
        const t = idx[i]; idx[i] = idx[j]; idx[j] = t
      }
      return idx.slice(0, m).map((i) => items[i])
    },
    bytes: (n) => {
      const out = new Uint8Array(n)
      for (let i = 0; i < n; i += 4) {
        const v = u32()
        for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (v >>> (8 * j)) & 0xff
      }
      return out
    },
    fork: (label) => createRng(fnv1a(String(label), seed32 ^ 0x9e3779b9))
  }
  return rng
}
