/**
 * Bounded storage over a network's lifetime: one peer's database through 24 hours at 1 s rounds (86,400
 * rounds; --quick: 2 hours), written as the daemon writes it (per round: the updates of 3 neighbours in the
 * update log, one refused junk envelope, a metrics row and a checkpoint, each one atomic commit), for a
 * 67-parameter GLM's envelopes. The same run with retention off is the baseline: its size is what the database
 * grew to before retention existed. Goal: the retained log stays under its cap, the folder under the cap plus
 * the bounded rest, and `verifyLog` passes from the anchor.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BenchModule, BenchValue } from '../bench.js'
import { LevelStore } from '../../node/store/index.js'

export const name = 'storage'

const ENVELOPE_BYTES = 600 // a 67-parameter GLM's sealed update: header, 268 weight bytes, MAC, signature
const NEIGHBOURS = 3
const CAP = 8 * 1024 * 1024

const folderBytes = (dir: string): number => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0)

async function day (rounds: number, retentionOn: boolean): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-bench-storage-'))
  try {
    const store = await LevelStore.open(join(dir, 'db'), retentionOn
      ? { retention: { maxBytes: CAP }, metricsKeep: 20_000 }
      : { retention: { maxBytes: Number.MAX_SAFE_INTEGER, maxAgeMs: Number.MAX_SAFE_INTEGER }, metricsKeep: Number.MAX_SAFE_INTEGER })
    const envelope = new Uint8Array(ENVELOPE_BYTES).fill(7)
    const junk = new Uint8Array(ENVELOPE_BYTES * 4).fill(9)
    const weights = new Float32Array(67)
    const t0 = performance.now()
    let peak = 0
    const start = Date.now() - rounds * 1000
    for (let r = 0; r < rounds; r++) {
      const at = start + r * 1000
      const log = Array.from({ length: NEIGHBOURS }, (_, k) => ({ id: `${r}.${k}`, sender: String(k).repeat(64), round: r, seq: r, kind: 0, verdict: 'accepted' as const, reason: null, merged: true, receivedAt: at, parents: [], bytes: envelope }))
      log.push({ id: '', sender: 'f'.repeat(64), round: r, seq: r, kind: -1, verdict: 'refused' as never, reason: 'BAD_SIGNATURE' as never, merged: false, receivedAt: at, parents: [], bytes: junk })
      await store.commit({ log, metrics: [{ round: r, at, values: { loss: 0.5, deviance: 0.4 } }], checkpoint: { round: r, seq: r, weights, pushSumWeight: 1, rule: 'epidemic', schemaHash: 'h', savedAt: at } })
      if (r % 2_000 === 0) peak = Math.max(peak, folderBytes(join(dir, 'db')))
    }
    const seconds = (performance.now() - t0) / 1000
    const verify = await store.verifyLog()
    const stats = store.logStats()
    await store.close()
    const onDisk = folderBytes(join(dir, 'db'))
    return { seconds, logBytes: stats.bytes, retainedFrom: stats.first, diskBytes: onDisk, peakDiskBytes: Math.max(peak, onDisk), verifyErrors: verify.errors.length }
  } finally { rmSync(dir, { recursive: true, force: true }) }
}

export const run: BenchModule['run'] = async ({ quick }) => {
  const rounds = quick ? 7_200 : 86_400
  const off = await day(rounds, false)
  const on = await day(rounds, true)
  const out: Record<string, BenchValue> = {
    rounds, capBytes: CAP,
    'baseline.diskBytes': off.diskBytes, 'baseline.logBytes': off.logBytes,
    'retained.logBytes': on.logBytes, 'retained.diskBytes': on.diskBytes, 'retained.peakDiskBytes': on.peakDiskBytes, 'retained.from': on.retainedFrom,
    'retained.verifyErrors': on.verifyErrors,
    logUnderCap: on.logBytes <= CAP,
    diskRatioToBaseline: on.diskBytes / off.diskBytes,
    secondsRatioToBaseline: on.seconds / off.seconds
  }
  return out
}
