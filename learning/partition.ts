/**
 * Partitioners: split a dataset's training rows among peers, deterministically from a seed.
 * The global held-out test split (dataset.test) is never handed out.
 *
 * - `iid`: shuffled, equal sizes.
 * - `dirichlet`: label skew; for each class, shares over peers drawn from Dirichlet(alpha) (small alpha = skewed).
 * - `key`: natural split by the partition-key column (e.g. Region: one peer per region); with more peers than
 *   keys, each key is subdivided in proportion to its size (22 regions -> 220 peers).
 * - `size-skew`: iid content, sizes following a power law (size of rank r proportional to r^-exponent).
 */
import { createRng, type Rng } from '../protocol/rng.js'
import type { Dataset } from './dataset.js'
import { InvalidSpecError } from './errors.js'

export type PartitionKind = 'iid' | 'dirichlet' | 'key' | 'size-skew'
export const PARTITION_KINDS: readonly PartitionKind[] = ['iid', 'dirichlet', 'key', 'size-skew']

export interface PartitionOptions {
  kind: PartitionKind
  /** Number of peers (for `key`: default one per key value). */
  peers?: number
  /** Dirichlet concentration (default 0.5). */
  alpha?: number
  /** Power-law exponent for size-skew (default 1). */
  exponent?: number
  /** Partition-key column name (default: the dataset's `partition` column). Only that column is supported. */
  key?: string
  seed?: number | string
  /** Every peer gets at least this many rows (default 1). */
  minPerPeer?: number
  /** Rows to split (default dataset.train). */
  rows?: Uint32Array
  /**
   * Split only a seeded sample of peers x rowsPerPeer of the rows (small shards, e.g. to study what one peer's
   * model reveals of its few rows); the other rows are no peer's.
   */
  rowsPerPeer?: number
}

export interface Shard {
  /** Stable name: `peer-7`, or `Rhone-Alpes` / `Rhone-Alpes#3` for key splits. */
  id: string
  /** Partition-key value for key splits. */
  key?: string
  /** Training row indices into the dataset. */
  indices: Uint32Array
}

function fail (field: string, message: string): never {
  throw new InvalidSpecError(`invalid partition: partition.${field}: ${message}`, `partition.${field}`)
}

/** Splits `rows` into `sizes`-long consecutive chunks (rows already shuffled). */
function chunk (rows: number[], sizes: number[]): Uint32Array[] {
  const out: Uint32Array[] = []
  let o = 0
  for (const s of sizes) { out.push(Uint32Array.from(rows.slice(o, o + s)).sort()); o += s }
  return out
}

/** Integer sizes summing to `total`, proportional to `weights`, each >= min (largest remainder). */
export function apportion (total: number, weights: number[], min = 0): number[] {
  const k = weights.length
  if (min * k > total) throw new RangeError(`cannot give ${k} parts at least ${min} of ${total}`)
  const free = total - min * k
  const sw = weights.reduce((a, b) => a + b, 0)
  const raw = weights.map((w) => sw > 0 ? (w / sw) * free : free / k)
  const base = raw.map(Math.floor)
  let left = free - base.reduce((a, b) => a + b, 0)
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1])
  for (let j = 0; left > 0; j = (j + 1) % k, left--) base[order[j][1]]++
  return base.map((b) => b + min)
}

function iid (rows: number[], peers: number, rng: Rng, min: number): Uint32Array[] {
  rng.shuffle(rows)
  return chunk(rows, apportion(rows.length, new Array(peers).fill(1), min))
}

/** Moves rows from the largest shards to those under `min` (deterministic). */
function topUp (shards: number[][], min: number, rng: Rng): void {
  for (const s of shards) {
    while (s.length < min) {
      let big = 0
      for (let i = 1; i < shards.length; i++) if (shards[i].length > shards[big].length) big = i
      if (shards[big].length <= min) return
      const j = rng.int(shards[big].length)
      s.push(shards[big][j])
      shards[big][j] = shards[big][shards[big].length - 1]
      shards[big].pop()
    }
  }
}

