// Disk full: a LevelStore on a small tmpfs (root only; skipped elsewhere) is filled until its writes fail,
// then the space comes back. No commit acknowledged before or after the episode may be lost on reopen.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { LevelStore } from '../../node/store/index.js'
import type { Checkpoint } from '../../protocol/engine/store.js'

function mountTmpfs (dir: string, size: string): boolean {
  if (process.getuid?.() !== 0) return false
  try { execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' }); return true } catch { return false }
}

const probe = mkdtempSync(join(tmpdir(), 'murmur-tmpfs-probe-'))
const canMount = mountTmpfs(probe, '64k')
if (canMount) execFileSync('umount', [probe])
rmSync(probe, { recursive: true, force: true })

const checkpoint = (round: number): Checkpoint => ({ round, seq: round, weights: new Float32Array(2_000).fill(round), pushSumWeight: 1, rule: 'epidemic', schemaHash: 'h', savedAt: round })

describe('disk full (a 3 MiB tmpfs)', { skip: canMount ? false : 'needs root and tmpfs' }, () => {
  it('writes fail while the disk is full, nothing acknowledged before or after the episode is lost', async () => {
    const mnt = mkdtempSync(join(tmpdir(), 'murmur-diskfull-'))
    assert.ok(mountTmpfs(mnt, '3m'), 'tmpfs mounted')
    try {
      const store = await LevelStore.open(join(mnt, 'db'))
      writeFileSync(join(mnt, 'filler'), Buffer.alloc(1_500_000))
      const acked: number[] = []
      let failures = 0
      for (let r = 0; r < 400; r++) {
        try {
          await store.commit({ checkpoint: checkpoint(r), log: [{ id: `u${r}`, sender: 'ab'.repeat(32), round: r, seq: r, kind: 0, verdict: 'accepted', reason: null, merged: true, receivedAt: Date.now(), parents: [], bytes: new Uint8Array(4_000) }] })
          acked.push(r)
        } catch { failures++ }
      }
      assert.ok(failures > 0, 'the disk filled up: some commits failed')
      assert.ok(store.lastCommitError != null && /space/i.test(store.lastCommitError.message), `the store says it is not writable (${store.lastCommitError?.message ?? 'no error'})`)
      rmSync(join(mnt, 'filler'))
      for (let r = 400; r < 420; r++) { await store.commit({ checkpoint: checkpoint(r) }); acked.push(r) }
      assert.equal(store.lastCommitError, null, 'writable again once a commit succeeds')
      const logCount = store.logHead().count
      await store.close()
      const again = await LevelStore.open(join(mnt, 'db'))
      try {
        assert.equal((await again.latestCheckpoint())?.round, 419, 'the last checkpoint acknowledged after the episode survives a reopen')
        assert.equal(again.logHead().count, logCount, 'every acknowledged log entry survives')
        const logged = new Set<number>()
        for await (const e of again.log()) logged.add(e.round)
        const lostLog = acked.filter((r) => r < 400).filter((r) => !logged.has(r))
        assert.deepEqual(lostLog, [], 'no acknowledged update from before the episode is lost')
        assert.deepEqual((await again.verifyLog()).errors, [], 'the log verifies')
      } finally { await again.close() }
    } finally {
      execFileSync('umount', [mnt])
      rmSync(mnt, { recursive: true, force: true })
    }
  })
})
