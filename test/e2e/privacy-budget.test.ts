// End-to-end: a daemon's differential-privacy budget (issue 17) with real daemons on 127.0.0.1. The network's
// manifest carries a privacy block (epsilon 5, noise multiplier 1); peer A has 200 rows (sampling rate ~0.18,
// its budget lasts a few rounds), peer B 4,000 (rate ~0.009, it lasts the whole test). A spends its budget,
// says so (/status, a warning), and sends nothing more while it still merges B's updates; killed with SIGKILL
// and restarted, it remembers what it spent (the accountant is committed before each send) and sends nothing.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createTestNetwork } from '../../node/testnet.js'
import { spawnDaemon, waitFor, MURMUR_BIN, type DaemonProcess } from '../../node/processes.js'
import { tinyLogisticRows, tinyLogisticSpec } from './tiny-logistic.js'

interface Status {
  round: number
  totals: { updatesSent: number, updatesMerged: number }
  privacy: { epsilon: number, budgetEpsilon: number, remainingEpsilon: number, steps: number, exhausted: boolean, sending: boolean } | null
}

describe('privacy budget of a daemon (2 daemons)', { timeout: 240_000 }, () => {
  let dir: string
  let network: string
  let datadirs: string[]
  const dataFiles: string[] = []
  const daemons: Array<DaemonProcess | null> = [null, null]
  const logs: string[] = []

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'murmur-privacy-'))
    const rows = tinyLogisticRows(23)
    const net = await createTestNetwork({
      dir, peers: 2, name: 'privacy', model: { type: 'logistic', optimizer: { type: 'sgd', learningRate: 0.1 } }, datasetSpec: tinyLogisticSpec('privacy-tiny'),
      rule: { rule: 'epidemic', fanout: 1, maxStalenessRounds: 1000 }, privacy: { epsilon: 5, delta: 1e-5, clip: 1, noiseMultiplier: 1 }
    })
    network = net.network; datadirs = net.datadirs
    for (const [i, n] of [[0, 200], [1, 4000]]) { const p = join(dir, `data-${i}.csv`); writeFileSync(p, rows(n)); dataFiles.push(p) }
  })

  after(async () => {
    for (const d of daemons) await d?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const spawn = async (i: number, bootstrap: string[]): Promise<DaemonProcess> => {
    const d = await spawnDaemon({ network, datadir: datadirs[i], data: dataFiles[i], bootstrap, roundIntervalMs: 100, localSteps: 2, evaluateEvery: 50, env: { MURMUR_LOG_LEVEL: 'warn' }, onLog: (line) => { if (i === 0) logs.push(line) } })
    daemons[i] = d
    return d
  }

  it('spends its budget, then sends nothing and still merges; a restart after SIGKILL remembers what was spent', async () => {
    const b = await spawn(1, [])
    const a = await spawn(0, [b.addresses[0]])
    const spent = await waitFor('A out of budget', async () => await a.get<Status>('/status'), (s) => s.privacy?.exhausted === true, { timeoutMs: 60_000 })
    const p = spent.privacy!
    assert.ok(p.epsilon <= 5 && p.epsilon > 4, `A spent ${p.epsilon}, just within its budget 5`)
    assert.equal(p.sending, false, '/status says it is not sending')
    assert.ok(spent.totals.updatesSent > 0, 'A sent while within budget')
    assert.ok(logs.some((l) => /privacy budget spent/.test(l)), `A warned: ${logs.slice(-3).join(' | ')}`)
    // five more rounds: nothing sent, B's updates still merged
    const later = await waitFor('five more rounds of A', async () => await a.get<Status>('/status'), (s) => s.round >= spent.round + 5 && s.totals.updatesMerged > spent.totals.updatesMerged, { timeoutMs: 30_000 })
    assert.equal(later.totals.updatesSent, spent.totals.updatesSent, 'no update sent once the budget is spent')
    const bStatus = await b.get<Status>('/status')
    assert.equal(bStatus.privacy?.exhausted, false, `B (20x the rows) is still within its budget: ${JSON.stringify(bStatus.privacy)}`)

    await a.kill()
    const again = await spawn(0, [b.addresses[0]])
    const restarted = await waitFor('A running again', async () => await again.get<Status>('/status'), (s) => s.round >= 3, { timeoutMs: 60_000 })
    assert.ok(restarted.privacy != null, 'privacy in /status after the restart')
    assert.equal(restarted.privacy.epsilon, p.epsilon, 'the restarted daemon has spent what it had spent before the kill')
    assert.equal(restarted.privacy.steps, p.steps, 'the same steps')
    assert.equal(restarted.privacy.exhausted, true, 'and is out of budget at once')
    assert.equal(restarted.totals.updatesSent, 0, 'the restarted daemon sends nothing')
    const { stdout } = await promisify(execFile)(process.execPath, [MURMUR_BIN, 'status', '--datadir', datadirs[0]], { env: { ...process.env, MURMUR_LOG_LEVEL: 'silent' } })
    assert.match(stdout, /privacy +epsilon spent 4\.\d+ of 5 .*remaining 0\.\d+.*BUDGET SPENT, not sending/, `murmur status shows the budget: ${stdout}`)
  })
})
