// `murmur testnet`: real daemon processes on 127.0.0.1, a summary with the simulator's keys, every one filled.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { MURMUR_BIN, REPO_ROOT } from '../../node/processes.js'
import { defaultDataDir } from '../../learning/index.js'

const digitsFile = join(defaultDataDir(), 'sklearn-digits.csv.gz')
const skip = existsSync(digitsFile) ? false : `shared dataset missing: ${digitsFile}`

describe('murmur testnet --json (3 daemons)', { timeout: 240_000, skip }, () => {
  it('prints the simulator\'s keys with the baselines, the per-round curve, and clean exits', () => {
    const r = spawnSync(process.execPath, [MURMUR_BIN, 'testnet', '--peers', '3', '--rounds', '4', '--workers', '0', '--json'],
      { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 16 << 20, timeout: 230_000 })
    assert.equal(r.status, 0, r.stderr.slice(-2000))
    const s = JSON.parse(r.stdout) as Record<string, any>
    // the simulator's summary keys are all there
    for (const k of ['scenario', 'peers', 'rounds', 'seed', 'rule', 'metric', 'decentralized', 'centralized', 'localOnly', 'fedavg', 'curve', 'bytesPerPeerPerRound', 'refused', 'wallSeconds', 'peerStepsPerSecond']) {
      assert.ok(k in s, `missing key ${k}`)
    }
    assert.equal(s.peers, 3)
    assert.deepEqual(s.metric, { name: 'accuracy', higherIsBetter: true })
    assert.deepEqual(s.exitCodes, [0, 0, 0])
    for (const v of [s.decentralized.mean, s.decentralized.min, s.decentralized.p10, s.centralized.value, s.localOnly.mean, s.fedavg.value, s.simulator.decentralized.mean]) {
      assert.equal(typeof v, 'number')
      assert.ok(v > 0.1 && v <= 1, `accuracy ${String(v)} out of range`)
    }
    assert.ok(s.decentralized.min <= s.decentralized.mean, 'expected s.decentralized.min <= s.decentralized.mean')
    // digits on pooled data: the centralized model beats a random guess by far
    assert.ok(s.centralized.value > 0.8, `centralized ${String(s.centralized.value)}`)
    // the curve: rounds 0..3 from the daemons' local evaluations, worst <= mean, at most 3 peers each
    assert.ok(s.curve.length >= 2, JSON.stringify(s.curve))
    for (const p of s.curve) {
      assert.ok(Number.isInteger(p.round) && p.round >= 0 && p.round < 4, 'expected Number.isInteger(p.round) && p.round >= 0 && p.round < 4')
      assert.ok(p.peers >= 1 && p.peers <= 3, 'expected p.peers >= 1 && p.peers <= 3')
      assert.ok(p.min <= p.mean && p.p10 <= p.mean + 1e-9, 'expected p.min <= p.mean && p.p10 <= p.mean + 1e-9')
    }
    assert.ok(s.bytesPerPeerPerRound > 0, 'expected s.bytesPerPeerPerRound > 0')
  })
})
