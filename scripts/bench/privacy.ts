/**
 * `npm run bench -- privacy [--quick]`: the built-in `privacy` scenario (issue 17: 50 peers, 50 UCI Adult rows
 * each, an MLP, DP-SGD at epsilon 8 and delta 1e-5 per peer, every member attacking a neighbour's updates by
 * loss-threshold membership inference; the same run without privacy beside it), for several seeds
 * (MURMUR_PRIVACY_SEEDS, default 17,18,19; MURMUR_PRIVACY_EPSILON replaces the budget), baselines off.
 * --quick: 10 peers, 3 rounds, one seed.
 *
 * Keys, per seed `s<seed>.`: epsilon (largest spent), attackAuc, attackAucWithoutPrivacy, liraAuc,
 * liraAucWithoutPrivacy (the offline likelihood-ratio attack, references: the other neighbours' models), metric,
 * metricWithoutPrivacy, costPoints (in the goal metric, AUC), accuracy, accuracyWithoutPrivacy, accuracyCostPoints
 * (the goal's), goalsPassed (of 4), seconds; and `mean.` of the attack AUCs and both costs over the seeds.
 */
import type { BenchValue } from '../bench.ts'
import { loadScenario } from '../../simulations/scenario.js'
import { runScenario } from '../../simulations/run.js'

export const name = 'privacy'

export async function run ({ quick, signal }: { quick: boolean, signal?: AbortSignal }): Promise<Record<string, BenchValue>> {
  const out: Record<string, BenchValue> = {}
  const seeds = quick ? [17] : (process.env.MURMUR_PRIVACY_SEEDS ?? '17,18,19').split(',').map(Number)
  const epsilon = process.env.MURMUR_PRIVACY_EPSILON == null ? null : Number(process.env.MURMUR_PRIVACY_EPSILON)
  if (epsilon != null && !(epsilon > 0)) throw new Error(`privacy bench: MURMUR_PRIVACY_EPSILON ${process.env.MURMUR_PRIVACY_EPSILON} is not a positive number`)
  const sums = { attackAuc: 0, attackAucWithoutPrivacy: 0, liraAuc: 0, liraAucWithoutPrivacy: 0, costPoints: 0, accuracyCostPoints: 0 }
  for (const seed of seeds) {
    const scenario = await loadScenario('privacy', { seed, ...(quick ? { peers: 10, rounds: 3 } : {}), ...(epsilon != null ? { privacy: { epsilon } } : {}) })
    const t0 = performance.now()
    const r = await runScenario(scenario, { baselines: false, signal })
    const p = r.privacy
    if (p == null) throw new Error('the privacy scenario returned no privacy section')
    const cost = p.metricWithoutPrivacy != null && r.decentralized.mean != null ? (p.metricWithoutPrivacy - r.decentralized.mean) * 100 : null
    const accuracy = r.decentralized.metrics?.accuracy
    const accuracyCost = accuracy != null && p.metricsWithoutPrivacy.accuracy != null ? (p.metricsWithoutPrivacy.accuracy - accuracy) * 100 : null
    const k = `s${seed}.`
    out[k + 'epsilon'] = p.epsilon
    out[k + 'attackAuc'] = p.attackAuc
    out[k + 'attackAucWithoutPrivacy'] = p.attackAucWithoutPrivacy
    out[k + 'liraAuc'] = p.liraAuc
    out[k + 'liraAucWithoutPrivacy'] = p.liraAucWithoutPrivacy
    out[k + 'metric'] = r.decentralized.mean
    out[k + 'metricWithoutPrivacy'] = p.metricWithoutPrivacy
    out[k + 'costPoints'] = cost
    out[k + 'accuracy'] = accuracy ?? null
    out[k + 'accuracyWithoutPrivacy'] = p.metricsWithoutPrivacy.accuracy ?? null
    out[k + 'accuracyCostPoints'] = accuracyCost
    out[k + 'goalsPassed'] = r.details.goals.filter((g) => g.pass === true).length
    out[k + 'seconds'] = (performance.now() - t0) / 1000
    sums.attackAuc += p.attackAuc ?? NaN
    sums.attackAucWithoutPrivacy += p.attackAucWithoutPrivacy ?? NaN
    sums.liraAuc += p.liraAuc ?? NaN
    sums.liraAucWithoutPrivacy += p.liraAucWithoutPrivacy ?? NaN
    sums.costPoints += cost ?? NaN
    sums.accuracyCostPoints += accuracyCost ?? NaN
  }
  for (const [key, v] of Object.entries(sums)) out[`mean.${key}`] = v / seeds.length
  return out
}
