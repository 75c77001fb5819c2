/**
 * A long run of real daemons (`npm run bench -- soak`): four `murmur daemon` processes through the fault
 * harness's links, at the documented settings (1 s rounds, a 1,000-round window), with update-log retention capped
 * at 4 MiB, over a WAN-like path where root and iptables allow it (100 ms added RTT, 2% packet loss; otherwise the
 * added RTT only). Every `killEveryMinutes` one member (1, 2, 3 in turn; member 0 is never killed, so its memory
 * is measured over the whole run) is killed with SIGKILL mid-round, its log verified offline as an operator would,
 * and restarted. Sampled every minute: each member's RSS, database size, round, connections, merges and refusals.
 *
 * Goals: every member merges in every minute it was up for the whole minute; nothing refused as EQUIVOCATION or
 * REPLAYED (restarts are honest); every offline verify and the final one pass; the update log stays under its
 * cap; the database on disk shows no trend (last quarter's largest within 1.5x the second quarter's: LevelDB keeps
 * deleted entries until it compacts); member 0's RSS in the last quarter is within 15% of the second quarter's.
 *
 * A /status that times out on a loaded machine is retried (up to 3 tries) and counted as `slowStatusReads`.
 *
 * MURMUR_SOAK_MINUTES (default 10; --quick 3), MURMUR_SOAK_KILL_EVERY_MINUTES (default 2; 0: no kills),
 * MURMUR_SOAK_OUT (a file for the minute-by-minute samples as JSON). For a day of the network's life in less wall
 * time ("fast rounds"): MURMUR_SOAK_ROUND_MS (pause between rounds, default 1000), MURMUR_SOAK_PEERS (default 4),
 * MURMUR_SOAK_ROUNDS (stop once member 0 has run this many rounds, checked every minute; MURMUR_SOAK_MINUTES is
 * then the cap), MURMUR_SOAK_LOG_CAP_MIB (default 4), MURMUR_SOAK_LINK=none (no added RTT or loss).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import type { BenchModule, BenchValue } from '../bench.js'
import { FaultNet, PacketLoss } from '../../node/faults/index.js'

export const name = 'soak'

const RESTART_REFUSALS = ['EQUIVOCATION', 'REPLAYED']

interface Sample {
  minute: number
  members: Array<{ i: number, up: boolean, rssMiB: number | null, diskBytes: number | null, logBytes: number | null, round: number | null, connections: number | null, merged: number | null, refused: Record<string, number> }>
  mean: number | null
  spread: number | null
}

/** Resident set of a process, MiB (from /proc; null when it is gone). */
function rssMiB (pid: number | undefined): number | null {
  if (pid == null) return null
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m == null ? null : Number(m[1]) / 1024
  } catch { return null }
}

interface SoakStatus { round: number, connections: number, refusedByReason: Record<string, number>, totals: { updatesMerged: number }, database: { diskBytes: number, log: { bytes: number } } }

/** /status tries per sample (each with the API client's 10 s timeout) before the run fails. */
const STATUS_TRIES = 3
/**
 * A member's /status for a sample: on a loaded machine a daemon at fast rounds can take longer than the client's
 * timeout to answer; such a try is counted (`slowStatusReads`) and repeated, and only STATUS_TRIES in a row fail.
 */
async function statusWithRetries (d: { get: <T>(path: string) => Promise<T> }, member: number, slow: { reads: number }): Promise<SoakStatus> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await d.get<SoakStatus>('/status')
    } catch (err) {
      if ((err as Error).name !== 'TimeoutError' || attempt >= STATUS_TRIES) throw new Error(`soak: member ${member}'s /status: ${(err as Error).message} (try ${attempt} of ${STATUS_TRIES})`)
      slow.reads++
      process.stderr.write(`soak: member ${member}'s /status timed out (try ${attempt} of ${STATUS_TRIES}); again\n`)
    }
  }
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)] }

