/** RoundClock on its own: the median, expiry, the sender bound, hostile round numbers, non-Lamport rules. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RoundClock, type RoundClockInit } from '../../protocol/engine/round-clock.js'

const WINDOW = { maxLag: 10, maxLead: 1000 }

function clock (init: Partial<RoundClockInit> = {}): { c: RoundClock, state: { round: number, t: number, warns: string[] } } {
  const state = { round: 0, t: 0, warns: [] as string[] }
  const c = new RoundClock({ step: 2, horizonMs: 1_000, recentMs: 5_000, maxSenders: 8, follows: true, ...init }, {
    round: () => state.round, setRound: (r) => { state.round = r }, now: () => state.t, catchUpMetric: 'm',
    logger: { debug: () => {}, info: () => {}, error: () => {}, warn: (_o, msg) => { state.warns.push(msg ?? '') } }
  })
  return { c, state }
}

test('one sender alone never makes a median; two far ahead do, and the peer adopts it with a warning', () => {
  const { c, state } = clock()
  c.observe('a', 5_000, WINDOW)
  assert.equal(c.median(), null, 'one sender: no median')
  assert.equal(state.round, 0, 'one sender cannot move the round')
  c.observe('b', 4_000, WINDOW)
  assert.equal(c.median(), 4_000, 'lower median of two: the smaller claim')
  assert.equal(state.round, 4_000, 'caught up to the median')
  assert.deepEqual(state.warns, ['behind the network by 4000 rounds: adopting round 4000'], 'warned once with gap and round')
})

test('claims expire after the horizon, the least recently heard sender is dropped past maxSenders', () => {
  const { c, state } = clock({ maxSenders: 2 })
  state.round = 100
  c.observe('a', 100, WINDOW)
  c.observe('b', 100, WINDOW)
  state.t = 1_001
  assert.equal(c.median(), null, 'both claims older than the horizon are forgotten')
  for (const k of ['a', 'b', 'c', 'd']) c.observe(k, k === 'a' || k === 'b' ? 0 : 101, WINDOW)
  assert.equal(c.median(), 101, 'a and b (the least recently heard) were dropped at the cap of 2 senders')
})

test('hostile round numbers are ignored; a replayed old claim does not lower a sender\'s claim', () => {
  const { c, state } = clock()
  state.round = 50
  for (const bad of [Number.NaN, -1, 1.5, Number.MAX_SAFE_INTEGER, Infinity]) c.observe('x', bad, WINDOW)
  c.observe('y', 60, WINDOW)
  assert.equal(c.median(), null, 'no bad value was recorded as a claim')
  c.observe('z', 60, WINDOW)
  c.observe('z', 1, WINDOW)
  assert.equal(c.median(), 60, 'the highest claim per sender is kept')
})

test('following: a small lead is followed, a big unbacked one only by the step (fewer than 3 senders) or not at all', () => {
  const { c, state } = clock()
  c.reset(10); state.round = 10
  c.observe('a', 11, WINDOW); c.follow(11)
  assert.equal(state.round, 11, 'small lead followed')
  c.observe('a', 999, WINDOW); c.follow(999)
  assert.equal(state.round, 12, 'a lone sender moves the round by the step past the round start')
  c.follow(999)
  assert.equal(state.round, 12, 'the step is per round, not per envelope')
  c.observe('b', 12, WINDOW); c.observe('c', 12, WINDOW); c.observe('a', 2_000, WINDOW); c.reset(13); state.round = 13
  c.follow(2_000)
  assert.equal(state.round, 13, 'three senders, median 12: the claim moves nothing')
})

test('non-Lamport rules (dpsgd) never follow, and catch up only beyond the window lead', () => {
  const { c, state } = clock({ follows: false })
  const w = { maxLag: 0, maxLead: 2 }
  c.observe('a', 2, w); c.observe('b', 2, w)
  c.follow(2)
  assert.equal(state.round, 0, 'within the lead: the rule handles it, the round stays')
  c.observe('a', 9, w); c.observe('b', 9, w)
  assert.equal(state.round, 9, 'beyond the lead: catch-up')
})

test('falling back: a peer that ran ahead alone adopts the upper median of two or more senders; one slow sender never pulls it back', () => {
  const { c, state } = clock()
  state.round = 500; c.reset(500)
  c.observe('slow', 400, WINDOW)
  assert.equal(state.round, 500, 'one sender far behind: no median, the round stays')
  c.observe('peer', 499, WINDOW)
  assert.equal(state.round, 500, 'upper median of {400, 499} is 499: within the window, the round stays')
  c.observe('third', 430, WINDOW)
  assert.equal(state.round, 430, 'upper median of {400, 430, 499} is 430: 70 rounds behind, the peer falls back to it')
  assert.equal(c.fellBack, 1, 'counted')
  assert.match(state.warns.at(-1) ?? '', /ahead of the network by 70 rounds .*falling back to round 430/, 'warned with the gap and the round')
  c.observe('third', 435, WINDOW)
  assert.equal(state.round, 430, 'within the window again: no more moves')
})

test('falling back counts only senders heard recently: members cut off by a partition do not pull the round back', () => {
  const { c, state } = clock({ horizonMs: 600_000, recentMs: 5_000 })
  state.round = 100; c.reset(100)
  c.observe('a', 100, WINDOW); c.observe('b', 100, WINDOW); c.observe('c', 100, WINDOW)
  // b and c are cut off: they are not heard again; a and this peer go on
  state.t = 10_000
  state.round = 200; c.reset(200)
  c.observe('a', 200, WINDOW)
  assert.equal(state.round, 200, 'the stale claims of b and c (heard 10 s ago) do not make the peer fall back')
  c.observe('b', 120, WINDOW); c.observe('c', 120, WINDOW)
  assert.equal(state.round, 120, 'heard again, 80 rounds behind: the peer falls back to them')
})
