/**
 * `murmur db repair`: the documented way back from a damaged database (docs/operations.md, "A damaged
 * datadir"). It never works on the only copy: the `db/` folder is first copied whole to
 * `db.backup-<time>/` beside it, then LevelDB's own repair rebuilds the manifest from the table and log files
 * it finds, and the update log's head is set to what survived: the longest hash chain ending at the newest
 * entry is kept as the verified range (its first entry's prevHash becomes the anchor); older entries stay
 * stored and are reported. Refused while a daemon holds the database.
 */
import { cp, stat } from 'node:fs/promises'
import { join, dirname } from 'node:path'
import { ClassicLevel } from 'classic-level'
import type { AbortOptions } from '../../protocol/interfaces.js'
import { Bucket, key, u64, utf8 } from './buckets.js'
import { DatadirMissingError, LevelStore, StoreOpenError } from './level-store.js'
import { chainHash, type StoredLogEntry } from './update-log.js'

export interface RepairReport {
  backup: string
  /** LevelDB's repair ran (false when the database opened cleanly and needed none). */
  levelRepaired: boolean
  logEntries: number
  /** First entry of the verified range after repair, and how many older entries fall outside it. */
  verifiedFrom: number
  unverifiedOlder: number
  latestCheckpointRound: number | null
  verify: { entries: number, errors: string[] }
}

/** Copies, repairs, re-anchors; `dbPath` is the datadir's `db/`. */
export async function repairStore (dbPath: string, options: AbortOptions = {}): Promise<RepairReport> {
  if ((await stat(dbPath).catch(() => null))?.isDirectory() !== true) throw new DatadirMissingError(`no database at ${dbPath}: nothing to repair`)
  const probe = new ClassicLevel(dbPath, { createIfMissing: false })
  let levelRepaired = false
  let needsRepair = false
  try {
    await probe.open({ createIfMissing: false })
    await probe.close()
  } catch (err) {
    const msg = ((err as { cause?: Error }).cause ?? err as Error).message
    if (/lock/i.test(msg)) throw new StoreOpenError(`the database at ${dbPath} is in use (stop the daemon first): ${msg}`)
    needsRepair = true
  }
  options.signal?.throwIfAborted()
  const backup = join(dirname(dbPath), `db.backup-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  await cp(dbPath, backup, { recursive: true, errorOnExist: true, force: false })
  if (needsRepair) { await ClassicLevel.repair(dbPath); levelRepaired = true }
  const store = await LevelStore.open(dbPath)
  try {
    // walk back from the newest intact entry while each entry's hash is right and its prevHash names the one
    // before; every entry is counted, also those older than a break
    let newest: StoredLogEntry | null = null
    let start: StoredLogEntry | null = null
    let broken = false
    let total = 0
    for await (const e of store.log({ reverse: true })) {
      total++
      if (broken) continue
      const { hash, ...rest } = e
      const intact = chainHash(rest) === hash
      if (start == null) { if (intact) { newest = e; start = e } continue }
      if (intact && e.index === start.index - 1 && e.hash === start.prevHash) start = e
      else broken = true
    }
    if (newest != null && start != null) {
      // retention counts the verified range only: the older entries stay stored (and in the backup) outside it,
      // so they never make retention delete retained entries early
      let bytes = 0
      for await (const [k, v] of store.db.iterator({ gte: key(Bucket.UPDATE_LOG, u64(start.index)), lte: key(Bucket.UPDATE_LOG, u64(newest.index)) })) bytes += k.length + v.length
      // reserved meta records (commit refuses them): written here directly, the one place that resets the chain
      const meta = { logHead: { count: newest.index + 1, hash: newest.hash }, logStats: { ...store.logStats(), first: start.index, anchorHash: start.prevHash, bytes, firstReceivedAt: start.receivedAt } }
      await store.db.batch(Object.entries(meta).map(([name, v]) => ({ type: 'put' as const, key: key(Bucket.META, utf8(name)), value: utf8(JSON.stringify(v)) })))
    }
    await store.close()
    const reopened = await LevelStore.open(dbPath)
    try {
      const verify = await reopened.verifyLog()
      const cp = await reopened.latestCheckpoint().catch(() => null)
      const first = reopened.logStats().first
      return { backup, levelRepaired, logEntries: total, verifiedFrom: first, unverifiedOlder: Math.max(0, total - (reopened.logHead().count - first)), latestCheckpointRound: cp?.round ?? null, verify: { entries: verify.entries, errors: verify.errors } }
    } finally { await reopened.close() }
  } catch (err) {
    await store.close().catch(() => {})
    throw err
  }
}
