// End-to-end: a copied identity. Member B's datadir is copied and the copy run as a second daemon beside the
// real one. A member connected to both sees two instances answer for one peer id (the instance check) and
// tells both: each warns and answers /health 503 with IDENTITY_IN_USE. Nothing is silent.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestNetwork } from '../../node/testnet.js'
import { spawnDaemon, waitFor, type DaemonProcess } from '../../node/processes.js'
import { tinyLogisticRows, tinyLogisticSpec } from './tiny-logistic.js'

interface Health { status: number, codes: string[] }

async function health (d: DaemonProcess): Promise<Health> {
  const r = await fetch(`${d.apiUrl}/health`)
  const text = await r.text()
  return { status: r.status, codes: r.status === 200 ? [] : (JSON.parse(text) as { reasons: Array<{ code: string }> }).reasons.map((x) => x.code) }
}

describe('a copied identity run as a second daemon (3 members and the copy)', { timeout: 180_000 }, () => {
  let dir: string
  let network: string
  let datadirs: string[]
  const dataFiles: string[] = []
  const daemons: DaemonProcess[] = []

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'murmur-clash-'))
    const rows = tinyLogisticRows(23)
    const spec = tinyLogisticSpec('clash-tiny')
    const net = await createTestNetwork({ dir, peers: 3, name: 'clash', model: { type: 'logistic', optimizer: { type: 'adam', learningRate: 0.05 } }, datasetSpec: spec, rule: { rule: 'epidemic', fanout: 2, maxStalenessRounds: 1000 } })
    network = net.network; datadirs = net.datadirs
    for (let i = 0; i < 4; i++) { const p = join(dir, `data-${i}.csv`); writeFileSync(p, rows(200)); dataFiles.push(p) }
  })

  after(async () => {
    for (const d of daemons) await d.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const spawn = async (datadir: string, data: string, bootstrap: string[]): Promise<DaemonProcess> => {
    const d = await spawnDaemon({ network, datadir, data, bootstrap, roundIntervalMs: 100, localSteps: 1, evaluateEvery: 50, env: { MURMUR_LOG_LEVEL: 'warn' } })
    daemons.push(d)
    return d
  }

  it('a member sees both processes on its connections, and both say so in their logs and /health', async () => {
    const a = await spawn(datadirs[0], dataFiles[0], [])
    const b = await spawn(datadirs[1], dataFiles[1], [a.addresses[0]])
    const c = await spawn(datadirs[2], dataFiles[2], [a.addresses[0]])
    await waitFor('B merged by the others', async () => await Promise.all([a, c].map(async (d) => await d.get<{ totals: { updatesMerged: number } }>('/status'))), (ss) => ss.every((s) => s.totals.updatesMerged > 3), { timeoutMs: 30_000 })
    assert.equal((await health(b)).status, 200, 'B is healthy before the copy starts')
    // the operator's mistake: B's whole datadir (identity and database) copied to another place and started
    const copyDir = join(dir, 'b-copy')
    cpSync(datadirs[1], copyDir, { recursive: true })
    rmSync(join(copyDir, 'api.json'), { force: true })
    const copy = await spawn(copyDir, dataFiles[3], [a.addresses[0]])
    const t0 = Date.now()
    const told = await waitFor('both B processes told', async () => await Promise.all([b, copy].map(health)), (hs) => hs.every((h) => h.codes.includes('IDENTITY_IN_USE')), { timeoutMs: 60_000 })
    assert.ok(told.every((h) => h.status === 503), 'both answer /health 503')
    // the warning line reaches the pipe on its own schedule: /health can say so first
    const clash = /IDENTITY_IN_USE: another process is using this identity/
    await waitFor('both B processes warned in their logs', async () => [b, copy].map((d) => d.stderrTail()), (tails) => tails.every((t) => clash.test(t)), { timeoutMs: 15_000 }).catch(() => null)
    for (const [name, d] of [['B', b], ['the copy', copy]] as const) {
      assert.match(d.stderrTail(), clash, `${name} warned its operator`)
    }
    await waitFor('a receiver warned', async () => a.stderrTail() + c.stderrTail(), (t) => /from two processes/.test(t), { timeoutMs: 15_000 }).catch(() => null)
    assert.match(a.stderrTail() + c.stderrTail(), /from two processes/, 'a receiver warned too')
    process.stdout.write(`# identity clash: both processes told ${((Date.now() - t0) / 1000).toFixed(1)} s after the copy started\n`)
  })
})
