/**
 * Bounded influence of rule glm-newton (learning/glm/share-bound.ts): a member sending plausible-looking but
 * false statistics (its gradient x1000, its Fisher block x1000 or /1000) is refused IMPLAUSIBLE_STATISTICS by
 * default and the honest peers' fit stays where the clean run puts it; with `bound: 'off'` the same attack
 * moves the fit. Synthetic Poisson frequency data, 10 peers of 150 rows, peer 0 the attacker.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Behaviour } from '../../protocol/engine/index.js'
import { statsLength, STATS_HEADER, GlmStats, screenShare, workingStats, glmFamily } from '../../learning/glm/index.js'
import { buildWorld, runRounds, maxDiffFrom, synthRows, type SynthWorld } from './glm-peers.js'

const PEERS = 10
const ROWS = 150
const ROUNDS = 40
const PHASES = [3, 6, 6, 6, 19]

/** Multiplies slots [from, to) of every outgoing statistics vector by `factor`. */
function scaleSlots (name: string, factor: number, from: (p: number) => number, to: (p: number) => number): Behaviour {
  return {
    name,
    outgoing: (update) => {
      const w = update.weights.slice()
      const p = w[3]
      for (let i = from(p); i < to(p); i++) w[i] *= factor
      return { ...update, weights: w }
    }
  }
}
const gradient = (factor: number): Behaviour => scaleSlots(`gradient x${factor}`, factor, () => STATS_HEADER, (p) => STATS_HEADER + p)
const fisher = (factor: number): Behaviour => scaleSlots(`fisher x${factor}`, factor, (p) => STATS_HEADER + p, (p) => statsLength(p))

async function run (attacker: Behaviour | undefined, bound?: 'off'): Promise<SynthWorld> {
  const w = buildWorld({ peers: PEERS, rowsPerPeer: ROWS, attacker, averaging: { phases: PHASES, ...(bound != null ? { bound } : {}) } })
  await runRounds(w, ROUNDS)
  return w
}

const refusedAs = (w: SynthWorld, reason: string): number => w.peers.reduce((s, p) => s + ((p.engine.totals().refused as Record<string, number>)[reason] ?? 0), 0)

test('glm-newton bound: a gradient x1000 or a Fisher block x1000 or /1000 is refused and the honest fit stays put; unbounded it moves', async () => {
  const clean = await run(undefined)
  const reference = Array.from(clean.pooled.coefficients)
  const cleanDiff = maxDiffFrom(clean, reference)
  assert.ok(cleanDiff < 1e-4, `the clean run reaches the pooled fit (${cleanDiff})`)
  assert.equal(refusedAs(clean, 'IMPLAUSIBLE_STATISTICS'), 0, 'no honest share refused')
  const cleanFit = Array.from(clean.peers[1].learner.coefficients())
  for (const attack of [gradient(1000), fisher(1000), fisher(1e-3)]) {
    const guarded = await run(attack)
    const moved = maxDiffFrom(guarded, cleanFit, 1)
    assert.ok(moved < 0.05, `${attack.name ?? ''}: the honest peers' fit within 0.05 of the clean run's with the bound (moved ${moved})`)
    assert.ok(refusedAs(guarded, 'IMPLAUSIBLE_STATISTICS') > 0, `${attack.name ?? ''}: the attacker's shares are refused IMPLAUSIBLE_STATISTICS`)
    const open = await run(attack, 'off')
    const movedOpen = maxDiffFrom(open, cleanFit, 1)
    assert.ok(movedOpen > 0.5, `${attack.name ?? ''}: without the bound the same attack moves the fit (moved ${movedOpen})`)
  }
})

test('screenShare: an honest peer\'s own statistics pass; a scaled score, a negative count or an indefinite Fisher block are named', () => {
  const { design, rows } = synthRows(2, 200)
  const family = glmFamily('poisson')
  const beta = new Float64Array(design.p); beta[0] = -1.2; beta[design.p - 1] = 0.2
  const own = workingStats(design, family, { ...rows, rows: Uint32Array.from({ length: 200 }, (_, r) => 2 * r) }, beta, -1.2)
  const other = workingStats(design, family, { ...rows, rows: Uint32Array.from({ length: 200 }, (_, r) => 2 * r + 1) }, beta, -1.2)
  const ref = { own, beta, unitDispersion: true }
  const bounds = { scoreRatio: 16, scaleRatio: 100 }
  assert.equal(screenShare(other, ref, bounds), null, 'another honest peer\'s statistics pass')
  const scaled = other.clone(); for (let i = 0; i < design.p; i++) scaled.score[i] *= 1000
  assert.match(screenShare(scaled, ref, bounds) ?? '', /score statistic/, 'a score x1000 is outside the Pearson ellipsoid')
  const negative = other.clone(); negative.data[4] = -5
  assert.match(screenShare(negative, ref, bounds) ?? '', /^n -5 is negative/, 'a negative count is named')
  const indefinite = other.clone(); indefinite.info[1] = 10 * (indefinite.info[0] + indefinite.info[design.p])
  assert.match(screenShare(indefinite, ref, bounds) ?? '', /positive semi-definite/, 'an off-diagonal larger than the diagonals allow is refused')
  const huge = new GlmStats(other.data.slice()).scale(1)
  for (let i = STATS_HEADER + design.p; i < huge.data.length; i++) huge.data[i] *= 1000
  for (let i = 0; i < design.p; i++) huge.score[i] *= 1000
  assert.match(screenShare(huge, ref, bounds) ?? '', /Fisher trace/, 'Fisher and score scaled together meet the per-row scale bound')
})
