import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRng } from '../../protocol/rng.js'
import { buildTopology, isConnected, clusteringCoefficient, TopologyError } from '../../simulations/topology.js'

function edgeSet (g: ReturnType<typeof buildTopology>, round = 0): Set<string> {
  const s = new Set<string>()
  for (let i = 0; i < g.n; i++) for (const j of g.neighbours(i, round)) s.add(`${i}-${j}`)
  return s
}

test('complete graph: everyone is everyone else\'s neighbour', () => {
  const g = buildTopology({ kind: 'complete' }, 7)
  for (let i = 0; i < 7; i++) {
    assert.equal(g.neighbours(i, 0).length, 6)
    assert.ok(!g.neighbours(i, 0).includes(i), 'expected !g.neighbours(i, 0).includes(i)')
  }
})

test('ring: degree 2, connected, symmetric', () => {
  const g = buildTopology({ kind: 'ring' }, 10)
  for (let i = 0; i < 10; i++) assert.deepEqual(g.neighbours(i, 0), [(i + 9) % 10, (i + 1) % 10].sort((a, b) => a - b))
  assert.ok(isConnected(g), 'expected isConnected(g)')
})

test('k-regular: every degree is k, no self loops, symmetric, connected, deterministic', () => {
  for (const [n, k] of [[50, 4], [51, 4], [40, 3], [200, 6]]) {
    const g = buildTopology({ kind: 'k-regular', k }, n, createRng(3))
    const edges = edgeSet(g)
    for (let i = 0; i < n; i++) {
      const nb = g.neighbours(i, 0)
      assert.equal(nb.length, k, `peer ${i} of ${n} has degree ${nb.length}`)
      assert.ok(!nb.includes(i), 'expected !nb.includes(i)')
      for (const j of nb) assert.ok(edges.has(`${j}-${i}`), 'expected edges.has(`${j}-${i}`)')
    }
    assert.ok(isConnected(g), 'expected isConnected(g)')
    assert.deepEqual(edgeSet(buildTopology({ kind: 'k-regular', k }, n, createRng(3))), edges)
  }
  assert.notDeepEqual(edgeSet(buildTopology({ kind: 'k-regular', k: 4 }, 50, createRng(4))), edgeSet(buildTopology({ kind: 'k-regular', k: 4 }, 50, createRng(3))))
  assert.throws(() => buildTopology({ kind: 'k-regular', k: 3 }, 11), (e: Error) => e.name === 'TopologyError')
  assert.throws(() => buildTopology({ kind: 'k-regular', k: 12 }, 11), TopologyError)
})

test('small-world keeps the mean degree and far more clustering than a random graph of the same density', () => {
  const n = 300; const k = 8
  const sw = buildTopology({ kind: 'small-world', k, beta: 0.05 }, n, createRng(1))
  let total = 0
  for (let i = 0; i < n; i++) total += sw.degree(i, 0)
  assert.equal(total / n, k)
  const er = buildTopology({ kind: 'erdos-renyi', p: k / (n - 1) }, n, createRng(1))
  assert.ok(clusteringCoefficient(sw) > 3 * clusteringCoefficient(er), `${clusteringCoefficient(sw)} vs ${clusteringCoefficient(er)}`)
  // beta = 1 rewires most lattice edges: clustering drops.
  const rewired = buildTopology({ kind: 'small-world', k, beta: 1 }, n, createRng(1))
  assert.ok(clusteringCoefficient(rewired) < clusteringCoefficient(sw) / 3, 'expected clusteringCoefficient(rewired) < clusteringCoefficient(sw) / 3')
})

test('erdos-renyi: edge count near p n (n - 1) / 2', () => {
  const n = 400; const p = 0.05
  const g = buildTopology({ kind: 'erdos-renyi', p }, n, createRng(9))
  const m = edgeSet(g).size / 2
  const expected = p * n * (n - 1) / 2
  const sd = Math.sqrt(expected * (1 - p))
  assert.ok(Math.abs(m - expected) < 5 * sd, `${m} edges, expected ${expected}`)
  assert.ok(isConnected(g), 'expected isConnected(g)')
})

test('s-random: s distinct out-neighbours, fresh each round, the same for the same round', () => {
  const g = buildTopology({ kind: 's-random', s: 3 }, 100, createRng(5))
  assert.equal(g.dynamic, true)
  let changed = 0
  for (let i = 0; i < 100; i++) {
    const a = g.neighbours(i, 0)
    assert.equal(new Set(a).size, 3)
    assert.ok(!a.includes(i), 'expected !a.includes(i)')
    assert.deepEqual(g.neighbours(i, 0), a)
    if (a.join() !== g.neighbours(i, 1).join()) changed++
  }
  assert.ok(changed > 90, 'expected changed > 90')
  const small = buildTopology({ kind: 's-random', s: 5 }, 4, createRng(5))
  assert.deepEqual(small.neighbours(2, 7), [0, 1, 3])
})
