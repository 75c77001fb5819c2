/**
 * Rule glm-newton on fixed statistics vectors: the push-sum numerators and weights, the de-biased estimate the
 * learner gets, and the refusal of malformed or out-of-bound statistics (sender-supplied numbers).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { peerEngine, simulatedNetwork, MemoryStore, UpdateKind, type PeerEngine, type Envelopes } from '../../protocol/engine/index.js'
import { createRng } from '../../protocol/rng.js'
import type { Learner, MetricValues, TrainResult } from '../../protocol/interfaces.js'
import { emptyWorking, glmFamily, statsLength, phaseOf, decodeWorking } from '../../learning/glm/index.js'
import { parseAveragingParams } from '../../protocol/engine/rules/index.js'
import { MemoryNetwork, StepClock } from './helpers.js'

const P = 2
const L = statsLength(P)
const DIM = L + 3

/** A learner whose statistics part is a fixed vector (the increment on its first read after `train`). */
class FixedStats implements Learner {
  readonly schemaHash = 'ef'.repeat(32)
  readonly numParams = DIM
  received: Float32Array | null = null
  private fresh = false
  constructor (readonly stats: Float32Array) {}
  numExamples (): number { return 10 }
  async train (): Promise<TrainResult> { this.fresh = true; return { steps: 1, loss: 0, examples: 10 } }
  weights (): Float32Array {
    const v = new Float32Array(DIM)
    v.set(this.fresh ? this.stats : emptyWorking(glmFamily('poisson'), P).data)
    this.fresh = false
    return v
  }

  setWeights (w: Float32Array): void { this.received = w.slice() }
  async evaluate (): Promise<MetricValues> { return {} }
}

function statsVector (seed: number): Float32Array {
  const s = emptyWorking(glmFamily('poisson'), P).data
  for (let i = 4; i < L; i++) s[i] = seed * (i + 1)
  return Float32Array.from(s)
}

function build (): { net: MemoryNetwork, a: PeerEngine, b: PeerEngine, la: FixedStats, lb: FixedStats, keys: string[], envelopes: Envelopes[] } {
  const rng = createRng('glm-rule')
  const sim = simulatedNetwork({ members: 2, rng: rng.fork('net'), schemaHash: 'ef'.repeat(32), numParams: DIM })
  const net = new MemoryNetwork()
  const keys = sim.members.map((m) => m.key)
  net.neighbours.set(keys[0], [keys[1]]) // a -> b only
  net.neighbours.set(keys[1], [])
  const la = new FixedStats(statsVector(1))
  const lb = new FixedStats(statsVector(3))
  const clock = new StepClock()
  const make = (i: number, l: FixedStats): PeerEngine => peerEngine({ averaging: { rule: 'glm-newton', phases: [1000] } as never, localSteps: 1, evaluateEveryRounds: 0 })({
    transport: net.transport(keys[i]), learner: l, store: new MemoryStore(), clock, rng: rng.fork(`p${i}`), envelopes: sim.members[i].envelopes, metrics: null
  })
  return { net, a: make(0, la), b: make(1, lb), la, lb, keys, envelopes: sim.members.map((m) => m.envelopes) }
}

test('glm-newton: a share is absorbed with its push-sum weight; the learner gets the de-biased estimate', async () => {
  const { net, a, b, lb } = build()
  await a.beginRound(); await b.beginRound()
  assert.equal(await net.deliverAll(), 1, 'a sends one share to b')
  await a.endRound(); await b.endRound()
  assert.equal(a.pushSumWeight, 0.5, 'a kept half of its weight')
  assert.equal(b.pushSumWeight, 1.5, 'b: its own weight plus the share; the sum of weights is the peer count')
  const sa = statsVector(1); const sb = statsVector(3)
  const est = lb.received as Float32Array
  for (let i = 4; i < L; i++) {
    const want = (sb[i] + 0.5 * sa[i]) / 1.5
    assert.ok(Math.abs(est[i] - want) <= 1e-6 * Math.abs(want), `slot ${i}: ${est[i]} vs (s_b + s_a / 2) / 1.5 = ${want}`)
  }
  assert.equal(est[0], -2, 'mid-phase the learner gets the HOLD mark (no Newton step)')
})

