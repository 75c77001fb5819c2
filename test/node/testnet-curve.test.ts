// The testnet's summary pieces that need no daemon: the per-round curve from metrics histories, and the data
// split (the simulator's partition of the shared digits file).
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { curveFromHistories, partitionDataset } from '../../node/testnet.js'
import { partitionOptionsFor } from '../../simulations/scenario.js'
import { peerSummary } from '../../simulations/stats.js'
import { defaultDataDir, loadDataset, partition } from '../../learning/index.js'

const acc = { name: 'accuracy', higherIsBetter: true }
const snap = (round: number, v?: number): { round: number, values: Record<string, number> } => ({ round, values: v == null ? { loss: 1 } : { loss: 1, 'eval.accuracy': v } })

describe('testnet curve from the daemons\' metrics histories', () => {
  it('gives mean, worst and p10 per round over the peers, carrying a peer\'s last evaluation over skipped rounds', () => {
    const histories = [
      [snap(0, 0.5), snap(1, 0.6), snap(2, 0.7)],
      // this peer jumped from round 0 to round 2 (Lamport clock): its round-0 value stands for round 1
      [snap(0, 0.3), snap(2, 0.9)],
      // evaluated only from round 1 on; a round without evaluation is ignored
      [snap(0), snap(1, 0.4), snap(2, 0.8)]
    ]
    const curve = curveFromHistories(histories, acc, 3, peerSummary)
    assert.deepEqual(curve.map((p) => p.round), [0, 1, 2])
    assert.deepEqual(curve.map((p) => p.peers), [2, 3, 3])
    assert.ok(Math.abs((curve[0].mean as number) - 0.4) < 1e-12, 'expected Math.abs((curve[0].mean as number) - 0.4) < 1e-12')
    assert.equal(curve[0].min, 0.3)
    assert.ok(Math.abs((curve[1].mean as number) - (0.6 + 0.3 + 0.4) / 3) < 1e-12, 'expected Math.abs((curve[1].mean as number) - (0.6 + 0.3 + 0.4) / 3) < 1e-12')
    assert.equal(curve[1].min, 0.3)
    assert.ok(Math.abs((curve[2].mean as number) - 0.8) < 1e-12, 'expected Math.abs((curve[2].mean as number) - 0.8) < 1e-12')
    assert.equal(curve[2].min, 0.7)
  })

  it('uses the worst value of a lower-is-better metric, ignores non-finite values and rounds past the end', () => {
    const dev = { name: 'deviance', higherIsBetter: false }
    const h = [[{ round: 0, values: { 'eval.deviance': 0.3 } }, { round: 1, values: { 'eval.deviance': Number.NaN } }, { round: 5, values: { 'eval.deviance': 0.1 } }],
      [{ round: 1, values: { 'eval.deviance': 0.2 } }]]
    const curve = curveFromHistories(h, dev, 3, peerSummary)
    assert.deepEqual(curve.map((p) => [p.round, p.min, p.peers]), [[0, 0.3, 1], [1, 0.3, 2]])
  })

  it('is empty when no peer evaluated', () => {
    assert.deepEqual(curveFromHistories([[snap(0), snap(1)]], acc, 2, peerSummary), [])
  })
})

const digitsFile = join(defaultDataDir(), 'sklearn-digits.csv.gz')
const skip = existsSync(digitsFile) ? false : `shared dataset missing: ${digitsFile}`

describe('testnet data split', { skip }, () => {
  it('writes the simulator\'s shards: peer i holds exactly the rows of the simulator\'s peer i, and the held-out rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'murmur-testnet-split-'))
    try {
      const part = { kind: 'dirichlet', alpha: 0.5 }
      const out = await partitionDataset('digits', 4, dir, 7, part)
      const ds = await loadDataset('digits')
      const shards = partition(ds, partitionOptionsFor(part, 4, 7))
      const rows = (path: string): string[] => readFileSync(path, 'utf8').trimEnd().split('\n')
      const lines = gunzipSync(readFileSync(digitsFile)).toString('utf8').split(/\r?\n/).filter((l) => l.trim() !== '')
      out.partitions.forEach((p, i) => { assert.deepEqual(rows(p), Array.from(shards[i].indices, (j) => lines[j]), `peer ${i}`) })
      assert.deepEqual(rows(out.test), Array.from(ds.test, (j) => lines[j]))
      const sizes = out.partitions.map((p) => rows(p).length)
      assert.deepEqual(sizes, shards.map((s) => s.indices.length))
      // a non-iid split: shard sizes differ, and the label mix differs between peers
      assert.notEqual(Math.min(...sizes), Math.max(...sizes))
      const labelsOf = (path: string): Set<string> => new Set(rows(path).map((l) => l.split(',').at(-1) as string))
      const mixes = out.partitions.map(labelsOf)
      assert.ok(mixes.some((m) => m.size < 10), 'dirichlet(0.5) leaves some peer without some digit')
      // every training row once, the test rows apart
      const total = sizes.reduce((a, b) => a + b, 0)
      assert.equal(total, ds.train.length)
      assert.equal(rows(out.test).length, ds.test.length)
    } finally { rmSync(dir, { recursive: true, force: true }) }
  })

  it('names the partition when it cannot make one shard per peer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'murmur-testnet-split-'))
    try {
      await assert.rejects(partitionDataset('digits', 3, dir, 7, { kind: 'no-such-kind' }), (err: Error) => /partition/.test(err.message))
    } finally { rmSync(dir, { recursive: true, force: true }) }
  })
})
