/**
 * The exact GLM of a loaded dataset and its linear model (simulator and daemon alike): the design, the family
 * the model implies (poisson-glm: poisson with offset log exposure; logistic: binomial), the schema hash peers
 * share (family and column names), and GlmNetworkLearners over row subsets.
 */
import { sha256, toHex } from '../../crypto/index.js'
import type { MetricValues } from '../../protocol/interfaces.js'
import type { Dataset } from '../dataset.js'
import type { Model } from '../model.js'
import { glmDesign, type GlmDesign } from './design.js'
import { glmFamily, type GlmFamily } from './family.js'
import { glmRows } from './rows.js'
import { GlmNetworkLearner } from './network-learner.js'
import { GlmDesignError } from './errors.js'
import type { PeerPrivacy } from '../privacy/peer.js'

export interface ExactGlm {
  design: GlmDesign
  family: GlmFamily
  schemaHash: string
  /** Length of a GlmNetworkLearner's vector. */
  numParams: number
  learner: (rows: Uint32Array, options?: { evaluate?: (model: Float32Array, split: 'local' | 'test') => MetricValues, privacy?: PeerPrivacy }) => GlmNetworkLearner
}

/** The family of a linear model type, or an error naming it. */
export function familyOfModel (type: string): GlmFamily {
  switch (type) {
    case 'poisson-glm': return glmFamily('poisson')
    case 'logistic': return glmFamily('binomial')
    default: throw new GlmDesignError(`rule glm-newton fits an exact GLM: the model must be poisson-glm or logistic, not '${type}'`)
  }
}

export function exactGlmFor (dataset: Dataset, model: Model): ExactGlm {
  const family = familyOfModel(model.spec.type)
  const design = glmDesign(dataset)
  if (model.numParams !== design.numFeatures + 1) throw new GlmDesignError(`the model has ${model.numParams} weights, the GLM design reads ${design.numFeatures} features and a bias`)
  const schemaHash = toHex(sha256(new TextEncoder().encode(JSON.stringify({ exactGlm: 1, family: family.name, names: design.names }))))
  const base = glmRows(dataset)
  const make = (rows: Uint32Array, options: Parameters<ExactGlm['learner']>[1] = {}): GlmNetworkLearner =>
    new GlmNetworkLearner({ design, family, rows: { ...base, rows }, numExamples: rows.length, schemaHash, evaluate: options.evaluate, privacy: options.privacy })
  return { design, family, schemaHash, numParams: make(new Uint32Array(0)).numParams, learner: make }
}