test('glm-newton: statistics with a wrong header, a non-finite or out-of-bound value or too many rows are refused MALFORMED', async () => {
  // each share goes to a fresh receiver: the engine's per-sender rate (RATE_LIMITED past a burst of 4 a round)
  // would refuse the later ones before their statistics are read
  const send = async (v: Float32Array, seq: number): Promise<string | null> => {
    const { b, keys, envelopes } = build()
    await b.init()
    const { bytes } = await envelopes[0].seal({ kind: UpdateKind.UPDATE, round: 0, seq, examples: 10, weight: 0.5, parents: [] }, v)
    return await b.handleMessage({ from: keys[0], bytes, via: 'direct' })
  }
  const good = new Float32Array(DIM); good.set(statsVector(1))
  assert.equal(await send(good, 1), null, 'a well-formed share is accepted')
  const family = good.slice(); family[1] = 2
  assert.equal(await send(family, 2), 'MALFORMED', 'another family code')
  const width = good.slice(); width[3] = 3
  assert.equal(await send(width, 3), 'MALFORMED', 'another width')
  const huge = good.slice(); huge[L - 1] = 1e30
  assert.equal(await send(huge, 4), 'MALFORMED', 'a value beyond maxStatistic')
  const rows = good.slice(); rows[4] = 2e6
  assert.equal(await send(rows, 5), 'MALFORMED', 'more rows than maxExampleCount')
})

test('decodeWorking names the field; phaseOf follows the schedule and repeats its last length', () => {
  const own = emptyWorking(glmFamily('poisson'), P)
  const v = Float64Array.from(own.data); v[5] = NaN
  assert.throws(() => decodeWorking(v, own, { maxRows: 1e6, maxValue: 1e15 }), (e: Error & { field?: string }) => e.name === 'GlmStatsError' && e.field === 'value[5]', 'non-finite value named')
  assert.throws(() => decodeWorking(v.subarray(0, L - 1), own, { maxRows: 1e6, maxValue: 1e15 }), (e: Error & { field?: string }) => e.field === 'length', 'length checked')
  assert.deepEqual([0, 1, 2, 3, 7, 8, 12, 13].map((r) => phaseOf(r, [3, 5])), [
    { phase: 0, last: false }, { phase: 0, last: false }, { phase: 0, last: true }, { phase: 1, last: false },
    { phase: 1, last: true }, { phase: 2, last: false }, { phase: 2, last: true }, { phase: 3, last: false }
  ], 'phases of 3 then 5 rounds')
  assert.throws(() => phaseOf(0, [0]), RangeError, 'a zero-length phase is refused')
})

test('track: true is refused unless the share bound is turned off explicitly (a tracked estimate cannot be screened)', () => {
  assert.throws(() => parseAveragingParams({ rule: 'glm-newton', track: true }, 'rule'),
    (e: Error) => e.name === 'InvalidAveragingParamsError' && /rule\.track/.test(e.message) && /bound: 'off'/.test(e.message), 'track with the default bound is refused, naming the field')
  const unguarded = parseAveragingParams({ rule: 'glm-newton', track: true, bound: 'off' }, 'rule') as { track: boolean, bound: unknown }
  assert.equal(unguarded.track, true, 'asked for explicitly, tracking runs')
  assert.equal(unguarded.bound, 'off', 'without the screen')
  const plain = parseAveragingParams({ rule: 'glm-newton' }, 'rule') as { track: boolean, bound: unknown }
  assert.ok(plain.track === false && plain.bound !== 'off', 'the default: no tracking, the screen on')
})
