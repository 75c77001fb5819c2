/** Small graph helpers for the averaging tests (the simulator owns the real topologies in simulations/). */
import type { Rng } from '../../protocol/rng.js'

export type Graph = number[][] // adjacency lists

export function ring (n: number): Graph {
  return Array.from({ length: n }, (_, i) => [(i + n - 1) % n, (i + 1) % n])
}

/** The complete graph: every peer is every other peer's neighbour. */
export function complete (n: number): Graph {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => j).filter((j) => j !== i))
}

function addEdge (g: Graph, a: number, b: number): void {
  if (a === b || g[a].includes(b)) return
  g[a].push(b); g[b].push(a)
}

/** Union of k/2 random Hamiltonian cycles: (nearly) k-regular, an expander with high probability. */
export function randomRegular (n: number, k: number, rng: Rng): Graph {
  const g: Graph = Array.from({ length: n }, () => [])
  for (let c = 0; c < k / 2; c++) {
    const perm = rng.shuffle(Array.from({ length: n }, (_, i) => i))
    for (let i = 0; i < n; i++) addEdge(g, perm[i], perm[(i + 1) % n])
  }
  return g
}

/** Erdos-Renyi G(n, p) plus a random spanning path so it is connected. */
export function connectedRandom (n: number, p: number, rng: Rng): Graph {
  const g: Graph = Array.from({ length: n }, () => [])
  const perm = rng.shuffle(Array.from({ length: n }, (_, i) => i))
  for (let i = 0; i + 1 < n; i++) addEdge(g, perm[i], perm[i + 1])
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) if (rng.next() < p) addEdge(g, a, b)
  return g
}

/** A random strongly connected directed graph: a directed Hamiltonian cycle plus random arcs. */
export function directedRandom (n: number, extraOut: number, rng: Rng): Graph {
  const g: Graph = Array.from({ length: n }, () => [])
  const perm = rng.shuffle(Array.from({ length: n }, (_, i) => i))
  for (let i = 0; i < n; i++) g[perm[i]].push(perm[(i + 1) % n])
  for (let a = 0; a < n; a++) {
    for (let e = 0; e < extraOut; e++) {
      const b = rng.int(n)
      if (b !== a && !g[a].includes(b)) g[a].push(b)
    }
  }
  return g
}

export function randomVectors (n: number, dim: number, rng: Rng, scale = 1): Float64Array[] {
  return Array.from({ length: n }, () => Float64Array.from({ length: dim }, () => rng.normal() * scale))
}

/** Weighted average of vectors. */
export function average (xs: ArrayLike<number>[], weights?: number[]): Float64Array {
  const dim = xs[0].length
  const out = new Float64Array(dim)
  let total = 0
  xs.forEach((x, k) => {
    const w = weights?.[k] ?? 1
    total += w
    for (let i = 0; i < dim; i++) out[i] += w * x[i]
  })
  for (let i = 0; i < dim; i++) out[i] /= total
  return out
}

export function maxAbsError (xs: ArrayLike<number>[], target: ArrayLike<number>): number {
  let m = 0
  for (const x of xs) for (let i = 0; i < target.length; i++) m = Math.max(m, Math.abs(x[i] - target[i]))
  return m
}

/** Root mean square distance of the vectors to their mean, relative to the mean's norm (+1e-12). */
export function relativeConsensusDistance (xs: ArrayLike<number>[]): number {
  const mean = average(xs)
  let s = 0
  for (const x of xs) for (let i = 0; i < mean.length; i++) s += (x[i] - mean[i]) ** 2
  let nm = 0
  for (let i = 0; i < mean.length; i++) nm += mean[i] ** 2
  return Math.sqrt(s / xs.length) / (Math.sqrt(nm) + 1e-12)
}
