/**
 * The exact GLM in the simulator (rule glm-newton): the design and family a scenario's model implies, one
 * GlmNetworkLearner per peer over its shard, and the `exactGlm` task (every honest peer's coefficients and
 * network estimate, and on request the pooled fit on all training rows) that run.ts turns into
 * `results.exactGlm` (simulations/exact-glm.ts).
 */
import type { Dataset } from '../../learning/dataset.js'
import type { Model } from '../../learning/model.js'
import { evaluateWeights } from '../../learning/learner.js'
import {
  computeStats, exactGlmFor, fitFromEstimate, formatGlmSummary, type GlmSummary, fitPooled, glmRows, summarizeGlm, type GlmDesign, type GlmFamily, type GlmNetworkLearner
} from '../../learning/glm/index.js'
import type { PeerPrivacy } from '../../learning/privacy/index.js'
import type { ExactGlmPeer, ExactGlmPooled } from '../exact-glm.js'

export interface ExactGlmSetup {
  design: GlmDesign
  family: GlmFamily
  schemaHash: string
  numParams: number
  learner: (rows: Uint32Array, evaluate: (model: Float32Array, split: 'local' | 'test') => Record<string, number>, privacy?: PeerPrivacy) => GlmNetworkLearner
  /** The pooled maximum-likelihood fit on every training row (the reference). */
  pooled: () => ExactGlmPooled
  /** The deviance and predicted / observed of given coefficients on every training row (exact). */
  trainFit: (coefficients: readonly number[]) => { deviance: number, predictedOverObserved: number }
  /** The coefficient table (R's summary(glm)) from a peer's network estimate, for `peers` peers. */
  table: (learner: GlmNetworkLearner, peers: number) => { summary: GlmSummary, text: string } | null
  /** What the exactGlm task reports of one peer. */
  describe: (index: number, learner: GlmNetworkLearner) => ExactGlmPeer
}

/**
 * `trainRows`: the rows the peers train on, together (the pooled fit's rows; without the personal models'
 * validation rows when the scenario holds them out, as the centralized baseline does).
 */
export function exactGlmSetup (dataset: Dataset, model: Model, trainRows: Uint32Array = dataset.train): ExactGlmSetup {
  const glm = exactGlmFor(dataset, model)
  const { design, family } = glm
  const probe = glm.learner(new Uint32Array(0))
  return {
    design,
    family,
    schemaHash: glm.schemaHash,
    numParams: glm.numParams,
    learner: (rows, evaluate, privacy) => glm.learner(rows, { evaluate, privacy }),
    pooled: () => {
      const fit = fitPooled(design, family, glmRows(dataset, trainRows))
      const s = summarizeGlm(fit, design.references)
      return {
        names: [...design.names],
        coefficients: Array.from(fit.coefficients, (b) => Number.isNaN(b) ? null : b),
        iterations: fit.iterations,
        deviance: s.deviance,
        predictedOverObserved: s.ratio,
        rows: fit.stats.n,
        testMetrics: evaluateWeights(model, dataset, dataset.test, probe.modelWeights(Float64Array.from(fit.coefficients, (b) => Number.isNaN(b) ? 0 : b)))
      }
    },
    trainFit: (coefficients) => {
      const st = computeStats(design, family, glmRows(dataset, trainRows), Float64Array.from(coefficients), 0)
      return { deviance: st.deviance, predictedOverObserved: st.sumWMu / st.sumWY }
    },
    table: (learner, peers) => {
      const est = learner.steppedEstimate() ?? learner.networkEstimate()
      if (est == null) return null
      const summary = summarizeGlm(fitFromEstimate(design, family, est, peers), design.references)
      return { summary, text: formatGlmSummary(summary) }
    },
    describe: (index, learner) => {
      const est = learner.networkEstimate()
      return {
        index,
        coefficients: Array.from(learner.coefficients()),
        history: learner.history().map((b) => Array.from(b)),
        privateRidge: learner.privateRidge(),
        ...(learner.privacy != null ? { privateClippedShare: learner.privateClippedShare() } : {}),
        estimate: est == null ? null : { n: est.n, deviance: est.deviance, sumWY: est.sumWY, sumWMu: est.sumWMu }
      }
    }
  }
}

/** The peer environment's exact-GLM tasks (run.ts): null results when the scenario's rule is not glm-newton. */
export function exactGlmTasks (exact: ExactGlmSetup | null, glmLearners: ReadonlyMap<number, GlmNetworkLearner>, init: { owned: number[], adversaries: number[] }, peers: number): Record<string, (args: any) => Promise<unknown>> {
  return {
    /** rule glm-newton: each honest peer's coefficients and estimate, and the pooled fit when asked. */
    exactGlm: async (args: { pooled: boolean }) => exact == null
      ? null
      : {
          pooled: args.pooled ? exact.pooled() : null,
          peers: init.owned.filter((i) => !init.adversaries.includes(i) && glmLearners.has(i)).map((i) => exact.describe(i, glmLearners.get(i) as GlmNetworkLearner))
        },
    exactGlmTrainFit: async (args: { coefficients: number[] }) => exact?.trainFit(args.coefficients) ?? null,
    exactGlmTable: async (args: { index: number }) => {
      const l = glmLearners.get(args.index)
      return exact != null && l != null ? exact.table(l, peers) : null
    }
  }
}
