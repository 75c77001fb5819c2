// End-to-end: real daemons on 127.0.0.1 with a small round window (20 rounds). A member that joins a network already
// past 10x that window, and a member back after a long downtime with its database lost (identity kept), each
// catch up: the round clock adopts the network's round, state sync fetches the members' models (signed envelopes,
// robust median), and they are merged again within 30 s, never refused as EQUIVOCATION or REPLAYED.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestNetwork } from '../../node/testnet.js'
import { spawnDaemon, waitFor, type DaemonProcess } from '../../node/processes.js'
import { createRng } from '../../protocol/rng.js'

const WINDOW = 20
const SEED = 13

interface Status {
  round: number
  connections: number
  refusedByReason: Record<string, number>
  totals: { updatesMerged: number }
  stateSync: { wanted: boolean, adoptions: number, last: { adopted: boolean, from?: string[] } | null } | null
}

describe('catching up: a late joiner and a member with a lost database (4 daemons, round window 20)', { timeout: 240_000 }, () => {
  let dir: string
  let network: string
  let datadirs: string[]
  const dataFiles: string[] = []
  const daemons: Array<DaemonProcess | null> = [null, null, null, null]
  const common = { roundIntervalMs: 20, localSteps: 1, evaluateEvery: 50 }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'murmur-catch-up-'))
    const rng = createRng(SEED).fork('data')
    const rows = (n: number): string => {
      const out = ['x1,x2,x3,y']
      for (let i = 0; i < n; i++) {
        const x = [rng.normal(), rng.normal(), rng.normal()]
        out.push([...x.map((v) => v.toFixed(4)), x[0] - x[1] + 0.5 * x[2] + 0.3 * rng.normal() > 0 ? 1 : 0].join(','))
      }
      return out.join('\n') + '\n'
    }
    const spec = {
      name: 'catch-up-tiny', file: 'peer.csv', format: { header: true }, testFraction: 0.2, splitSeed: 1,
      columns: [...['x1', 'x2', 'x3'].map((name) => ({ name, role: 'numeric', mean: 0, std: 1 })), { name: 'y', role: 'label', kind: 'binary', classes: ['0', '1'] }]
    }
    const net = await createTestNetwork({ dir, peers: 4, name: 'catch-up', model: { type: 'logistic', optimizer: { type: 'adam', learningRate: 0.05 } }, datasetSpec: spec, rule: { rule: 'epidemic', fanout: 2, maxStalenessRounds: WINDOW } })
    network = net.network; datadirs = net.datadirs
    for (let i = 0; i < 4; i++) { const p = join(dir, `data-${i}.csv`); writeFileSync(p, rows(200)); dataFiles.push(p) }
  })

  after(async () => {
    for (const d of daemons) await d?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const spawn = async (i: number, bootstrap: string[]): Promise<DaemonProcess> =>
    await spawnDaemon({ ...common, network, datadir: datadirs[i], data: dataFiles[i], bootstrap, env: { MURMUR_LOG_LEVEL: 'warn' } })
  const status = async (i: number): Promise<Status> => await (daemons[i] as DaemonProcess).get<Status>('/status')
  const refusedOf = (s: Status, reasons: string[]): number => reasons.reduce((n, r) => n + (s.refusedByReason[r] ?? 0), 0)

  it(`a member that joins after round ${10 * WINDOW} adopts the network's state and is merged within 30 s`, async () => {
    const first = await spawn(0, [])
    daemons[0] = first
    daemons[1] = await spawn(1, [first.addresses[0]])
    daemons[2] = await spawn(2, [first.addresses[0]])
    await waitFor(`the network past round ${10 * WINDOW}`, async () => await status(0), (s) => s.round > 10 * WINDOW, { timeoutMs: 120_000, intervalMs: 500 })
    const t0 = Date.now()
    daemons[3] = await spawn(3, [first.addresses[0]])
    const joined = await waitFor('the late joiner adopted the state and merged', async () => await status(3),
      (s) => (s.stateSync?.adoptions ?? 0) >= 1 && s.totals.updatesMerged > 0, { timeoutMs: 30_000, intervalMs: 250 })
    const seconds = (Date.now() - t0) / 1000
    const net = await status(0)
    assert.ok(Math.abs(net.round - joined.round) <= WINDOW, `the joiner's round ${joined.round} is within the window of the network's ${net.round}`)
    // and the others merge it: its updates are not refused for their round
    const merged0 = (await status(0)).totals.updatesMerged
    await waitFor('a member still merging with the joiner in the network', async () => await status(0), (s) => s.totals.updatesMerged > merged0 + 3, { timeoutMs: 20_000 })
    for (const i of [0, 1, 2]) {
      const s = await status(i)
      assert.equal(refusedOf(s, ['EQUIVOCATION', 'REPLAYED']), 0, `member ${i} refused something as EQUIVOCATION or REPLAYED: ${JSON.stringify(s.refusedByReason)}`)
    }
    process.stdout.write(`# late join: adopted state from ${String(joined.stateSync?.last?.from?.length)} members and merged ${seconds.toFixed(1)} s after spawn, round ${joined.round} (network ${net.round})\n`)
  })

  it('a member back after a downtime longer than the window, its database lost, is never EQUIVOCATION or REPLAYED', async () => {
    const victim = 1
    const before = await status(victim)
    await (daemons[victim] as DaemonProcess).kill()
    daemons[victim] = null
    rmSync(join(datadirs[victim], 'db'), { recursive: true, force: true })
    await waitFor('the network past the window without the victim', async () => await status(0), (s) => s.round > before.round + 3 * WINDOW, { timeoutMs: 60_000, intervalMs: 250 })
    const t0 = Date.now()
    daemons[victim] = await spawn(victim, [(daemons[0] as DaemonProcess).addresses[0]])
    const back = await waitFor('the returning member adopted the state and merged', async () => await status(victim),
      (s) => (s.stateSync?.adoptions ?? 0) >= 1 && s.totals.updatesMerged > 0, { timeoutMs: 30_000, intervalMs: 250 })
    const seconds = (Date.now() - t0) / 1000
    // the others accept its new updates: their EQUIVOCATION / REPLAYED counts stay at 0 while it sends
    const merged = await Promise.all([0, 2, 3].map(async (i) => (await status(i)).totals.updatesMerged))
    await waitFor('the others merging again', async () => await Promise.all([0, 2, 3].map(async (i) => await status(i))),
      (all) => all.every((s, k) => s.totals.updatesMerged > merged[k] + 3), { timeoutMs: 20_000 })
    for (const i of [0, 2, 3]) {
      const s = await status(i)
      assert.equal(refusedOf(s, ['EQUIVOCATION', 'REPLAYED']), 0, `member ${i} refused the returning member: ${JSON.stringify(s.refusedByReason)}`)
    }
    process.stdout.write(`# lost database: back at round ${back.round}, adopted state and merged ${seconds.toFixed(1)} s after spawn\n`)
  })
})
