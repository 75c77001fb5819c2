/**
 * The database's commands: `log` (the update log, `--verify` re-checks it) and `db info` read a snapshot and
 * never create or change the datadir, even while a daemon runs on it; `db repair` is the documented way back
 * from a damaged database (it backs the folder up first).
 */
import type { Command } from 'commander'
import { defaultPeerNodeOptions as D } from '../../constants.js'
import { apiTarget, get, int, print } from '../client.js'


async function openReadOnly (datadir: string): Promise<import('../../store/index.js').LevelStore> {
  const { join } = await import('node:path')
  const { openStoreReadOnly } = await import('../../store/index.js')
  const { DB_DIR } = await import('../../constants.js')
  return await openStoreReadOnly(datadir, join(datadir, DB_DIR))
}

export function register (program: Command): void {
  program.command('log')
    .description('Every update this peer received: signer, round, verdict, lineage. --verify re-checks every signature and the hash chain\n' +
      'from the retention anchor. Reads a snapshot of the datadir (never changes it; works while the daemon runs).')
    .option('--datadir <dir>', 'data directory', D.datadir)
    .option('--verify', 're-check the hash chain and every accepted envelope\'s signature; exit 1 on any problem')
    .option('--limit <n>', 'entries to list', int('--limit'), 50)
    .option('--from <index>', 'first entry to list', int('--from'))
    .option('--api <url>', 'ask a running daemon\'s API instead of reading the datadir')
    .option('--api-token <token>', 'API token (env MURMUR_API_TOKEN)')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const { readLogLines, verifyStoredLog } = await import('../../audit.js')
      type Lines = Awaited<ReturnType<typeof readLogLines>>
      type Report = Awaited<ReturnType<typeof verifyStoredLog>>
      let lines: Lines | undefined
      let report: Report | undefined
      if (opts.api != null) {
        const target = await apiTarget(opts)
        if (opts.verify === true) report = await get<Report>(target, '/log/verify')
        else lines = await get<Lines>(target, `/log?limit=${String(opts.limit)}${opts.from != null ? `&from=${String(opts.from)}` : ''}`)
      } else {
        const store = await openReadOnly(opts.datadir)
        try {
          if (opts.verify === true) report = await verifyStoredLog(store)
          else lines = await readLogLines(store, { from: opts.from ?? store.logStats().first, limit: opts.limit })
        } finally { await store.close() }
      }
      if (report != null) {
        const r = report
        const from = r.retainedFrom > 0 ? ` from the retention anchor at entry ${r.retainedFrom}` : ''
        print(opts.json === true, r, () => r.ok
          ? `log ok: ${r.entries} entries${from}, hash chain intact, ${r.signaturesChecked} accepted envelopes re-verified (head ${r.head.hash.slice(0, 16)})`
          : `log FAILED verification (${r.errors.length} problem${r.errors.length === 1 ? '' : 's'}):\n  ${r.errors.join('\n  ')}`)
        if (!r.ok) process.exitCode = 1
        return
      }
      const l = lines ?? []
      print(opts.json === true, l, () => l.length === 0
        ? '(the update log is empty)'
        : l.map((e) => `${String(e.index).padStart(6)} ${e.receivedAt} ${e.sender.slice(0, 12)} r${e.round} s${e.seq} ${e.verdict === 'accepted' ? (e.merged ? 'accepted+merged' : 'accepted') : `REFUSED ${e.reason ?? ''}`}${e.parents.length > 0 ? ` parents=${e.parents.map((p) => p.slice(0, 8)).join(',')}` : ''}`).join('\n'))
    })

  const db = program.command('db').description('The datadir\'s database: sizes and retention (info), the way back from damage (repair)')

  db.command('info')
    .description('Database size, update-log retention, checkpoints and manifest; reads a snapshot, never changes the datadir')
    .option('--datadir <dir>', 'data directory', D.datadir)
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const store = await openReadOnly(opts.datadir)
      let info: Record<string, unknown>
      try {
        const size = store.size()
        const rounds = await store.checkpointRounds()
        const manifest = await store.latestManifest()
        info = { datadir: opts.datadir, ...size, checkpoints: rounds, manifestVersion: manifest?.version ?? null }
      } finally { await store.close() }
      const { default: bytes } = await import('bytes')
      const i = info as Record<string, any>
      print(opts.json === true, info, () => [
        `database        ${String(bytes(i.diskBytes))} on disk (the snapshot read)`,
        `update log      ${String(i.log.count - i.log.first)} entries retained (${String(bytes(i.log.bytes))}), from entry ${String(i.log.first)} of ${String(i.log.count)}`,
        `retention       ${String(bytes(i.log.retention.maxBytes))}, ${Math.round(i.log.retention.maxAgeMs / 86_400_000)} days, the newest ${String(i.log.retention.minEntries)} always kept`,
        `metrics rows    ${String(i.metricsRows)}`,
        `evidence        ${String(i.evidence)} kept${i.evidenceDropped > 0 ? `, ${String(i.evidenceDropped)} more counted but not stored` : ''}`,
        `checkpoints     ${(i.checkpoints as number[]).length === 0 ? 'none' : (i.checkpoints as number[]).map((r) => `r${r}`).join(' ')}`,
        `manifest        ${i.manifestVersion == null ? 'none' : `version ${String(i.manifestVersion)}`}`
      ].join('\n'))
    })

  db.command('repair')
    .description('Repair a damaged database: copies db/ to db.backup-<time>/ first, runs LevelDB\'s repair, re-anchors the update log\n' +
      'at what survived and verifies it. Stop the daemon first.')
    .option('--datadir <dir>', 'data directory', D.datadir)
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const { join } = await import('node:path')
      const { repairStore } = await import('../../store/index.js')
      const { DB_DIR } = await import('../../constants.js')
      const r = await repairStore(join(opts.datadir, DB_DIR))
      print(opts.json === true, r, () => [
        `backup          ${r.backup}`,
        `leveldb repair  ${r.levelRepaired ? 'ran' : 'not needed (the database opened cleanly)'}`,
        `update log      ${String(r.logEntries)} entries; verified from entry ${String(r.verifiedFrom)}${r.unverifiedOlder > 0 ? `, ${String(r.unverifiedOlder)} older entries kept outside the verified range` : ''}`,
        `checkpoint      ${r.latestCheckpointRound == null ? 'none (the daemon will fetch the network\'s state)' : `round ${String(r.latestCheckpointRound)}`}`,
        `verify          ${r.verify.errors.length === 0 ? `ok (${String(r.verify.entries)} entries)` : `FAILED: ${r.verify.errors.join('; ')}`}`
      ].join('\n'))
      if (r.verify.errors.length > 0) process.exitCode = 1
    })
}
