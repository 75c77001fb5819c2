// The audit commands as an operator runs them: `murmur log --verify`, `murmur db info` and `murmur db repair`
// on missing, healthy and damaged datadirs. Read-only commands never create or change anything.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { MURMUR_BIN, REPO_ROOT } from '../../node/processes.js'
import { LevelStore } from '../../node/store/index.js'

function cli (args: string[]): { status: number | null, stdout: string, stderr: string } {
  return spawnSync(process.execPath, [MURMUR_BIN, ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, MURMUR_LOG_LEVEL: 'silent' } })
}

const tree = (dir: string): string => readdirSync(dir, { recursive: true }).map(String).sort()
  .map((f) => { const s = statSync(join(dir, f)); return `${f}:${s.isDirectory() ? 'd' : s.size}:${s.mtimeMs}` }).join('|')

describe('murmur log --verify, db info and db repair on missing, healthy and damaged datadirs', { timeout: 120_000 }, () => {
  it('never creates a datadir, never changes a damaged one, and db repair is the way back', async () => {
    const root = mkdtempSync(join(tmpdir(), 'murmur-audit-'))
    try {
      const missing = join(root, 'missing')
      let r = cli(['log', '--verify', '--datadir', missing])
      assert.equal(r.status, 1, `a missing datadir fails: ${r.stdout}${r.stderr}`)
      assert.match(r.stderr, /DatadirMissingError: no datadir at .*missing/, 'the error names the datadir')
      assert.equal(existsSync(missing), false, 'log --verify created nothing')

      const datadir = join(root, 'peer')
      const store = await LevelStore.open(join(datadir, 'db'))
      for (let i = 0; i < 200; i++) {
        await store.commit({ log: [{ id: `u${i}`, sender: 'ab'.repeat(32), round: i, seq: i, kind: 0, verdict: 'refused', reason: 'BAD_SIGNATURE', merged: false, receivedAt: Date.now(), parents: [], bytes: new Uint8Array(500).fill(i & 0xff) }] })
      }
      await store.close()
      r = cli(['log', '--verify', '--datadir', datadir])
      assert.equal(r.status, 0, `a healthy log verifies: ${r.stdout}${r.stderr}`)
      assert.match(r.stdout, /log ok: 200 entries/, 'every entry was checked')
      r = cli(['db', 'info', '--datadir', datadir, '--json'])
      assert.equal(r.status, 0, `db info runs: ${r.stderr}`)
      const info = JSON.parse(r.stdout) as { log: { count: number, bytes: number }, diskBytes: number }
      assert.equal(info.log.count, 200, 'db info counts the log')
      // a verdict record is about 500 bytes; with the 500-byte envelopes kept it would be about 1,000 per entry
      assert.ok(info.log.bytes < 200 * 800, `refused envelopes are stored as hashes (${info.log.bytes} bytes for 200 entries of 500 bytes)`)

      unlinkSync(join(datadir, 'db', 'CURRENT'))
      const before = tree(datadir)
      for (const args of [['log', '--verify'], ['log'], ['db', 'info']]) {
        r = cli([...args, '--datadir', datadir])
        assert.equal(r.status, 1, `${args.join(' ')} fails on a damaged database: ${r.stdout}${r.stderr}`)
        assert.match(r.stderr, /StoreDamagedError: the database at .*db is damaged.*murmur db repair/, `${args.join(' ')} names the damage and the repair`)
      }
      assert.equal(tree(datadir), before, 'no file of the damaged datadir was created, changed or deleted')

      r = cli(['db', 'repair', '--datadir', datadir, '--json'])
      assert.equal(r.status, 0, `db repair succeeds: ${r.stdout}${r.stderr}`)
      const rep = JSON.parse(r.stdout) as { backup: string, logEntries: number }
      assert.ok(readdirSync(rep.backup).some((f) => f.startsWith('MANIFEST-')), 'the damaged folder was backed up first')
      assert.equal(rep.logEntries, 200, 'nothing stored was lost')
      r = cli(['log', '--verify', '--datadir', datadir])
      assert.equal(r.status, 0, `after repair the log verifies: ${r.stdout}${r.stderr}`)
    } finally { rmSync(root, { recursive: true, force: true }) }
  })
})