export function partition (dataset: Dataset, options: PartitionOptions): Shard[] {
  const kind = options.kind
  if (!PARTITION_KINDS.includes(kind)) fail('kind', `unknown kind '${String(kind)}' (one of ${PARTITION_KINDS.join(', ')})`)
  const rng = createRng(options.seed ?? 0).fork(`partition:${kind}`)
  const rowsIn = options.rows ?? dataset.train
  let rows = Array.from(rowsIn)
  if (options.rowsPerPeer != null) {
    const per = options.rowsPerPeer
    if (!(Number.isInteger(per) && per >= 1)) fail('rowsPerPeer', `must be an integer >= 1, got ${String(per)}`)
    if (options.peers == null) fail('rowsPerPeer', 'needs peers')
    const want = per * options.peers
    if (want < rows.length) rows = createRng(options.seed ?? 0).fork('partition:rows-per-peer').sample(rows, want).sort((a, b) => a - b)
  }
  const min = options.minPerPeer ?? 1
  const named = (arrs: Uint32Array[]): Shard[] => arrs.map((indices, i) => ({ id: `peer-${i}`, indices }))

  if (kind === 'key') {
    const codes = dataset.partitionCodes
    const values = dataset.partitionValues
    if (codes == null || values == null) fail('key', `dataset '${dataset.name}' has no column with role 'partition'`)
    if (options.key != null && options.key !== dataset.partitionColumn) {
      fail('key', `'${options.key}' is not the dataset's partition column ('${dataset.partitionColumn ?? ''}')`)
    }
    const groups = new Map<number, number[]>()
    for (const r of rows) {
      const c = codes[r]
      let g = groups.get(c)
      if (g == null) { g = []; groups.set(c, g) }
      g.push(r)
    }
    // interval keys (bins, quantiles) in interval order; others by name
    const keys = [...groups.keys()].sort(dataset.partitionCuts != null ? (a, b) => a - b : (a, b) => values[a] < values[b] ? -1 : values[a] > values[b] ? 1 : 0)
    const peers = options.peers ?? keys.length
    if (peers < keys.length) fail('peers', `${peers} peers for ${keys.length} key values of '${dataset.partitionColumn ?? ''}': need at least one peer per value`)
    const sizes = keys.map((k) => groups.get(k)!.length)
    // peers per key: proportional to size, at least 1, never more than rows / min
    const per = apportion(peers, sizes, 1)
    const out: Shard[] = []
    keys.forEach((k, i) => {
      const g = groups.get(k)!
      const n = Math.max(1, Math.min(per[i], Math.floor(g.length / Math.max(1, min))))
      const name = values[k]
      if (n === 1) { out.push({ id: name, key: name, indices: Uint32Array.from(g).sort() }); return }
      const parts = iid(g, n, rng.fork(name), Math.min(min, Math.floor(g.length / n)))
      parts.forEach((indices, j) => out.push({ id: `${name}#${j}`, key: name, indices }))
    })
    return out
  }

  const peers = options.peers ?? fail('peers', 'required')
  if (!(Number.isInteger(peers) && peers >= 1)) fail('peers', `must be a positive integer, got ${peers}`)
  if (peers * min > rows.length) fail('peers', `${peers} peers x ${min} rows exceeds the ${rows.length} training rows`)

  if (kind === 'iid') return named(iid(rows, peers, rng, min))

  if (kind === 'size-skew') {
    const exponent = options.exponent ?? 1
    if (!(exponent >= 0)) fail('exponent', 'must be >= 0')
    const weights = Array.from({ length: peers }, (_, i) => Math.pow(i + 1, -exponent))
    rng.fork('order').shuffle(weights)
    rng.shuffle(rows)
    return named(chunk(rows, apportion(rows.length, weights, min)))
  }

  // dirichlet label skew
  const alpha = options.alpha ?? 0.5
  if (!(alpha > 0)) fail('alpha', `must be > 0, got ${alpha}`)
  if (dataset.task !== 'binary' && dataset.task !== 'multiclass') fail('kind', `dirichlet needs class labels; '${dataset.name}' has a ${dataset.task} label`)
  const byClass = new Map<number, number[]>()
  for (const r of rows) {
    const c = dataset.y[r]
    let g = byClass.get(c)
    if (g == null) { g = []; byClass.set(c, g) }
    g.push(r)
  }
  const shards: number[][] = Array.from({ length: peers }, () => [])
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const g = byClass.get(c)!
    rng.shuffle(g)
    const p = Array.from({ length: peers }, () => rng.gamma(alpha))
    const sizes = apportion(g.length, p, 0)
    let o = 0
    sizes.forEach((s, i) => { for (let j = 0; j < s; j++) shards[i].push(g[o + j]); o += s })
  }
  topUp(shards, min, rng)
  return named(shards.map((s) => Uint32Array.from(s).sort()))
}
