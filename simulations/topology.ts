/**
 * Communication graphs for the simulated network. Peers are numbered 0..n-1; `SimTransport` maps numbers to
 * peer keys. Static graphs are built once from a seeded RNG and stored as sorted adjacency lists; the dynamic
 * `s-random` graph draws s fresh random out-neighbours for every peer in every round (Epidemic Learning's
 * topology), from a stream forked by round and peer, so any worker computes the same neighbours.
 *
 * @example
 * ```ts
 * const g = buildTopology({ kind: 'small-world', k: 6, beta: 0.1 }, 100, createRng(1))
 * g.neighbours(7, 0)   // sorted peer numbers
 * ```
 */
import type { Rng } from '../protocol/rng.js'
import { createRng } from '../protocol/rng.js'

export type TopologySpec =
  | { kind: 'complete' }
  | { kind: 'ring', k?: number }
  | { kind: 'k-regular', k: number }
  | { kind: 'small-world', k: number, beta: number }
  | { kind: 'erdos-renyi', p: number }
  | { kind: 's-random', s: number }

export type TopologyKind = TopologySpec['kind']
export const TOPOLOGY_KINDS: readonly TopologyKind[] = ['complete', 'ring', 'k-regular', 'small-world', 'erdos-renyi', 's-random']

export interface Topology {
  readonly spec: TopologySpec
  readonly n: number
  /** True when neighbours change from round to round. */
  readonly dynamic: boolean
  /** Whether i -> j implies j -> i. */
  readonly symmetric: boolean
  /** Neighbours of peer `i` in round `round` (sorted ascending, never containing i). */
  neighbours: (i: number, round: number) => number[]
  /** Number of neighbours of peer i (in round `round` for dynamic graphs). */
  degree: (i: number, round: number) => number
}

export class TopologyError extends Error {
  static override name = 'TopologyError'
  override name = 'TopologyError'
}

/** Sorted adjacency lists in compressed form (offsets into one Int32Array). */
class StaticGraph implements Topology {
  readonly dynamic = false
  readonly symmetric = true
  readonly #offsets: Int32Array
  readonly #targets: Int32Array

