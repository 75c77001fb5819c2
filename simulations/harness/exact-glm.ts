/**
 * The exact GLM in the simulator (rule glm-newton): the design and family a scenario's model implies, one
 * GlmNetworkLearner per peer over its shard, and the `exactGlm` task (every honest peer's coefficients and
 * network estimate, and on request the pooled fit on all training rows) that run.ts turns into
 * `results.exactGlm` (simulations/exact-glm.ts).
 */
import { sha256, toHex } from '../../crypto/index.js'
import type { Dataset } from '../../learning/dataset.js'
import type { Model } from '../../learning/model.js'
import { evaluateWeights } from '../../learning/learner.js'
import {
  computeStats, fitPooled, glmDesign, glmFamily, glmRows, GlmNetworkLearner, summarizeGlm, type GlmDesign, type GlmFamily
} from '../../learning/glm/index.js'
import type { ExactGlmPeer, ExactGlmPooled } from '../exact-glm.js'

export class ExactGlmSetupError extends Error {
  static override name = 'ExactGlmSetupError'
  override name = 'ExactGlmSetupError'
}

export interface ExactGlmSetup {
  design: GlmDesign
  family: GlmFamily
  schemaHash: string
  numParams: number
  learner: (rows: Uint32Array, evaluate: (model: Float32Array, split: 'local' | 'test') => Record<string, number>) => GlmNetworkLearner
  /** The pooled maximum-likelihood fit on every training row (the reference). */
  pooled: () => ExactGlmPooled
  /** The deviance and predicted / observed of given coefficients on every training row (exact). */
  trainFit: (coefficients: readonly number[]) => { deviance: number, predictedOverObserved: number }
  /** What the exactGlm task reports of one peer. */
  describe: (index: number, learner: GlmNetworkLearner) => ExactGlmPeer
}

/** The family of a linear model: poisson-glm -> poisson (log, offset log exposure), logistic -> binomial. */
function familyOf (model: Model): GlmFamily {
  switch (model.spec.type) {
    case 'poisson-glm': return glmFamily('poisson')
    case 'logistic': return glmFamily('binomial')
    default: throw new ExactGlmSetupError(`rule glm-newton fits an exact GLM: the model must be poisson-glm or logistic, not '${model.spec.type}'`)
  }
}

export function exactGlmSetup (dataset: Dataset, model: Model, options: { phases?: readonly number[] } = {}): ExactGlmSetup {
  const family = familyOf(model)
  const design = glmDesign(dataset)
  if (model.numParams !== design.numFeatures + 1) throw new ExactGlmSetupError(`the model has ${model.numParams} weights, the GLM design reads ${design.numFeatures} features and a bias`)
  const schemaHash = toHex(sha256(new TextEncoder().encode(JSON.stringify({ exactGlm: 1, family: family.name, names: design.names }))))
  const probe = new GlmNetworkLearner({ design, family, rows: glmRows(dataset), numExamples: 0, schemaHash })
  const base = glmRows(dataset)
  return {
    design,
    family,
    schemaHash,
    numParams: probe.numParams,
    learner: (rows, evaluate) => new GlmNetworkLearner({ design, family, rows: { ...base, rows }, numExamples: rows.length, schemaHash, evaluate, phases: options.phases }),
    pooled: () => {
      const fit = fitPooled(design, family, glmRows(dataset, dataset.train))
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
      const st = computeStats(design, family, glmRows(dataset, dataset.train), Float64Array.from(coefficients), 0)
      return { deviance: st.deviance, predictedOverObserved: st.sumWMu / st.sumWY }
    },
    describe: (index, learner) => {
      const est = learner.networkEstimate()
      return {
        index,
        coefficients: Array.from(learner.coefficients()),
        history: learner.history().map((b) => Array.from(b)),
        estimate: est == null ? null : { n: est.n, deviance: est.deviance, sumWY: est.sumWY, sumWMu: est.sumWMu }
      }
    }
  }
}
