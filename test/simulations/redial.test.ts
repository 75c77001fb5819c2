// Redialling after a partition heals (simulations/redial.ts): the daemon keeper's timers in rounds, the links'
// return after the heal, and PartitionSchedule's reachability with and without it.
import { test } from 'node:test'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import assert from 'node:assert/strict'
import { healedLinkRounds, redialInRounds, worstRedialRounds, KEEPER_TIMERS_MS } from '../../simulations/redial.js'
import { PartitionSchedule } from '../../simulations/network.js'
import { parseScenario } from '../../simulations/scenario.js'
import { createRng } from '../../protocol/rng.js'
import * as keeper from '../../node/services/connection-keeper/constants.js'

const halves = Int32Array.from([0, 0, 1, 1])

/** libp2p's per-address dial timeout, read from the installed libp2p (its constants are not exported). */
function libp2pAddressDialTimeout (): number {
  const file = join(dirname(createRequire(import.meta.url).resolve('libp2p')), 'connection-manager', 'constants.defaults.js')
  const m = /ADDRESS_DIAL_TIMEOUT = ([\d_]+)/.exec(readFileSync(file, 'utf8'))
  assert.ok(m != null, `ADDRESS_DIAL_TIMEOUT in ${file}`)
  return Number(m[1].replace(/_/g, ''))
}

test('the simulator\'s keeper timers are the daemon keeper\'s defaults, and convert to rounds at a given pace', () => {
  assert.deepEqual(KEEPER_TIMERS_MS, {
    checkMs: keeper.KEEPER_CHECK_MS, dialTimeoutMs: Math.min(keeper.KEEPER_DIAL_TIMEOUT_MS, libp2pAddressDialTimeout()), backoffBaseMs: keeper.KEEPER_BACKOFF_BASE_MS, backoffMaxMs: keeper.KEEPER_BACKOFF_MAX_MS, jitter: keeper.KEEPER_BACKOFF_JITTER
  }, 'simulations/redial.ts copies node/services/connection-keeper/constants.ts (a hanging dial ends at libp2p\'s per-address timeout when shorter)')
  assert.deepEqual(redialInRounds(80), { checkRounds: 25, dialTimeoutRounds: 75, backoffBaseRounds: 12.5, backoffMaxRounds: 375, jitter: 0.5 }, '2 s, 6 s, 1 s and 30 s at 80 ms per round')
  assert.deepEqual(redialInRounds(1000), { checkRounds: 2, dialTimeoutRounds: 6, backoffBaseRounds: 1, backoffMaxRounds: 30, jitter: 0.5 }, 'at 1 s rounds: the scenario defaults')
  assert.throws(() => redialInRounds(0), (err: Error) => err.name === 'RangeError' && /msPerRound/.test(err.message), 'a pace of 0 ms per round is refused')
  assert.deepEqual(parseScenario({ name: 'r', peers: 4, rounds: 2, dataset: 'digits', model: 'softmax', network: { redial: {} } }).network.redial, redialInRounds(1000), 'redial: {} is the daemon keeper at 1 s rounds')
})

test('dials hanging at the heal fail, and the first check after the backoff reconnects (exact, no jitter)', () => {
  // the dial timeout outlasts the split: every keeper's first dial hangs until the heal closes it (failure 1),
  // its backoff of `base` rounds runs, and the first check after it (every 2 rounds from the heal) reconnects
  for (const [base, back] of [[1, 102], [5, 106]]) {
    const t = healedLinkRounds(halves, 0, 100, { checkRounds: 2, dialTimeoutRounds: 1000, backoffBaseRounds: base, backoffMaxRounds: 30, jitter: 0 }, createRng(1))
    for (const [a, b] of [[0, 2], [0, 3], [1, 2], [1, 3]]) {
      assert.equal(t[a * 4 + b], back, `link ${a}-${b} back at round ${back} with a ${base}-round backoff`)
      assert.equal(t[b * 4 + a], back, `link ${b}-${a} the same (symmetric)`)
    }
    assert.ok(Number.isNaN(t[0 * 4 + 1]) && Number.isNaN(t[2 * 4 + 3]), 'pairs on the same side have no link to bring back')
  }
})

test('with the daemon\'s timers, links come back after the heal, within the slowest redial, the same for the same seed', () => {
  const spec = redialInRounds(50)
  for (const split of [10, 300, 1200]) {
    const t = healedLinkRounds(halves, 100, 100 + split, spec, createRng(7))
    const cross = [0, 1].flatMap((a) => [2, 3].map((b) => t[a * 4 + b]))
    assert.ok(cross.every((x) => x >= 100 + split && x <= 100 + split + worstRedialRounds(spec)), `split of ${split}: links back at ${cross.join(', ')}, after the heal and within ${worstRedialRounds(spec)} rounds`)
    assert.deepEqual(Array.from(healedLinkRounds(halves, 100, 100 + split, spec, createRng(7))), Array.from(t), 'deterministic from the seed')
  }
  // a long split leaves the keepers deep in their backoff: the links come back later than right after a short one
  const late = (split: number): number => Math.max(...[0, 1].flatMap((a) => [2, 3].map((b) => healedLinkRounds(halves, 0, split, spec, createRng(3))[a * 4 + b]))) - split
  assert.ok(late(3000) > late(5), `after 3000 rounds apart the last link is back ${late(3000)} rounds after the heal, after 5 rounds ${late(5)}`)
})

test('PartitionSchedule: without redial a split heals at its toRound; with it, a link waits for its keeper', () => {
  const event = { fromRound: 10, toRound: 20, groups: 2, assign: 'contiguous' as const }
  const instant = new PartitionSchedule([event], 4, createRng(5))
  assert.equal(instant.reachable(0, 2, 19), false, 'cut during the split')
  assert.equal(instant.reachable(0, 2, 20), true, 'no redial: reachable at the heal')
  assert.equal(instant.linkBackRound(0, 0, 2), 20, 'no redial: back at toRound')
  const spec = { checkRounds: 2, dialTimeoutRounds: 1000, backoffBaseRounds: 5, backoffMaxRounds: 30, jitter: 0 }
  const redial = new PartitionSchedule([event], 4, createRng(5), spec)
  assert.equal(redial.linkBackRound(0, 0, 2), 26, 'hanging dial closed at 20, a 5-round backoff, checks at 22, 24, 26')
  assert.equal(redial.reachable(0, 2, 25), false, 'not yet redialled in round 25')
  assert.equal(redial.reachable(0, 2, 26), true, 'reachable from the round of the redial')
  assert.equal(redial.reachable(0, 1, 15), true, 'the same side stays reachable')
  assert.equal(redial.linkBackRound(0, 0, 1), null, 'no link to bring back inside a side')
})
