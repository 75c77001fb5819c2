// A rogue member PROCESS (`murmur daemon --attack`) against one honest daemon, for the per-peer limits:
// - flood:perSecond=50,junk=0.5: valid signed copies of its update and junk, 50 a second. The honest daemon
//   refuses past its rates (RATE_LIMITED: the transport's messages per second, the engine's updates per round)
//   and the junk (MALFORMED), and its update log grows by the accepted envelopes (at most the per-round rate)
//   plus verdict records, never by the refused envelopes. Checked to fail with refused envelopes stored whole
//   (node/store/update-log.ts) and with the engine's rate off (senderUpdatesPerRound 1e9).
// - half-streams:count=64: 64 update streams opened and left half-sent. The honest daemon's RSS grows by less
//   than 64 MiB, the stalled streams are aborted at the read timeout (counted), and the rogue's own updates are
//   accepted again afterwards. Checked to fail with the read timeout raised to 10 minutes (the streams are then
//   held until the 60 s message deadline).
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveTestnetScenario, partitionDataset, createTestNetwork } from '../../node/testnet.js'
import { spawnDaemon, waitFor, type DaemonProcess } from '../../node/processes.js'
import { defaultDataDir } from '../../learning/index.js'
import { DEFAULT_READ_TIMEOUT_MS } from '../../node/transport/constants.js'

const digits = join(defaultDataDir(), 'sklearn-digits.csv.gz')
const skip = existsSync(digits) ? false : `shared dataset missing: ${digits}`
const MiB = 1024 * 1024
/** Stored bytes of one verdict record at most (key, JSON fields and hashes), plus 70 per parent id. */
const RECORD_BYTES = 640
const PARENT_BYTES = 70

type Status = Record<string, any>
interface LogLine { sender: string, verdict: string, reason: string | null, bytes: number, parents: string[] }

/** An honest daemon and a rogue one (`--attack spec`) on a 2-member testnet; `body` runs while both run. */
async function withRogue (name: string, spec: string, body: (honest: DaemonProcess, rogue: DaemonProcess, rogueLog: string[]) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `murmur-${name}-`))
  const daemons: DaemonProcess[] = []
  try {
    const scenario = await resolveTestnetScenario('testnet', 2)
    const data = await partitionDataset(scenario.dataset, 2, join(dir, 'data'), scenario.seed, scenario.partition)
    const net = await createTestNetwork({ dir, peers: 2, name, model: scenario.model, datasetSpec: data.spec, rule: scenario.rule })
    const common = { network: net.network, roundIntervalMs: 500, evaluateEvery: 0 }
    const honest = await spawnDaemon({ ...common, datadir: net.datadirs[0], data: data.partitions[0] })
    daemons.push(honest)
    const rogueLog: string[] = []
    const rogue = await spawnDaemon({ ...common, datadir: net.datadirs[1], data: data.partitions[1], bootstrap: [honest.addresses[0]], extraArgs: ['--attack', spec], onLog: (l) => { rogueLog.push(l) } })
    daemons.push(rogue)
    await body(honest, rogue, rogueLog)
    for (const d of daemons.splice(0)) assert.equal(await d.stop(), 0, 'each daemon stops cleanly on SIGTERM')
  } finally {
    for (const d of daemons) await d.kill()
    rmSync(dir, { recursive: true, force: true })
  }
}

function rssBytes (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  assert.ok(m != null, `VmRSS of ${pid}`)
  return Number(m[1]) * 1024
}

