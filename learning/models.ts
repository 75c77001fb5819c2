/**
 * Building models: built-in model specs by name, spec resolution (name, JSON file, JSON text, object), and a
 * per-thread cache of shared `Model` runtimes (`sharedModel`) so that many peers use one.
 */
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { Model, type ModelInfo } from './model.js'
import { parseModelSpec, type ModelSpec, type ModelSpecInput } from './specs.js'
import { InvalidSpecError } from './errors.js'
import { ensureBackend } from './backend.js'

export const BUILTIN_MODELS: Record<string, ModelSpecInput> = {
  logistic: { type: 'logistic', optimizer: { type: 'adam', learningRate: 0.01 } },
  softmax: { type: 'softmax', optimizer: { type: 'adam', learningRate: 0.01 } },
  linear: { type: 'linear', optimizer: { type: 'adam', learningRate: 0.01 } },
  mlp: { type: 'mlp', hidden: [128], activation: 'relu', optimizer: { type: 'adam', learningRate: 0.003 } },
  'poisson-glm': { type: 'poisson-glm', batchSize: 512, optimizer: { type: 'adam', learningRate: 0.01 } },
  /** For 28x28 grey images (mnist); trains on cpu / tensorflow backends only. */
  cnn: { type: 'cnn', inputShape: [28, 28, 1], conv: [{ filters: 8, kernel: 3, pool: 2 }, { filters: 16, kernel: 3, pool: 2 }], hidden: [64], optimizer: { type: 'adam', learningRate: 0.001 } },
  'poisson-mlp': { type: 'poisson-mlp', hidden: [20, 15, 10], activation: 'tanh', batchSize: 512, optimizer: { type: 'adam', learningRate: 0.002 } }
}
export const BUILTIN_MODEL_NAMES = Object.keys(BUILTIN_MODELS)

/** A model argument: built-in name, JSON spec file, JSON text, or spec object -> validated spec. */
export function resolveModelSpec (specOrName: string | ModelSpecInput): ModelSpec {
  if (typeof specOrName !== 'string') return parseModelSpec(specOrName)
  const s = specOrName.trim()
  if (Object.hasOwn(BUILTIN_MODELS, s)) return parseModelSpec(BUILTIN_MODELS[s])
  let value: unknown
  if (s.startsWith('{')) {
    try { value = JSON.parse(s) } catch (err) { throw new InvalidSpecError(`invalid model spec: not valid JSON (${(err as Error).message})`, 'model') }
  } else if (existsSync(resolve(s))) {
    try { value = JSON.parse(readFileSync(resolve(s), 'utf8')) } catch (err) { throw new InvalidSpecError(`invalid model spec: ${s} is not valid JSON (${(err as Error).message})`, 'model') }
  } else {
    throw new InvalidSpecError(`unknown model '${s}': use a built-in name (${BUILTIN_MODEL_NAMES.join(', ')}), a JSON spec file or JSON text`, 'model')
  }
  // a spec may name a built-in as its base: { "type": "mlp", "hidden": [64] } is complete on its own
  return parseModelSpec(value)
}

/**
 * Builds a model runtime after making sure a TF.js backend is active (wasm by default).
 *
 * @example
 * ```ts
 * const model = await buildModel('mlp', dataset.info)
 * const w = model.initialWeights(42)
 * ```
 */
export async function buildModel (specOrName: string | ModelSpecInput, info: ModelInfo): Promise<Model> {
  const spec = resolveModelSpec(specOrName)
  await ensureBackend()
  return new Model(spec, info)
}

const cache = new Map<string, Model>()

/**
 * The shared runtime for a spec and input shape in this thread: every peer with the same spec gets the same
 * `Model`, and keeps only its own weights and optimizer state.
 */
export async function sharedModel (specOrName: string | ModelSpecInput, info: ModelInfo): Promise<Model> {
  const spec = resolveModelSpec(specOrName)
  const key = JSON.stringify([spec, info.inputDim, info.task, info.numClasses ?? 0])
  let m = cache.get(key)
  if (m == null) {
    await ensureBackend()
    m = new Model(spec, info)
    cache.set(key, m)
  }
  return m
}

/** Disposes every cached shared model (tests, end of a simulation). */
export function disposeSharedModels (): void {
  for (const m of cache.values()) m.dispose()
  cache.clear()
}
