// The partition-heal prediction's conversion (node/faults/partition-prediction.ts), on fixed numbers: the
// daemons' split in rounds and pace become the simulator's split and keeper timers; recovery is read per round.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { partitionHealPlan, recoveryRounds, spreadTolerance, predictionLine, PREDICTION_MAX_ROUND, type PartitionHealPrediction } from '../../node/faults/index.js'

test('the daemons\' split becomes the simulator\'s: start capped, same length, keeper timers at the daemons\' pace', async () => {
  const p = await partitionHealPlan({ windowRounds: 20, cutRound: 700, splitRounds: 300, msPerRound: 80 })
  assert.equal(p.fromRound, PREDICTION_MAX_ROUND, 'a cut at round 700 is simulated from the capped round')
  assert.equal(p.toRound - p.fromRound, 300, 'the split lasts as many rounds as the daemons\'')
  assert.deepEqual(p.redial, { checkRounds: 25, dialTimeoutRounds: 75, backoffBaseRounds: 12.5, backoffMaxRounds: 375, jitter: 0.5 }, 'the keeper\'s 2 s, 6 s, 1 s and 30 s at 80 ms per round')
  assert.equal(p.rounds, 700 + 375 + 50 + 60, 'runs past the heal for the slowest redial (backoff max + 2 checks) and 60 rounds more')
  assert.equal(p.splitCapped, false, 'a 300-round split is simulated whole')
  const early = await partitionHealPlan({ windowRounds: 20, cutRound: 15, splitRounds: 9000, msPerRound: 5 })
  assert.equal(early.fromRound, 40, 'never before two windows')
  assert.equal(early.toRound - early.fromRound, 4000, 'a very long split is cut to the cap')
  assert.equal(early.splitCapped, true, 'and says so')
})

test('recovery in rounds after the heal: spread back within the fault\'s tolerance, consensus under 1.5x', () => {
  const rec = (round: number, spread: number, cd: number): { round: number, spread: number, consensusDistance: number } => ({ round, spread, consensusDistance: cd })
  // split at 10, healed at 20; before the split: spread 0.02, consensus distance 1
  const perRound = [rec(9, 0.02, 1), rec(10, 0.03, 1.2), rec(19, 0.08, 4), rec(20, 0.07, 3.5), rec(21, 0.05, 2), rec(22, 0.031, 1.4), rec(23, 0.02, 1)]
  assert.equal(spreadTolerance(0.02), 0.01, 'tolerance at least 0.01')
  assert.equal(spreadTolerance(0.1), 0.05, 'or half the spread before')
  // round 22: the spread 0.031 is just above 0.02 + 0.01, the consensus distance 1.4 under 1.5; round 23 both
  assert.deepEqual(recoveryRounds(perRound, 10, 20), { spreadBefore: 0.02, spreadAtHeal: 0.08, consensusBefore: 1, spread: 3, consensus: 2 }, 'rounds after the heal to each')
  assert.deepEqual(recoveryRounds(perRound.slice(0, 5), 10, 20), { spreadBefore: 0.02, spreadAtHeal: 0.08, consensusBefore: 1, spread: null, consensus: null }, 'never back within the run: null')
  assert.deepEqual(recoveryRounds([...perRound.slice(0, 3), rec(20, 0.01, 1), rec(21, 0.05, 2), rec(22, 0.02, 1)], 10, 20, 21), { spreadBefore: 0.02, spreadAtHeal: 0.08, consensusBefore: 1, spread: 2, consensus: 2 }, 'looked for from round 21 (every peer reconnected), still counted from the heal')
  assert.equal(recoveryRounds(perRound.slice(1), 10, 20).spread, null, 'no figure before the split: nothing to be back to')
})

test('the CLI line says both sides, for partition-heal as for the catch-up faults', () => {
  const daemons = { splitRounds: 310, msPerRound: 81.5, roundsToReconnect: 40, roundsToSpreadBack: 45, roundsToConsensusBack: null, consensusBefore: 0.02 }
  const simulator = { splitAtRound: 400, splitRounds: 310, msPerRound: 81.5, redial: { checkRounds: 24.5, dialTimeoutRounds: 122.7, backoffBaseRounds: 12.3, backoffMaxRounds: 368.1, jitter: 0.5 }, roundsToReconnect: 31, roundsToSpreadBack: 0, roundsToConsensusBack: 35, spreadBefore: 0.003, spreadAtHeal: 0.014, consensusBefore: 0.03, seconds: 8, notes: [] }
  const line = predictionLine({ simulator, daemons } satisfies PartitionHealPrediction)
  assert.match(line, /simulator reconnect 31 round\(s\), spread back 0, consensus back 35 \(split 310 rounds from round 400\); daemons reconnect 40 round\(s\), spread back 45, consensus back never/, line)
  assert.match(predictionLine({ simulator: { error: 'boom' }, daemons }), /simulator failed \(boom\); daemons reconnect 40/, 'a failed simulator run says why')
  assert.match(predictionLine({ simulator: { atRound: 200, roundsToAdopt: 1, gap: 0, seconds: 2 }, daemons: { roundsToCatchUp: 50, gap: 0.01 } }), /simulator 1 round\(s\), gap \+0\.0000 \(joined at round 200\); daemons 50 round\(s\)/, 'the catch-up line as before')
})
