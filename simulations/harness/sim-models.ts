/** The model names a simulator scenario may use, and how a scenario's `model` becomes a model spec. */
import type { ModelSpecInput } from '../../learning/specs.js'
import type { Scenario } from '../scenario.js'

export class SimulationSetupError extends Error {
  static override name = 'SimulationSetupError'
  override name = 'SimulationSetupError'
}

/** Model names a scenario may use, with settings that suit gossip training (plain SGD). */
export const SIM_MODELS: Record<string, ModelSpecInput> = {
  softmax: { type: 'softmax', optimizer: { type: 'sgd', learningRate: 0.2 } },
  logistic: { type: 'logistic', optimizer: { type: 'sgd', learningRate: 0.2 } },
  mlp: { type: 'mlp', hidden: [64], optimizer: { type: 'sgd', learningRate: 0.1 } },
  'mlp-small': { type: 'mlp', hidden: [32], optimizer: { type: 'sgd', learningRate: 0.1 } },
  'poisson-glm': { type: 'poisson-glm', optimizer: { type: 'sgd', learningRate: 0.05 } },
  'poisson-mlp': { type: 'poisson-mlp', hidden: [32, 16], optimizer: { type: 'sgd', learningRate: 0.02 } }
}

export function resolveModelSpec (model: Scenario['model']): ModelSpecInput {
  if (typeof model !== 'string') return model as unknown as ModelSpecInput
  const spec = SIM_MODELS[model]
  if (spec == null) throw new SimulationSetupError(`unknown model '${model}': use one of ${Object.keys(SIM_MODELS).join(', ')} or an inline spec`)
  return spec
}
