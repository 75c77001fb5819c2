// The fault harness (`murmur testnet --faults`), short version: real daemons, a lost database, a round jump and a
// healed partition. The full set runs in BENCHMARKS.md's command (npm run bench -- faults).
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { runFaults } from '../../node/faults/index.js'
import { defaultDataDir } from '../../learning/index.js'

const digits = join(defaultDataDir(), 'sklearn-digits.csv.gz')
const skip = existsSync(digits) ? false : `shared dataset missing: ${digits}`

describe('fault harness over real daemons (short: lost-db, round-jump)', { timeout: 240_000, skip }, () => {
  it('a member with a lost database catches up; a claimed round + 999 splits nothing', async () => {
    const r = await runFaults({ faults: ['lost-db', 'round-jump'], peers: 3 })
    const [lost, jump] = r.faults
    assert.equal(lost.name, 'lost-db', 'faults run in the order given')
    assert.equal(lost.passed, true, `lost-db: ${JSON.stringify(lost)}`)
    assert.equal(lost.checks.refusedAsEquivocationOrReplayed, 0, 'no honest restart refused as EQUIVOCATION or REPLAYED')
    assert.ok(lost.recoverySeconds != null && lost.recoverySeconds <= 30, `lost-db recovered in ${String(lost.recoverySeconds)} s`)
    assert.equal(jump.passed, true, `round-jump: ${JSON.stringify(jump)}`)
    // the jump reached the daemon: each envelope got a verdict (accepted, or refused by name), not a transport error
    const verdicts = jump.checks.verdicts as string[]
    assert.equal(verdicts.length, 3, 'three envelopes sent')
    assert.ok(verdicts.every((v) => v === 'null' || /^[A-Z_]+$/.test(v)), `verdicts ${verdicts.join(', ')}`)
    assert.ok(typeof lost.spread.after === 'number', 'the metric spread across members is measured')
    process.stdout.write(`# faults: lost-db ${String(lost.recoverySeconds)} s, round-jump widest spread ${String(jump.checks.widestRoundSpread)} rounds (verdicts ${verdicts.join(',')}), ${String(r.wallSeconds)} s\n`)
  })
})

describe('fault harness over real daemons (short: partition-heal, 4 daemons)', { timeout: 300_000, skip }, () => {
  it('two halves cut apart for 3x the window reconnect and merge within 60 s, and the spread comes back', async () => {
    const r = await runFaults({ faults: ['partition-heal'], peers: 4 })
    const [ph] = r.faults
    assert.equal(ph.name, 'partition-heal', 'the fault ran')
    assert.deepEqual(ph.checks.halves, [[0, 1], [2, 3]], 'two halves of two: each member keeps one connection inside its half')
    assert.ok(Number(ph.checks.heldConnections) > 0, 'dials across the cut links hung in the proxies (the links really were cut)')
    assert.equal(ph.passed, true, `partition-heal: ${JSON.stringify(ph)}`)
    assert.ok(ph.recoverySeconds != null && ph.recoverySeconds <= 60, `every member connected across the split and merging ${String(ph.recoverySeconds)} s after the heal`)
    process.stdout.write(`# faults: partition-heal reconnected in ${String(ph.recoverySeconds)} s, spread ${String(ph.checks.spreadBefore)} -> ${String(ph.checks.spreadDuringSplit)} -> ${String(ph.checks.spreadAfter)}, rounds at heal ${JSON.stringify(ph.checks.roundsAtHeal)}\n`)
  })
})