export const run: BenchModule['run'] = async ({ quick, signal }) => {
  const minutes = Number(process.env.MURMUR_SOAK_MINUTES ?? (quick ? 3 : 10))
  const killEvery = Number(process.env.MURMUR_SOAK_KILL_EVERY_MINUTES ?? 2)
  const roundMs = Number(process.env.MURMUR_SOAK_ROUND_MS ?? 1000)
  const peers = Number(process.env.MURMUR_SOAK_PEERS ?? 4)
  const targetRounds = process.env.MURMUR_SOAK_ROUNDS == null ? null : Number(process.env.MURMUR_SOAK_ROUNDS)
  const LOG_CAP_BYTES = Number(process.env.MURMUR_SOAK_LOG_CAP_MIB ?? 4) * 1024 * 1024
  const noLink = process.env.MURMUR_SOAK_LINK === 'none'
  for (const [k, v] of Object.entries({ roundMs, peers, LOG_CAP_BYTES, ...(targetRounds != null ? { targetRounds } : {}) })) {
    if (!(Number.isFinite(v) && v >= (k === 'peers' ? 2 : 1))) throw new Error(`soak: ${k} ${v} is not a usable number (MURMUR_SOAK_* environment)`)
  }
  const lossWhy = noLink ? 'MURMUR_SOAK_LINK=none' : await PacketLoss.unavailable()
  const link = noLink ? { rttMs: 0, loss: 0 } : { rttMs: 100, loss: lossWhy == null ? 0.02 : 0 }
  const net = new FaultNet({
    peers, windowRounds: 1000, roundIntervalMs: roundMs, localSteps: 1, link, signal,
    daemonArgs: ['--log-max-bytes', String(LOG_CAP_BYTES)],
    progress: (line) => { process.stderr.write(`soak: ${line}\n`) }
  })
  const samples: Sample[] = []
  const kills: Array<{ minute: number, member: number, verifies: boolean, recoverySeconds: number }> = []
  const merged = new Map<number, number>()
  const upSince = new Map<number, number>()
  let missedMinutes = 0
  const slow = { reads: 0 }
  const started = Date.now()
  try {
    await net.start()
    for (const i of net.running()) upSince.set(i, 0)
    await net.runRounds(5)
    for (let minute = 1; minute <= minutes; minute++) {
      const until = started + minute * 60_000
      while (Date.now() < until) { signal?.throwIfAborted(); await new Promise((resolve) => setTimeout(resolve, Math.min(1000, until - Date.now()))) }
      const quality = await net.evaluate()
      const sample: Sample = { minute, members: [], mean: quality?.mean ?? null, spread: quality?.spread ?? null }
      for (let i = 0; i < net.peers; i++) {
        const d = net.daemons[i]
        if (d == null) { sample.members.push({ i, up: false, rssMiB: null, diskBytes: null, logBytes: null, round: null, connections: null, merged: null, refused: {} }); continue }
        const s = await statusWithRetries(d, i, slow)
        const before = merged.get(i)
        // a member up for the whole minute must have merged in it (counters restart with the process)
        if (before != null && (upSince.get(i) ?? minute) < minute - 1 && s.totals.updatesMerged <= before) missedMinutes++
        merged.set(i, s.totals.updatesMerged)
        sample.members.push({ i, up: true, rssMiB: rssMiB(d.child.pid), diskBytes: s.database.diskBytes, logBytes: s.database.log.bytes, round: s.round, connections: s.connections, merged: s.totals.updatesMerged, refused: s.refusedByReason })
      }
      samples.push(sample)
      const m0 = sample.members[0]
      const done = targetRounds != null && (m0.round ?? 0) >= targetRounds
      process.stderr.write(`soak: minute ${minute}/${minutes}: rounds ${sample.members.map((m) => m.round ?? '-').join(',')}, member 0 RSS ${m0.rssMiB?.toFixed(0) ?? '-'} MiB, disk ${sample.members.map((m) => m.diskBytes == null ? '-' : (m.diskBytes / 2 ** 20).toFixed(1)).join(',')} MiB, mean ${sample.mean?.toFixed(4) ?? '-'}\n`)
      if (done) break
      if (killEvery > 0 && minute % killEvery === 0 && minute < minutes) {
        const member = 1 + (kills.length % (net.peers - 1))
        await net.stop(member, 'kill')
        const verify = await net.verifyLog(member)
        const t0 = Date.now()
        await net.spawn(member)
        await net.waitFor(`member ${member} merging after its restart`, async () => await net.status(member), (s) => s.totals.updatesMerged > 0 && s.connections > 0)
        kills.push({ minute, member, verifies: verify.ok, recoverySeconds: (Date.now() - t0) / 1000 })
        merged.delete(member)
        upSince.set(member, minute)
      }
    }
    const final = await net.statuses()
    const refusedRestart = FaultNet.refused(final, RESTART_REFUSALS)
    const linkStats = await net.linkStats()
    for (const i of net.running()) await net.stop(i, 'term')
    const finalVerify = await Promise.all(Array.from({ length: net.peers }, async (_, i) => await net.verifyLog(i)))
    const rss0 = samples.map((s) => s.members[0].rssMiB ?? Number.NaN)
    const q = Math.max(1, Math.floor(rss0.length / 4))
    const rssSecondQuarter = median(rss0.slice(q, 2 * q))
    const rssLastQuarter = median(rss0.slice(-q))
    const disk = samples.flatMap((s) => s.members.flatMap((m) => m.diskBytes ?? []))
    const logs = samples.flatMap((s) => s.members.flatMap((m) => m.logBytes ?? []))
    if (process.env.MURMUR_SOAK_OUT != null) writeFileSync(process.env.MURMUR_SOAK_OUT, JSON.stringify({ link: linkStats, kills, samples }, null, 1))
    const out: Record<string, BenchValue> = {
      minutes: samples.length,
      peers: net.peers,
      roundIntervalMs: roundMs,
      targetRounds,
      linkRttMs: link.rttMs,
      linkLoss: link.loss,
      linkLossSkipped: lossWhy,
      droppedPackets: linkStats.droppedPackets,
      roundsRun: Math.max(...final.map((s) => s.round)),
      kills: kills.length,
      killVerifies: kills.every((k) => k.verifies),
      killRecoveryMedianSeconds: kills.length > 0 ? median(kills.map((k) => k.recoverySeconds)) : null,
      killRecoveryMaxSeconds: kills.length > 0 ? Math.max(...kills.map((k) => k.recoverySeconds)) : null,
      finalVerifies: finalVerify.every((v) => v.ok),
      missedMergeMinutes: missedMinutes,
      slowStatusReads: slow.reads,
      refusedEquivocationOrReplayed: refusedRestart,
      member0RssSecondQuarterMiB: Number(rssSecondQuarter.toFixed(1)),
      member0RssLastQuarterMiB: Number(rssLastQuarter.toFixed(1)),
      member0RssRatio: Number((rssLastQuarter / rssSecondQuarter).toFixed(3)),
      diskBytesMax: Math.max(...disk),
      logBytesMax: Math.max(...logs),
      logCapBytes: LOG_CAP_BYTES,
      meanEnd: samples.at(-1)?.mean ?? null,
      spreadEnd: samples.at(-1)?.spread ?? null
    }
    // the cap is the update log's (retention); on disk LevelDB also keeps deleted entries until it compacts them,
    // so the disk figure is checked for a trend instead: the last quarter's largest against the second quarter's
    const diskQuarter = (from: number, to: number): number => Math.max(...samples.slice(from, to).flatMap((s) => s.members.flatMap((m) => m.diskBytes ?? [])))
    out.diskLastToSecondQuarter = Number((diskQuarter(samples.length - q, samples.length) / diskQuarter(q, 2 * q)).toFixed(3))
    out.passed = out.killVerifies === true && out.finalVerifies === true && missedMinutes === 0 && refusedRestart === 0 &&
      Math.max(...logs) <= LOG_CAP_BYTES && (targetRounds == null || Number(out.roundsRun) >= targetRounds) && (samples.length < 8 || Number(out.diskLastToSecondQuarter) <= 1.5) && rssLastQuarter <= 1.15 * rssSecondQuarter
    out.wallSeconds = Number(((Date.now() - started) / 1000).toFixed(1))
    return out
  } finally {
    await net.close()
  }
}