describe('a rogue daemon against the per-peer limits', { timeout: 180_000, skip }, () => {
  it('flood:perSecond=50,junk=0.5: refused RATE_LIMITED and MALFORMED; the log grows by verdict records and the per-round rate only', async () => {
    await withRogue('flood', 'flood:perSecond=50,junk=0.5', async (honest, rogue) => {
      const rogueKey = (await rogue.get<Status>('/status')).peerKey as string
      const refused = (s: Status, r: string): number => Number(s.refusedByReason?.[r] ?? 0)
      const s0 = await waitFor('the flood to reach the honest daemon', async () => await honest.get<Status>('/status'), (s) => refused(s, 'RATE_LIMITED') > 0 && refused(s, 'MALFORMED') > 0, { timeoutMs: 60_000, intervalMs: 200 })
      const s1 = await waitFor('100 more refusals of each kind', async () => await honest.get<Status>('/status'),
        (s) => refused(s, 'RATE_LIMITED') >= refused(s0, 'RATE_LIMITED') + 100 && refused(s, 'MALFORMED') >= refused(s0, 'MALFORMED') + 100, { timeoutMs: 60_000, intervalMs: 200 })
      const from = Number(s0.updateLog.count)
      const lines = (await honest.get<LogLine[]>(`/log?from=${from}&limit=100000`)).slice(0, Number(s1.updateLog.count) - from)
      const fromRogue = lines.filter((l) => l.sender === rogueKey)
      const accepted = fromRogue.filter((l) => l.verdict === 'accepted')
      const rounds = Number(s1.round) - Number(s0.round) + 1
      // the engine's bucket: 2 a round, 4 at once (protocol/engine/constants.ts)
      assert.ok(accepted.length <= 4 + 2 * rounds, `${accepted.length} of the rogue's updates accepted over ${rounds} rounds: at most the per-round rate`)
      assert.ok(fromRogue.some((l) => l.reason === 'RATE_LIMITED'), 'valid copies past the per-round rate are verdict records in the log')
      const growth = Number(s1.database.log.bytes) - Number(s0.database.log.bytes)
      const bound = lines.reduce((sum, l) => sum + RECORD_BYTES + PARENT_BYTES * l.parents.length + (l.verdict === 'accepted' ? l.bytes : 0), 0)
      const refusedBytes = lines.filter((l) => l.verdict === 'refused').reduce((sum, l) => sum + l.bytes, 0)
      assert.ok(growth <= bound, `the update log grew by ${growth} bytes: at most its accepted envelopes and ${lines.length} verdict records (${bound})`)
      assert.ok(refusedBytes > growth, `the refused envelopes (${refusedBytes} bytes) were not stored: the log grew by ${growth}`)
      const engineLimited = fromRogue.filter((l) => l.reason === 'RATE_LIMITED').length
      process.stdout.write(`# flood: ${lines.length} log entries over ${rounds} rounds, ${accepted.length} accepted from the rogue, ${engineLimited} RATE_LIMITED by the engine's per-round rate (logged), log +${growth} B (the refused envelopes' ${refusedBytes} B not stored); /status RATE_LIMITED ${refused(s1, 'RATE_LIMITED')} (transport and engine), MALFORMED ${refused(s1, 'MALFORMED')}\n`)
    })
  })

  it('half-streams:count=64: RSS grows by less than 64 MiB; the streams are aborted at the read timeout and the rogue is heard again', { skip: process.platform !== 'linux' ? 'reads /proc' : false }, async () => {
    await withRogue('half-streams', 'half-streams:count=64', async (honest, rogue, rogueLog) => {
      const pid = honest.child.pid as number
      const before = rssBytes(pid)
      let peak = before
      const sampler = setInterval(() => { try { peak = Math.max(peak, rssBytes(pid)) } catch {} }, 100)
      try {
        const opened = await waitFor('the rogue to open its half-sent streams', async () => rogueLog.filter((l) => /half-streams: opened/.test(l)), (l) => l.length > 0, { timeoutMs: 60_000, intervalMs: 100 })
        const report = JSON.parse(opened[0]) as { opened: number, failed: number }
        assert.equal(report.opened + report.failed, 64, `the rogue tried 64 streams: ${opened[0]}`)
        const attackedAt = Date.now()
        const timedOut = await waitFor('the honest daemon to abort the stalled streams at its read timeout', async () => await honest.get<Status>('/status'), (s) => Number(s.transport.limits.readTimeouts) >= 1, { timeoutMs: DEFAULT_READ_TIMEOUT_MS + 30_000, intervalMs: 200 })
        assert.ok(Date.now() - attackedAt >= DEFAULT_READ_TIMEOUT_MS - 2_000, 'the streams were held until the read timeout, not refused at once')
        assert.ok(Number(timedOut.refusedByReason?.BUSY ?? 0) > 0, `streams past the per-peer cap got BUSY: ${JSON.stringify(timedOut.refusedByReason)}`)
        // the rogue's regular updates are accepted again once its stream slots are free
        const rogueKey = (await rogue.get<Status>('/status')).peerKey as string
        const logFrom = Number(timedOut.updateLog.count)
        await waitFor('an update from the rogue accepted after the timeout', async () => await honest.get<LogLine[]>(`/log?from=${logFrom}&limit=10000`), (l) => l.some((e) => e.sender === rogueKey && e.verdict === 'accepted'), { timeoutMs: 30_000, intervalMs: 200 })
        const after = rssBytes(pid)
        process.stdout.write(`# half-streams: the rogue wrote ${report.opened} of 64, ${report.failed} failed to open; honest RSS ${(before / MiB).toFixed(0)} MiB -> peak ${(peak / MiB).toFixed(0)} -> ${(after / MiB).toFixed(0)} MiB after the timeout; readTimeouts ${String(timedOut.transport.limits.readTimeouts)}, BUSY ${String(timedOut.refusedByReason?.BUSY ?? 0)}\n`)
        assert.ok(peak - before < 64 * MiB, `RSS grew by ${((peak - before) / MiB).toFixed(1)} MiB under 64 half-sent streams (less than 64)`)
        assert.ok(after - before < 64 * MiB, `RSS ${((after - before) / MiB).toFixed(1)} MiB above the start after the read timeout`)
      } finally {
        clearInterval(sampler)
      }
    })
  })
})
