// End-to-end: the connection keeper and /health with real daemons on 127.0.0.1. A lone daemon reports 503 with
// NO_CONNECTIONS past its isolation limit; a first peer restarted without --bootstrap (on a new port) rejoins
// from the known peers in its store, and /health is 200 again.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestNetwork } from '../../node/testnet.js'
import { spawnDaemon, waitFor, type DaemonProcess } from '../../node/processes.js'
import { tinyLogisticRows, tinyLogisticSpec } from './tiny-logistic.js'

interface Health { status: number, body: { ok: boolean, reasons?: Array<{ code: string }> } }

async function health (d: DaemonProcess): Promise<Health> {
  const r = await fetch(`${d.apiUrl}/health`)
  const text = await r.text()
  // 200 answers `ok` (text); 503 a JSON list of reasons
  return { status: r.status, body: r.status === 200 ? { ok: text.trim() === 'ok' } : JSON.parse(text) as Health['body'] }
}

describe('connection keeper and /health (2 daemons)', { timeout: 180_000 }, () => {
  let dir: string
  let network: string
  let datadirs: string[]
  const dataFiles: string[] = []
  const daemons: Array<DaemonProcess | null> = [null, null]

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'murmur-keeper-'))
    const rows = tinyLogisticRows(17)
    const spec = tinyLogisticSpec('keeper-tiny')
    const net = await createTestNetwork({ dir, peers: 2, name: 'keeper', model: { type: 'logistic', optimizer: { type: 'adam', learningRate: 0.05 } }, datasetSpec: spec, rule: { rule: 'epidemic', fanout: 1, maxStalenessRounds: 1000 } })
    network = net.network; datadirs = net.datadirs
    for (let i = 0; i < 2; i++) { const p = join(dir, `data-${i}.csv`); writeFileSync(p, rows(200)); dataFiles.push(p) }
  })

  after(async () => {
    for (const d of daemons) await d?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const spawn = async (i: number, bootstrap: string[]): Promise<DaemonProcess> => {
    const d = await spawnDaemon({ network, datadir: datadirs[i], data: dataFiles[i], bootstrap, roundIntervalMs: 100, localSteps: 1, evaluateEvery: 50, extraArgs: ['--isolated-limit-ms', '1000'], env: { MURMUR_LOG_LEVEL: 'warn' } })
    daemons[i] = d
    return d
  }

  it('a lone daemon answers /health 503 with NO_CONNECTIONS; connected, 200', async () => {
    const first = await spawn(0, [])
    const lone = await waitFor('503 from the lone daemon', async () => await health(first), (h) => h.status === 503, { timeoutMs: 20_000 })
    assert.ok(lone.body.reasons?.some((r) => r.code === 'NO_CONNECTIONS'), `reasons ${JSON.stringify(lone.body)}`)
    await spawn(1, [first.addresses[0]])
    await waitFor('200 once connected', async () => await health(first), (h) => h.status === 200 && h.body.ok, { timeoutMs: 30_000 })
  })

  it('the first peer, restarted without --bootstrap on a new port, rejoins from its known peers', async () => {
    const second = daemons[1] as DaemonProcess
    // both have run a while: the keeper has stored the other as a known peer
    await waitFor('a few merged updates at the second peer', async () => await second.get<{ totals: { updatesMerged: number } }>('/status'), (s) => s.totals.updatesMerged > 3, { timeoutMs: 30_000 })
    // the first peer's keeper has written the second into its store (it does so at its next check, not at connect)
    await waitFor('the first peer remembers the second', async () => await (daemons[0] as DaemonProcess).get<{ keeper: { knownPeers: number } }>('/status'), (x) => x.keeper.knownPeers >= 1, { timeoutMs: 30_000 })
    await (daemons[0] as DaemonProcess).stop()
    daemons[0] = null
    const t0 = Date.now()
    const first = await spawn(0, [])
    const s = await waitFor('the restarted first peer connected and merging', async () => await first.get<{ connections: number, totals: { updatesMerged: number } }>('/status'),
      (x) => x.connections > 0 && x.totals.updatesMerged > 0, { timeoutMs: 60_000 })
    assert.ok(s.connections > 0, 'reconnected without --bootstrap')
    await waitFor('/health 200 again', async () => await health(first), (h) => h.status === 200, { timeoutMs: 10_000 })
    process.stdout.write(`# keeper: first peer rejoined without --bootstrap ${((Date.now() - t0) / 1000).toFixed(1)} s after restart\n`)
  })
})
