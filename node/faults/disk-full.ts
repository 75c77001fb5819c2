/**
 * The `disk-full` fault: one member's database on a small tmpfs (root only; skipped elsewhere, with the reason),
 * filled while the daemon runs, then freed. Goals (the long-lived-network issue): `/health` says
 * STORE_NOT_WRITABLE during the episode and is healthy again after it; no checkpoint or log entry acknowledged
 * before or after the episode is lost (after a clean stop the newest checkpoint is at least the round the
 * daemon last reported, the log at least as long, and `murmur log --verify` passes); the member merges again.
 */
import { closeSync, cpSync, mkdirSync, openSync, renameSync, rmSync, statfsSync, writeSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { openStoreReadOnly } from '../store/index.js'
import { secondsSince as seconds, type FaultNet } from './harness.js'
import type { Fault, FaultOutcome } from './builtins.js'
import { DISK_FULL_HEALTH_TIMEOUT_MS, DISK_FULL_SPARE_BYTES, DISK_FULL_TMPFS_MIB } from './constants.js'

function mountTmpfs (dir: string, mib: number): string | null {
  if (process.getuid?.() !== 0) return 'needs root (a tmpfs is mounted for the database)'
  try { execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m`, 'tmpfs', dir], { stdio: 'ignore' }); return null } catch (err) { return `cannot mount a tmpfs: ${(err as Error).message.slice(0, 200)}` }
}

export const diskFull: Fault = {
  name: 'disk-full',
  description: `a member's database on a ${DISK_FULL_TMPFS_MIB} MiB tmpfs filled while it runs, then freed (root only)`,
  run: async (net: FaultNet): Promise<FaultOutcome> => {
    const i = 1
    const db = net.dbDir(i)
    const aside = `${db}.before-disk-full`
    await net.stop(i, 'term')
    renameSync(db, aside)
    mkdirSync(db)
    const cannot = mountTmpfs(db, DISK_FULL_TMPFS_MIB)
    if (cannot != null) {
      rmSync(db, { recursive: true, force: true })
      renameSync(aside, db)
      await net.spawn(i)
      return { passed: true, skipped: cannot, recoverySeconds: null, checks: {} }
    }
    const filler = join(db, 'filler')
    let mounted = true
    const unmount = (): void => {
      if (!mounted) return
      // the database back on the disk: copy it out of the tmpfs, then unmount and put it in place
      rmSync(filler, { force: true })
      rmSync(aside, { recursive: true, force: true })
      mkdirSync(aside)
      for (const f of readdirSync(db)) cpSync(join(db, f), join(aside, f), { recursive: true })
      execFileSync('umount', [db])
      mounted = false
      rmSync(db, { recursive: true, force: true })
      renameSync(aside, db)
    }
    try {
      for (const f of readdirSync(aside)) cpSync(join(aside, f), join(db, f), { recursive: true })
      await net.spawn(i)
      await net.waitFor(`member ${i} merging on the tmpfs`, async () => await net.status(i), (s) => s.totals.updatesMerged > 0)
      fillUpTo(filler, db)
      const t0 = Date.now()
      const during = await net.waitFor('/health to say STORE_NOT_WRITABLE', async () => await net.health(i), (h) => h.codes.includes('STORE_NOT_WRITABLE'), DISK_FULL_HEALTH_TIMEOUT_MS)
      const fullFor = seconds(t0)
      rmSync(filler, { force: true })
      const t1 = Date.now()
      await net.waitFor('/health healthy again', async () => await net.health(i), (h) => !h.codes.includes('STORE_NOT_WRITABLE'), DISK_FULL_HEALTH_TIMEOUT_MS)
      const recovered = seconds(t1)
      await net.runRounds(10)
      const last = await net.daemon(i).get<{ round: number, updateLog: { count: number } }>('/status')
      await net.stop(i, 'term')
      const verify = await net.verifyLog(i)
      const store = await openStoreReadOnly(net.datadirs[i], db)
      let checkpointRound = -1
      let logCount = -1
      try {
        checkpointRound = (await store.latestCheckpoint())?.round ?? -1
        logCount = store.logHead().count
      } finally { await store.close() }
      unmount()
      await net.spawn(i)
      await net.waitFor(`member ${i} merging again on the disk`, async () => await net.status(i), (s) => s.totals.updatesMerged > 0)
      const kept = checkpointRound >= last.round && logCount >= last.updateLog.count
      return {
        passed: during.status === 503 && kept && verify.ok,
        recoverySeconds: recovered,
        checks: { member: i, healthDuring: during, storeNotWritableAfterSeconds: fullFor, lastReportedRound: last.round, checkpointRoundAfterStop: checkpointRound, lastReportedLogCount: last.updateLog.count, logCountAfterStop: logCount, logVerifies: verify.ok, verifyErrors: verify.errors.slice(0, 3) }
      }
    } finally {
      if (mounted) {
        if (net.daemons[i] != null) await net.stop(i, 'kill').catch(() => {})
        try { unmount() } catch { /* leave it for the operator: the harness's folder is temporary */ }
      }
    }
  }
}

/**
 * Fills the filesystem of `dir` with the file `filler` until DISK_FULL_SPARE_BYTES are left. The daemon writes
 * meanwhile, so the space measured may be gone by the time it is written: a write that finds the disk full
 * ends the filling (the disk is then full, as wanted).
 */
function fillUpTo (filler: string, dir: string): void {
  const fs = statfsSync(dir)
  const want = Math.max(0, fs.bavail * fs.bsize - DISK_FULL_SPARE_BYTES)
  const fd = openSync(filler, 'w')
  try {
    const chunk = Buffer.alloc(256 * 1024)
    for (let written = 0; written < want;) {
      const n = Math.min(chunk.length, want - written)
      try { written += writeSync(fd, chunk, 0, n) } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return
        throw err
      }
    }
  } finally { closeSync(fd) }
}
