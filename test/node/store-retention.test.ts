import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Bucket, LevelStore, key, openStoreReadOnly, repairStore, u64 } from '../../node/store/index.js'
import type { UpdateLogEntry } from '../../protocol/engine/store.js'

const tmp = (): string => mkdtempSync(join(tmpdir(), 'murmur-retention-'))
const sender = 'ab'.repeat(32)
const envelope = (i: number, size: number): Uint8Array => Uint8Array.from({ length: size }, (_, j) => (i + j) & 0xff)
const entry = (i: number, verdict: 'accepted' | 'refused', size = 200, receivedAt = 1_000 + i): UpdateLogEntry => ({
  id: `u${i}`, sender, round: i, seq: i, kind: 0, verdict, reason: verdict === 'refused' ? 'BAD_SIGNATURE' : null,
  merged: verdict === 'accepted', receivedAt, parents: [], bytes: envelope(i, size)
})

/** Every file of a folder with its size and modification time: a read-only command must leave it unchanged. */
const fingerprint = (dir: string): string => readdirSync(dir).sort().map((f) => { const s = statSync(join(dir, f)); return `${f}:${s.size}:${s.mtimeMs}` }).join('|')

describe('update-log retention, refused envelopes as hashes, read-only opens, damage and repair', () => {
  it('a refused envelope is logged as verdict and hash, an accepted one whole; the chain still verifies', async () => {
    const dir = tmp()
    try {
      const store = await LevelStore.open(join(dir, 'db'))
      await store.commit({ log: [entry(0, 'accepted', 1000), entry(1, 'refused', 16 * 1024 * 1024 / 64)] })
      const stored = []
      for await (const e of store.log({ withEnvelope: true })) stored.push(e)
      assert.equal(stored[0].envelope?.length, 1000, 'the accepted envelope is kept whole')
      assert.equal(stored[1].envelope?.length, 0, 'the refused envelope is not stored')
      assert.equal(stored[1].envelopeBytes, 16 * 1024 * 1024 / 64, 'its size is logged')
      assert.match(stored[1].envelopeHash, /^[0-9a-f]{64}$/, 'its hash is logged')
      assert.ok(store.logStats().bytes < 2_000, `the log holds ${store.logStats().bytes} bytes: the refused 256 KiB were not stored`)
      assert.deepEqual((await store.verifyLog()).errors, [], 'the chain verifies')
      // an accepted entry whose envelope was stripped is a verification error, not a refused-like entry
      const raw = await store.db.get(key(Bucket.UPDATE_LOG, u64(0)))
      const n = new DataView(raw!.buffer, raw!.byteOffset).getUint32(0)
      await store.db.put(key(Bucket.UPDATE_LOG, u64(0)), raw!.subarray(0, 4 + n))
      assert.ok((await store.verifyLog()).errors.some((e) => e.includes('entry 0: accepted, but its envelope is missing')), 'a stripped accepted envelope is named')
      await store.close()
    } finally { rmSync(dir, { recursive: true, force: true }) }
  })

  it('retention by size keeps the log under its cap, keeps the newest, and verifies from the anchor', async () => {
    const dir = tmp()
    try {
      const cap = 64 * 1024
      const store = await LevelStore.open(join(dir, 'db'), { retention: { maxBytes: cap, minEntries: 10 } })
      for (let i = 0; i < 1_000; i++) await store.commit({ log: [entry(i, 'accepted', 500)] })
      const stats = store.logStats()
      assert.ok(stats.bytes <= cap, `retained ${stats.bytes} bytes, cap ${cap}`)
      assert.ok(stats.first > 800, `the oldest entries went first (retained from ${stats.first})`)
      assert.equal(store.logHead().count, 1_000, 'the head still counts every entry ever logged')
      let oldest = -1
      for await (const e of store.log({ limit: 1 })) oldest = e.index
      assert.equal(oldest, stats.first, 'nothing older than the anchor is stored')
      const r = await store.verifyLog()
      assert.deepEqual(r.errors, [], 'the retained chain verifies from its anchor')
      assert.equal(r.retainedFrom, stats.first, 'verification starts at the anchor')
      assert.equal(r.entries, 1_000 - stats.first, 'every retained entry was checked')
      await store.close()
      // the stats survive a reopen, and an edit inside the retained range is still caught
      const again = await LevelStore.open(join(dir, 'db'), { retention: { maxBytes: cap, minEntries: 10 } })
      assert.deepEqual(again.logStats(), stats, 'retention stats are stored with the log')
      await again.db.del(key(Bucket.UPDATE_LOG, u64(stats.first + 3)))
      assert.ok((await again.verifyLog()).errors.some((e) => e.includes(`entry ${stats.first + 3}: missing`)), 'a deleted retained entry is named')
      await again.close()
    } finally { rmSync(dir, { recursive: true, force: true }) }
  })

  it('retention by age deletes entries older than the limit, never the newest minEntries', async () => {
    const dir = tmp()
    try {
      const now = Date.now()
      const store = await LevelStore.open(join(dir, 'db'), { retention: { maxAgeMs: 60_000, minEntries: 5 } })
      // 70 old entries (two minutes ago), then 20 fresh ones
      for (let i = 0; i < 70; i++) await store.commit({ log: [entry(i, 'refused', 10, now - 120_000)] })
      for (let i = 70; i < 90; i++) await store.commit({ log: [entry(i, 'accepted', 10, now)] })
      assert.equal(store.logStats().first, 70, 'every entry older than a minute went, the fresh ones stay')
      assert.deepEqual((await store.verifyLog()).errors, [], 'the rest verifies')
      await store.close()
      const few = await LevelStore.open(join(dir, 'db2'), { retention: { maxAgeMs: 1, minEntries: 50 } })
      for (let i = 0; i < 64; i++) await few.commit({ log: [entry(i, 'accepted', 10, now - 120_000)] })
      assert.equal(few.logStats().first, 14, 'the newest minEntries are kept whatever their age')
      await few.close()
    } finally { rmSync(dir, { recursive: true, force: true }) }
  })

  it('the checkpoint written last is the latest, even at a lower round (the round clock fell back)', async () => {
    const dir = tmp()
    try {
      const store = await LevelStore.open(join(dir, 'db'), { keepCheckpoints: 3 })
      const cp = (round: number) => ({ round, seq: round, weights: Float32Array.from([round]), pushSumWeight: 1, rule: 'epidemic', schemaHash: 'h', savedAt: round })
      for (const r of [10, 11, 12]) await store.commit({ checkpoint: cp(r) })
      await store.commit({ checkpoint: cp(5) })
      assert.equal((await store.latestCheckpoint())?.round, 5, 'the fallen-back checkpoint is the one restored')
      assert.deepEqual(await store.checkpointRounds(), [5], 'checkpoints of later rounds were obsolete and deleted')
      for (const r of [6, 7, 8, 9]) await store.commit({ checkpoint: cp(r) })
      assert.deepEqual(await store.checkpointRounds(), [7, 8, 9], 'then the newest three are kept as before')
      await store.close()
    } finally { rmSync(dir, { recursive: true, force: true }) }
  })

  it('metrics history keeps the newest rows only', async () => {
    const dir = tmp()
    try {
      const store = await LevelStore.open(join(dir, 'db'), { metricsKeep: 10 })
      for (let i = 0; i < 30; i++) await store.commit({ metrics: [{ round: i, at: i, values: { loss: i } }] })
      const rows = await store.metricsHistory()
      assert.deepEqual(rows.map((r) => r.round), [20, 21, 22, 23, 24, 25, 26, 27, 28, 29], 'the newest ten rows')
      await store.close()
    } finally { rmSync(dir, { recursive: true, force: true }) }
  })

  it('a read-only open changes nothing, refuses writes, and names a missing datadir or database without creating it', async () => {
    const dir = tmp()
    try {
      const db = join(dir, 'db')
      const store = await LevelStore.open(db)
      for (let i = 0; i < 20; i++) await store.commit({ log: [entry(i, 'accepted')] })
      await store.close()
      const before = fingerprint(db)
      const ro = await openStoreReadOnly(dir, db)
      assert.equal((await ro.verifyLog()).entries, 20, 'the snapshot reads every entry')
      await assert.rejects(ro.commit({ log: [entry(20, 'accepted')] }), { name: 'StoreReadOnlyError' }, 'a write is refused')
      await ro.close()
      assert.equal(fingerprint(db), before, 'not one file of the database changed')
      // a running daemon holds the lock: the snapshot still reads
      const live = await LevelStore.open(db)
      const ro2 = await openStoreReadOnly(dir, db)
      assert.equal(ro2.logHead().count, 20, 'a snapshot of a database in use reads it')
      await ro2.close()
      await live.close()
      const missing = join(dir, 'nope')
      await assert.rejects(openStoreReadOnly(missing, join(missing, 'db')), { name: 'DatadirMissingError' }, 'a missing datadir is named')
      assert.equal(existsSync(missing), false, 'and was not created')
      const empty = mkdtempSync(join(dir, 'empty-'))
      await assert.rejects(openStoreReadOnly(empty, join(empty, 'db')), { name: 'DatadirMissingError' }, 'a datadir without a database is named')
      assert.equal(existsSync(join(empty, 'db')), false, 'and no database was created')
    } finally { rmSync(dir, { recursive: true, force: true }) }
  })

  it('a damaged database (CURRENT missing) is refused by name, read-only and read-write, and nothing is deleted; db repair brings it back', async () => {
    const dir = tmp()
    try {
      const db = join(dir, 'db')
      const store = await LevelStore.open(db)
      for (let i = 0; i < 300; i++) await store.commit({ log: [entry(i, i % 3 === 0 ? 'refused' : 'accepted', 2_000)], checkpoint: { round: i, seq: i, weights: Float32Array.from([i]), pushSumWeight: 1, rule: 'epidemic', schemaHash: 'h', savedAt: i } })
      await store.close()
      unlinkSync(join(db, 'CURRENT'))
      const before = fingerprint(db)
      await assert.rejects(openStoreReadOnly(dir, db), { name: 'StoreDamagedError' }, 'the read-only open refuses a damaged database')
      await assert.rejects(LevelStore.open(db), (err: Error) => err.name === 'StoreDamagedError' && err.message.includes(db) && err.message.includes('murmur db repair'), 'the daemon\'s open refuses it, naming the folder and the repair command')
      assert.equal(fingerprint(db), before, 'no file was created or deleted')
      const r = await repairStore(db)
      assert.ok(existsSync(r.backup), 'a backup was made first')
      assert.equal(r.levelRepaired, true, 'LevelDB repair ran')
      assert.deepEqual(r.verify.errors, [], 'the log verifies after repair')
      assert.equal(r.logEntries, 300, 'every log entry survived')
      assert.equal(r.latestCheckpointRound, 299, 'the newest checkpoint survived')
      const reopened = await LevelStore.open(db)
      assert.equal(reopened.logHead().count, 300, 'the daemon opens it again')
      await reopened.close()
    } finally { rmSync(dir, { recursive: true, force: true }) }
  })
  it('repair across a broken chain re-anchors after the break and counts only the retained entries\' bytes', async () => {
    const dir = tmp()
    try {
      const db = join(dir, 'db')
      const store = await LevelStore.open(db)
      for (let i = 0; i < 100; i += 10) await store.commit({ log: Array.from({ length: 10 }, (_, k) => entry(i + k, 'accepted', 500)) })
      const whole = store.logStats().bytes
      // entry 39 damaged in place: its hash no longer matches, so the verified range starts at 40
      const raw = await store.db.get(key(Bucket.UPDATE_LOG, u64(39)))
      const bad = Uint8Array.from(raw!)
      const json = Buffer.from(bad).toString('latin1')
      const at = json.indexOf('"round":39')
      assert.ok(at > 0, 'the entry\'s JSON holds its round')
      bad[at + 9] = 0x38 // "round":38: the entry no longer hashes to its hash
      await store.db.put(key(Bucket.UPDATE_LOG, u64(39)), bad)
      await store.close()
      const r = await repairStore(db)
      assert.equal(r.verifiedFrom, 40, 'the verified range starts after the damaged entry')
      assert.equal(r.unverifiedOlder, 40, 'the 40 older entries are reported outside it')
      assert.deepEqual(r.verify.errors, [], 'the retained chain verifies from its new anchor')
      const reopened = await LevelStore.open(db)
      try {
        let retained = 0
        for await (const [k, v] of reopened.db.iterator({ gte: key(Bucket.UPDATE_LOG, u64(40)), lte: key(Bucket.UPDATE_LOG, u64(99)) })) retained += k.length + v.length
        assert.equal(reopened.logStats().bytes, retained, `retention counts the 60 retained entries (${retained} bytes), not all 100 (${whole})`)
        assert.equal(reopened.logStats().firstReceivedAt, 1_040, 'the age of the log is that of its first retained entry')
      } finally { await reopened.close() }
    } finally { rmSync(dir, { recursive: true, force: true }) }
  })
})