  constructor (readonly spec: TopologySpec, readonly n: number, adjacency: Array<Set<number>>) {
    this.#offsets = new Int32Array(n + 1)
    let total = 0
    for (let i = 0; i < n; i++) { this.#offsets[i] = total; total += adjacency[i].size }
    this.#offsets[n] = total
    this.#targets = new Int32Array(total)
    for (let i = 0; i < n; i++) {
      const sorted = [...adjacency[i]].sort((a, b) => a - b)
      this.#targets.set(sorted, this.#offsets[i])
    }
  }

  neighbours (i: number): number[] {
    return Array.from(this.#targets.subarray(this.#offsets[i], this.#offsets[i + 1]))
  }

  degree (i: number): number { return this.#offsets[i + 1] - this.#offsets[i] }
}

class CompleteGraph implements Topology {
  readonly dynamic = false
  readonly symmetric = true
  constructor (readonly spec: TopologySpec, readonly n: number) {}
  neighbours (i: number): number[] {
    const out = new Array<number>(this.n - 1)
    for (let j = 0, k = 0; j < this.n; j++) if (j !== i) out[k++] = j
    return out
  }

  degree (): number { return this.n - 1 }
}

class SRandomGraph implements Topology {
  readonly dynamic = true
  readonly symmetric = false
  readonly #rng: Rng
  readonly #s: number
  constructor (readonly spec: TopologySpec & { kind: 's-random' }, readonly n: number, rng: Rng) {
    this.#rng = rng
    this.#s = Math.min(spec.s, n - 1)
  }

  neighbours (i: number, round: number): number[] {
    const rng = this.#rng.fork(`r${round}:p${i}`)
    const chosen = new Set<number>()
    if (this.#s * 3 > this.n) {
      const others = rng.sample(Array.from({ length: this.n - 1 }, (_, k) => (k >= i ? k + 1 : k)), this.#s)
      return others.sort((a, b) => a - b)
    }
    while (chosen.size < this.#s) {
      const j = rng.int(this.n)
      if (j !== i) chosen.add(j)
    }
    return [...chosen].sort((a, b) => a - b)
  }

  degree (): number { return this.#s }
}

function emptyAdjacency (n: number): Array<Set<number>> {
  return Array.from({ length: n }, () => new Set<number>())
}

function link (adj: Array<Set<number>>, a: number, b: number): void {
  adj[a].add(b); adj[b].add(a)
}

/** Ring lattice: each node linked to the `half` nearest nodes on each side. */
function ringLattice (n: number, half: number): Array<Set<number>> {
  const adj = emptyAdjacency(n)
  for (let i = 0; i < n; i++) {
    for (let d = 1; d <= half; d++) link(adj, i, (i + d) % n)
  }
  return adj
}

function randomRegular (n: number, k: number, rng: Rng): Array<Set<number>> {
  if (k >= n) throw new TopologyError(`k-regular: k (${k}) must be smaller than the number of peers (${n})`)
  if ((n * k) % 2 !== 0) throw new TopologyError(`k-regular: no ${k}-regular graph on ${n} peers exists (n*k must be even)`)
  // Start from a circulant k-regular graph, then randomize with degree-preserving double-edge swaps.
  const adj = ringLattice(n, Math.floor(k / 2))
  if (k % 2 === 1) for (let i = 0; i < n / 2; i++) link(adj, i, i + n / 2)
  const edges: Array<[number, number]> = []
  for (let a = 0; a < n; a++) for (const b of adj[a]) if (a < b) edges.push([a, b])
  const swaps = 10 * edges.length
  for (let s = 0; s < swaps && edges.length > 1; s++) {
    const e1 = rng.int(edges.length)
    const e2 = rng.int(edges.length)
    if (e1 === e2) continue
    let [a, b] = edges[e1]
    const [c, d] = edges[e2]
    if (rng.next() < 0.5) { const t = a; a = b; b = t }
    // (a,b),(c,d) -> (a,d),(c,b)
    if (a === d || c === b || adj[a].has(d) || adj[c].has(b)) continue
    adj[a].delete(b); adj[b].delete(a); adj[c].delete(d); adj[d].delete(c)
    link(adj, a, d); link(adj, c, b)
    edges[e1] = [a, d]; edges[e2] = [c, b]
  }
  return adj
}

function smallWorld (n: number, k: number, beta: number, rng: Rng): Array<Set<number>> {
  if (k % 2 !== 0 || k < 2) throw new TopologyError(`small-world: k must be an even number >= 2, got ${k}`)
  if (k >= n) throw new TopologyError(`small-world: k (${k}) must be smaller than the number of peers (${n})`)
  const adj = ringLattice(n, k / 2)
  // Watts-Strogatz: rewire each lattice edge (i, i+d) with probability beta to a uniformly chosen new end.
  for (let d = 1; d <= k / 2; d++) {
    for (let i = 0; i < n; i++) {
      const j = (i + d) % n
      if (rng.next() >= beta) continue
      if (adj[i].size >= n - 1) continue
      let m = rng.int(n)
      let guard = 0
      while ((m === i || adj[i].has(m)) && guard++ < 10 * n) m = rng.int(n)
      if (m === i || adj[i].has(m)) continue
      if (!adj[i].has(j)) continue
      adj[i].delete(j); adj[j].delete(i)
      link(adj, i, m)
    }
  }
  return adj
}

function erdosRenyi (n: number, p: number, rng: Rng): Array<Set<number>> {
  if (!(p > 0 && p <= 1)) throw new TopologyError(`erdos-renyi: p must be in (0, 1], got ${p}`)
  const adj = emptyAdjacency(n)
  if (p === 1) { for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) link(adj, a, b); return adj }
  // Batagelj and Brandes: skip over absent edges geometrically, O(n + m).
  const lp = Math.log(1 - p)
  let v = 1
  let w = -1
  while (v < n) {
    const r = 1 - rng.next()
    w = w + 1 + Math.floor(Math.log(r) / lp)
    while (w >= v && v < n) { w -= v; v++ }
    if (v < n) link(adj, v, w)
  }
  return adj
}

/** Builds a topology over n peers; static graphs are drawn from `rng` (deterministic for a seed). */
export function buildTopology (spec: TopologySpec, n: number, rng: Rng = createRng(0)): Topology {
  if (!Number.isInteger(n) || n < 1) throw new TopologyError(`a topology needs at least one peer, got ${n}`)
  switch (spec.kind) {
    case 'complete': return new CompleteGraph(spec, n)
    case 'ring': {
      const k = spec.k ?? 2
      if (k % 2 !== 0 || k < 2) throw new TopologyError(`ring: k must be an even number >= 2, got ${k}`)
      return new StaticGraph(spec, n, ringLattice(n, n > 1 ? Math.max(1, Math.min(k / 2, Math.floor(n / 2))) : 0))
    }
    case 'k-regular': return new StaticGraph(spec, n, randomRegular(n, spec.k, rng.fork('k-regular')))
    case 'small-world': return new StaticGraph(spec, n, smallWorld(n, spec.k, spec.beta, rng.fork('small-world')))
    case 'erdos-renyi': return new StaticGraph(spec, n, erdosRenyi(n, spec.p, rng.fork('erdos-renyi')))
    case 's-random': {
      if (!Number.isInteger(spec.s) || spec.s < 1) throw new TopologyError(`s-random: s must be a positive integer, got ${spec.s}`)
      return new SRandomGraph(spec, n, rng.fork('s-random'))
    }
  }
}

/** Whether every peer can reach every other (treating links as undirected), in round `round`. */
export function isConnected (g: Topology, round = 0): boolean {
  if (g.n <= 1) return true
  const undirected = emptyAdjacency(g.n)
  for (let i = 0; i < g.n; i++) for (const j of g.neighbours(i, round)) link(undirected, i, j)
  const seen = new Uint8Array(g.n)
  const stack = [0]
  seen[0] = 1
  let count = 1
  while (stack.length > 0) {
    const a = stack.pop() as number
    for (const b of undirected[a]) if (seen[b] === 0) { seen[b] = 1; count++; stack.push(b) }
  }
  return count === g.n
}

/** Average local clustering coefficient (for checking small-world graphs). */
export function clusteringCoefficient (g: Topology): number {
  let sum = 0
  for (let i = 0; i < g.n; i++) {
    const nb = g.neighbours(i, 0)
    if (nb.length < 2) continue
    const set = new Set(nb)
    let links = 0
    for (const a of nb) for (const b of g.neighbours(a, 0)) if (b > a && set.has(b)) links++
    sum += (2 * links) / (nb.length * (nb.length - 1))
  }
  return sum / g.n
}
