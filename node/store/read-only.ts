/**
 * Read-only access to a datadir's database, for `murmur log`, `murmur export`, `murmur evaluate` and
 * `murmur db info`: LevelDB has no read-only mode (opening writes a manifest and may compact or delete
 * files), so the database is opened from a snapshot in the temporary folder: table files hard-linked (LevelDB
 * never changes one in place), the small manifest, CURRENT and write-ahead log copied. The datadir is never
 * created or changed, and a daemon may keep running on it (a snapshot taken mid-write reads as the last
 * complete batch). The snapshot is removed on close.
 */
import { copyFile, link, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatadirMissingError, LevelStore, type LevelStoreOptions } from './level-store.js'

const SKIP = new Set(['LOCK', 'LOG', 'LOG.old'])
const SNAPSHOT_TRIES = 3

async function snapshot (dbPath: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), 'murmur-readonly-'))
    try {
      for (const d of await readdir(dbPath, { withFileTypes: true })) {
        const f = d.name
        // LevelDB's own files only: repair's `lost/` folder and anything else that is not a file stays out
        if (SKIP.has(f) || !d.isFile()) continue
        const from = join(dbPath, f)
        const to = join(dir, f)
        if (/\.(ldb|sst)$/.test(f)) await link(from, to).catch(async () => { await copyFile(from, to) })
        else await copyFile(from, to)
      }
      return dir
    } catch (err) {
      await rm(dir, { recursive: true, force: true })
      // a running daemon's compaction deleted a table between the listing and the link: take it again
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < SNAPSHOT_TRIES) continue
      throw err
    }
  }
}

/**
 * Opens `dbPath` (a datadir's `db/` folder) for reading. `datadir` names the folder in messages. A missing
 * datadir or database is DatadirMissingError; a damaged one StoreDamagedError; both change nothing.
 */
export async function openStoreReadOnly (datadir: string, dbPath: string, options: Omit<LevelStoreOptions, 'readOnly' | 'onClose' | 'displayPath'> = {}): Promise<LevelStore> {
  if ((await stat(datadir).catch(() => null))?.isDirectory() !== true) {
    throw new DatadirMissingError(`no datadir at ${datadir} (nothing was created; run \`murmur init --datadir ${datadir}\` to make one, or pass --datadir)`)
  }
  if ((await stat(dbPath).catch(() => null))?.isDirectory() !== true) {
    throw new DatadirMissingError(`${datadir} has no database (${dbPath}): no daemon has run on this datadir yet`)
  }
  // a damaged database (CURRENT missing) is found by LevelStore.open on the snapshot, named by dbPath
  const snap = await snapshot(dbPath)
  const cleanup = async (): Promise<void> => { await rm(snap, { recursive: true, force: true }) }
  try {
    return await LevelStore.open(snap, { ...options, readOnly: true, onClose: cleanup, displayPath: dbPath })
  } catch (err) {
    await cleanup()
    throw err
  }
}
