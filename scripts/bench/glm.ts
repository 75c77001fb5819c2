/**
 * `npm run bench -- glm [--quick]`: the exact GLM on freMTPL2freq (the built-in fremtpl2freq spec, all rows,
 * Poisson with offset log(Exposure)): the pooled fit, the same fit from the summed statistics of 22 peers (one
 * per Region), and, when MURMUR_GLM_R_REFERENCE names the JSON written by scripts/r/fremtpl-glm.R, R's glm on
 * the same design. --quick reads the first 100k rows and skips the R comparison.
 *
 * Keys:
 *  - `pooled.{iterations,rounds,seconds,deviance,nullDeviance,predictedOverObserved}`: the pooled fit.
 *  - `regions.{peers,rounds,roundsTo1e-3,maxAbsCoefDiff,devianceRelDiff,bytesPerPeerRound,seconds}`: the 22
 *    peers; maxAbsCoefDiff is against the pooled fit (design scale), roundsTo1e-3 the first round whose shared
 *    coefficients are all within 1e-3 of the pooled ones.
 *  - `r.{maxAbsCoefDiff,maxStdErrorRelDiff,devianceRelDiff,iterations}`: against R (null without the file).
 *  - `network.*`: the exact GLM over the network, the fremtpl-regions scenario as built in (rule glm-newton, 220
 *    peers, 30 rounds; --quick: 22 peers), real engines and envelopes in the simulator; results.exactGlm's
 *    figures (maxAbsCoefDiff and roundsTo1e3 against the pooled fit, the worst peer's deviance and totals on every
 *    training row, the push-sum estimate's deviance) and the bytes and wall time.
 */
import { existsSync, readFileSync } from 'node:fs'
import type { BenchValue } from '../bench.ts'
import { BUILTIN_DATASETS, loadDataset } from '../../learning/builtin.js'
import { loadScenario } from '../../simulations/scenario.js'
import { runScenario } from '../../simulations/run.js'
import {
  glmDesign, glmFamily, glmRows, glmRowsByPartition, fitPooled, simulateDecentralized, summarizeGlm
} from '../../learning/glm/index.js'

export const name = 'glm'

export async function run ({ quick, signal }: { quick: boolean, signal?: AbortSignal }): Promise<Record<string, BenchValue>> {
  const out: Record<string, BenchValue> = {}
  const data = await loadDataset({ ...BUILTIN_DATASETS.fremtpl2freq, testFraction: 0 }, { maxRows: quick ? 100_000 : undefined, signal })
  out.rows = data.train.length
  const design = glmDesign(data)
  const family = glmFamily('poisson')
  out.columns = design.p
  let t0 = performance.now()
  const pooled = fitPooled(design, family, glmRows(data, data.train))
  out['pooled.seconds'] = (performance.now() - t0) / 1000
  const ps = summarizeGlm(pooled, design.references)
  out['pooled.iterations'] = ps.iterations
  out['pooled.rounds'] = ps.rounds
  out['pooled.deviance'] = ps.deviance
  out['pooled.nullDeviance'] = ps.nullDeviance
  out['pooled.aliased'] = ps.aliasedCount
  out['pooled.predictedOverObserved'] = ps.ratio

  const peers = glmRowsByPartition(data, data.train)
  t0 = performance.now()
  const dec = simulateDecentralized(design, family, peers.map((p) => p.rows))
  out['regions.seconds'] = (performance.now() - t0) / 1000
  out['regions.peers'] = peers.length
  out['regions.rounds'] = dec.fit.rounds
  const within = (beta: ArrayLike<number>, tol: number): boolean => {
    for (let j = 0; j < design.p; j++) if (pooled.aliased[j] === 0 && !(Math.abs(beta[j] - pooled.coefficients[j]) <= tol)) return false
    return true
  }
  out['regions.roundsTo1e-3'] = (dec.trace.findIndex((t) => within(t.beta, 1e-3)) + 1) || null
  let maxDiff = 0
  for (let j = 0; j < design.p; j++) if (pooled.aliased[j] === 0) maxDiff = Math.max(maxDiff, Math.abs(dec.fit.coefficients[j] - pooled.coefficients[j]))
  out['regions.maxAbsCoefDiff'] = maxDiff
  out['regions.devianceRelDiff'] = Math.abs(dec.fit.stats.deviance - pooled.stats.deviance) / pooled.stats.deviance
  out['regions.predictedOverObserved'] = summarizeGlm(dec.fit).ratio
  out['regions.bytesPerPeerRound'] = dec.bytesPerPeerRound

  t0 = performance.now()
  const scenario = await loadScenario('fremtpl-regions', quick ? { peers: 22 } : {})
  const res = await runScenario(scenario, { baselines: false, variants: false, signal })
  const e = res.exactGlm
  out['network.peers'] = scenario.peers
  out['network.rounds'] = scenario.rounds
  out['network.seconds'] = (performance.now() - t0) / 1000
  out['network.bytesPerPeerPerRound'] = res.bytesPerPeerPerRound
  out['network.maxAbsCoefDiff'] = e?.maxAbsCoefDiff ?? null
  out['network.worstColumn'] = e?.worstColumn ?? null
  out['network.roundsTo1e-3'] = e?.roundsTo1e3 ?? null
  out['network.worstPeerDevianceRelDiff'] = e?.worstPeerDevianceRelDiff ?? null
  out['network.deviance5Digits'] = e?.deviance5Digits ?? null
  out['network.worstPeerPredictedOverObserved'] = e?.worstPeerPredictedOverObserved ?? null
  out['network.estimatedDevianceRelDiff'] = e?.devianceRelDiff ?? null
  out['network.estimatedPredictedOverObservedWorst'] = e?.predictedOverObservedWorst ?? null
  out['network.testPoissonDeviance'] = res.decentralized.mean

  const refPath = process.env.MURMUR_GLM_R_REFERENCE
  out['r.maxAbsCoefDiff'] = null
  if (!quick && refPath != null && existsSync(refPath)) {
    const r = JSON.parse(readFileSync(refPath, 'utf8')) as { names: string[], estimate: Array<number | null>, stdError: Array<number | null>, deviance: number, iter: number, rows: number }
    if (r.rows !== data.train.length) throw new Error(`${refPath}: R fitted ${r.rows} rows, the bench ${data.train.length}`)
    let dc = 0; let ds = 0; let missing = 0
    r.names.forEach((n, k) => {
      const j = design.names.indexOf(n)
      const est = r.estimate[k]
      if (j < 0 || est == null) { missing++; return }
      dc = Math.max(dc, Math.abs(pooled.coefficients[j] - est))
      ds = Math.max(ds, Math.abs(ps.coefficients[j].stdError - r.stdError[k]!) / r.stdError[k]!)
    })
    out['r.maxAbsCoefDiff'] = dc
    out['r.maxStdErrorRelDiff'] = ds
    out['r.devianceRelDiff'] = Math.abs(ps.deviance - r.deviance) / r.deviance
    out['r.iterations'] = r.iter
    out['r.unmatchedNames'] = missing
  }
  return out
}
