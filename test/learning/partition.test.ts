import { test } from 'node:test'
import assert from 'node:assert/strict'
import { partition, apportion, datasetFromArrays, loadDataset, defaultDataDir } from '../../learning/index.js'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

function labelled (n: number, classes: number, keys?: string[]): ReturnType<typeof datasetFromArrays> {
  const y = Float32Array.from({ length: n }, (_, i) => i % classes)
  return datasetFromArrays({
    name: 't', x: new Float32Array(n), y, numFeatures: 1, task: classes === 2 ? 'binary' : 'multiclass',
    partition: keys != null ? Array.from({ length: n }, (_, i) => keys[(i * 7) % keys.length]) : null,
    testFraction: 0.1, splitSeed: 1
  })
}

const disjointCover = (shards: Array<{ indices: Uint32Array }>, rows: Uint32Array): void => {
  const seen = new Set<number>()
  for (const s of shards) for (const r of s.indices) { assert.ok(!seen.has(r), `row ${r} twice`); seen.add(r) }
  assert.equal(seen.size, rows.length)
  for (const r of rows) assert.ok(seen.has(r), 'expected seen.has(r)')
}

test('apportion: exact totals, proportional, minimum respected', () => {
  assert.deepEqual(apportion(10, [1, 1, 1]), [4, 3, 3])
  assert.deepEqual(apportion(100, [3, 1]), [75, 25])
  const a = apportion(20, [100, 1, 1], 2)
  assert.equal(a.reduce((x, y) => x + y), 20)
  assert.ok(a.every((v) => v >= 2), 'expected a.every((v) => v >= 2)')
})

test('iid: equal sizes, disjoint, covers the training rows, never the test rows, deterministic', () => {
  const d = labelled(1000, 10)
  const a = partition(d, { kind: 'iid', peers: 7, seed: 3 })
  const b = partition(d, { kind: 'iid', peers: 7, seed: 3 })
  const c = partition(d, { kind: 'iid', peers: 7, seed: 4 })
  assert.equal(a.length, 7)
  disjointCover(a, d.train)
  const test = new Set(d.test)
  for (const s of a) for (const r of s.indices) assert.ok(!test.has(r), 'expected !test.has(r)')
  assert.ok(Math.max(...a.map((s) => s.indices.length)) - Math.min(...a.map((s) => s.indices.length)) <= 1, 'expected Math.max(...a.map((s) => s.indices.length)) - Math.min(...a.map((s) => s.indices.length...')
  assert.deepEqual(a, b)
  assert.notDeepEqual(a, c)
})

test('rowsPerPeer: small shards of exactly that size from a seeded sample of the training rows', () => {
  const d = labelled(1000, 10)
  const a = partition(d, { kind: 'iid', peers: 5, seed: 3, rowsPerPeer: 20 })
  assert.deepEqual(a.map((s) => s.indices.length), [20, 20, 20, 20, 20], 'every shard has 20 rows')
  const train = new Set(d.train)
  const seen = new Set<number>()
  for (const s of a) for (const r of s.indices) { assert.ok(train.has(r) && !seen.has(r), `row ${r}: a training row, in one shard`); seen.add(r) }
  assert.deepEqual(partition(d, { kind: 'iid', peers: 5, seed: 3, rowsPerPeer: 20 }), a, 'deterministic')
  assert.equal(partition(d, { kind: 'iid', peers: 5, seed: 3, rowsPerPeer: 10_000 }).reduce((n, s) => n + s.indices.length, 0), d.train.length, 'more than there are: all rows')
  assert.throws(() => partition(d, { kind: 'iid', peers: 5, rowsPerPeer: 0 }), (e: Error) => e.name === 'InvalidSpecError' && /partition\.rowsPerPeer/.test(e.message), 'a bad value names the field')
})

test('dirichlet: small alpha skews labels, large alpha does not; every peer has rows', () => {
  const d = labelled(5000, 10)
  const skew = (alpha: number): number => {
    const shards = partition(d, { kind: 'dirichlet', peers: 20, alpha, seed: 1 })
    disjointCover(shards, d.train)
    assert.ok(shards.every((s) => s.indices.length >= 1), 'expected shards.every((s) => s.indices.length >= 1)')
    // mean share of a peer's most common label
    return shards.reduce((acc, s) => {
      const counts = new Array(10).fill(0)
      for (const r of s.indices) counts[d.y[r]]++
      return acc + Math.max(...counts) / s.indices.length
    }, 0) / shards.length
  }
  const low = skew(0.1)
  const high = skew(100)
  assert.ok(low > 0.5, `alpha 0.1: dominant label share ${low}`)
  assert.ok(high < 0.2, `alpha 100: dominant label share ${high}`)
  assert.deepEqual(partition(d, { kind: 'dirichlet', peers: 20, alpha: 0.1, seed: 1 }), partition(d, { kind: 'dirichlet', peers: 20, alpha: 0.1, seed: 1 }))
})

test('size-skew: power-law sizes, disjoint cover', () => {
  const d = labelled(10000, 2)
  const shards = partition(d, { kind: 'size-skew', peers: 10, exponent: 1.5, seed: 2 })
  disjointCover(shards, d.train)
  const sizes = shards.map((s) => s.indices.length).sort((a, b) => b - a)
  assert.ok(sizes[0] > 10 * sizes[9], `sizes ${sizes.join(',')}`)
})

test('key: one shard per key value; subdivision keeps keys apart and sizes proportional', () => {
  const keys = ['a', 'b', 'c']
  const d = labelled(3000, 2, keys)
  const natural = partition(d, { kind: 'key', seed: 1 })
  assert.deepEqual(natural.map((s) => s.id), ['a', 'b', 'c'])
  disjointCover(natural, d.train)
  for (const s of natural) for (const r of s.indices) assert.equal(d.partitionValues![d.partitionCodes![r]], s.key)
  const sub = partition(d, { kind: 'key', peers: 30, seed: 1 })
  assert.equal(sub.length, 30)
  disjointCover(sub, d.train)
  for (const s of sub) for (const r of s.indices) assert.equal(d.partitionValues![d.partitionCodes![r]], s.key)
  assert.throws(() => partition(d, { kind: 'key', peers: 2 }), (e: Error & { field: string }) => e.name === 'InvalidSpecError' && e.field === 'partition.peers')
  assert.throws(() => partition(labelled(10, 2), { kind: 'key' }), (e: Error) => e.name === 'InvalidSpecError' && /no column with role 'partition'/.test(e.message))
  assert.throws(() => partition(d, { kind: 'iid', peers: 0 }), (e: Error & { field: string }) => e.field === 'partition.peers')
})

const fre = join(defaultDataDir(), 'freMTPL2freq.csv.gz')
test('freMTPL2freq: 22 regions subdivide into 220 peers', { skip: existsSync(fre) ? false : `shared dataset missing: ${fre}` }, async () => {
  const d = await loadDataset('fremtpl2freq', { maxRows: 60000 })
  const shards = partition(d, { kind: 'key', peers: 220, seed: 1 })
  assert.equal(shards.length, 220)
  assert.equal(new Set(shards.map((s) => s.key)).size, d.partitionValues!.length)
  disjointCover(shards, d.train)
})
