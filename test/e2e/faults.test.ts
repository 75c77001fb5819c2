// The fault harness (`murmur testnet --faults`), short version: real daemons, a lost database, a round jump, a
// healed partition and a full disk (root only). The full set runs in BENCHMARKS.md's command (npm run bench -- faults).
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { runFaults, partitionHealPlan, PARTITION_PREDICTION_MAX_SPLIT, type CatchUpPrediction, type PartitionHealPrediction } from '../../node/faults/index.js'
import { worstRedialRounds } from '../../simulations/redial.js'
import { defaultDataDir } from '../../learning/index.js'

const digits = join(defaultDataDir(), 'sklearn-digits.csv.gz')
const skip = existsSync(digits) ? false : `shared dataset missing: ${digits}`

describe('fault harness over real daemons (short: lost-db, round-jump, partition-heal, disk-full; 4 daemons)', { timeout: 420_000, skip }, () => {
  it('a lost database catches up; round + 999 splits nothing; a healed partition re-meshes; a full disk loses nothing', async () => {
    const r = await runFaults({ faults: ['lost-db', 'round-jump', 'partition-heal', 'disk-full'], peers: 4 })
    const [lost, jump, ph, disk] = r.faults
    assert.deepEqual(r.faults.map((f) => f.name), ['lost-db', 'round-jump', 'partition-heal', 'disk-full'], 'faults run in the order given')
    assert.equal(lost.passed, true, `lost-db: ${JSON.stringify(lost)}`)
    assert.equal(lost.checks.refusedAsEquivocationOrReplayed, 0, 'no honest restart refused as EQUIVOCATION or REPLAYED')
    assert.ok(lost.recoverySeconds != null && lost.recoverySeconds <= 30, `lost-db recovered in ${String(lost.recoverySeconds)} s`)
    assert.ok(typeof lost.spread.after === 'number', 'the metric spread across members is measured')
    assert.equal(jump.passed, true, `round-jump: ${JSON.stringify(jump)}`)
    // the jump reached the daemon: each envelope got a verdict (accepted, or refused by name), not a transport error
    const verdicts = jump.checks.verdicts as string[]
    assert.equal(verdicts.length, 3, 'three envelopes sent')
    assert.ok(verdicts.every((v) => v === 'null' || /^[A-Z_]+$/.test(v)), `verdicts ${verdicts.join(', ')}`)
    assert.deepEqual(ph.checks.halves, [[0, 1], [2, 3]], 'two halves of two: each member keeps one connection inside its half')
    assert.ok(Number(ph.checks.heldConnections) > 0, 'dials across the cut links hung in the proxies (the links really were cut)')
    assert.equal(ph.passed, true, `partition-heal: ${JSON.stringify(ph)}`)
    assert.ok(typeof ph.checks.splitSuspectedSeconds === 'number', 'every member warned of a split while the links were cut')
    assert.ok(ph.recoverySeconds != null && ph.recoverySeconds <= 60, `every member connected across the split and merging ${String(ph.recoverySeconds)} s after the heal`)
    // the simulator's run of the same split beside the daemons' figures, both in rounds after the heal
    const pp = ph.prediction as PartitionHealPrediction | undefined
    assert.ok(pp != null && 'splitRounds' in pp.daemons, `partition-heal has a prediction: ${JSON.stringify(ph.prediction)}`)
    assert.ok(!('error' in pp.simulator), `the simulator ran: ${JSON.stringify(pp.simulator)}`)
    const sim = pp.simulator as Exclude<PartitionHealPrediction['simulator'], { error: string }>
    assert.ok(pp.daemons.splitRounds > 0 && pp.daemons.msPerRound > 0, `the daemons' split in rounds and their pace: ${JSON.stringify(pp.daemons)}`)
    assert.equal(sim.splitRounds, Math.min(pp.daemons.splitRounds, PARTITION_PREDICTION_MAX_SPLIT), 'the simulator split as many rounds as the daemons')
    assert.deepEqual(sim.redial, (await partitionHealPlan({ windowRounds: r.windowRounds as number, cutRound: sim.splitAtRound, splitRounds: pp.daemons.splitRounds, msPerRound: pp.daemons.msPerRound })).redial, 'the keeper\'s timers at the daemons\' pace')
    assert.ok(sim.roundsToReconnect != null && sim.roundsToReconnect >= 0 && sim.roundsToReconnect <= worstRedialRounds(sim.redial) + 1, `the simulator reconnects after its keepers redial: ${String(sim.roundsToReconnect)} rounds`)
    assert.ok(pp.daemons.roundsToReconnect >= 0 && typeof sim.roundsToConsensusBack === 'number', `both sides in rounds: ${JSON.stringify(pp)}`)
    const lp = lost.prediction as CatchUpPrediction | undefined
    assert.ok(lp != null && !('error' in lp.simulator) && lp.simulator.roundsToAdopt != null, `lost-db has the simulator's catch-up beside it: ${JSON.stringify(lost.prediction)}`)
    if (disk.skipped == null) {
      assert.equal(disk.passed, true, `disk-full: ${JSON.stringify(disk)}`)
      assert.deepEqual((disk.checks.healthDuring as { codes: string[] }).codes.includes('STORE_NOT_WRITABLE'), true, '/health said STORE_NOT_WRITABLE while the disk was full')
    }
    process.stdout.write(`# faults: lost-db ${String(lost.recoverySeconds)} s, round-jump widest spread ${String(jump.checks.widestRoundSpread)} rounds, partition-heal ${String(ph.recoverySeconds)} s (predicted ${String(sim.roundsToReconnect)} rounds, measured ${String(pp.daemons.roundsToReconnect)}; split suspected after ${String(ph.checks.splitSuspectedSeconds)} s, rounds at heal ${JSON.stringify(ph.checks.roundsAtHeal)}), disk-full ${disk.skipped ?? `${String(disk.recoverySeconds)} s, checkpoint ${String(disk.checks.checkpointRoundAfterStop)} >= ${String(disk.checks.lastReportedRound)}`}, ${String(r.wallSeconds)} s\n`)
  })
})
