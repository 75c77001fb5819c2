/**
 * The daemon's seams to the learning layer (a Learner over a local, growing CSV file) and to the engine's
 * envelope layer (sealing and validating under the network's keyring). Kept apart from peer-node.ts so the
 * wiring stays in one readable place.
 */
import type { Learner } from '../protocol/interfaces.js'
import type { Envelopes } from '../protocol/engine/index.js'
import type { Identity } from '../crypto/index.js'
import type { Keyring, NetworkManifest } from '../protocol/membership/index.js'

/** A Learner whose local data can grow while the daemon runs. */
export interface DaemonLearner extends Learner {
  /** Appends CSV records (already split into fields) read from `source`; returns how many rows were added. */
  appendRecords?: (records: string[][], source: string) => number
  /** Evaluates the given weights (or the current ones) on another data file with the same schema. */
  evaluateFile?: (path: string) => Promise<Record<string, number>>
  /** Writes a TF.js layers model (model.json + weights) that `tf.loadLayersModel` opens. */
  exportModel?: (dir: string) => Promise<{ files: string[] }>
  /** Bytes of the data file consumed by the initial load (continuous learning tails from there). */
  loadedBytes?: number
  /** Primary metric name and direction (e.g. accuracy, higher is better). */
  primaryMetric?: { name: string, higherIsBetter: boolean }
}

export interface LearnerInit {
  manifest: NetworkManifest
  /** The data file (or the first file of a data directory). */
  dataFile: string
  seed: number
  backend: string
  signal?: AbortSignal
}

export class WiringUnavailableError extends Error {
  static override name = 'WiringUnavailableError'
  override name = 'WiringUnavailableError'
}

const LEARNING = '../learning/index.js'
const ENGINE = '../protocol/engine/index.js'

/** Builds the daemon's learner through the learning layer (`createLearner` in learning/index.ts). */
export async function createDaemonLearner (init: LearnerInit): Promise<DaemonLearner> {
  let mod: Record<string, unknown>
  try {
    mod = await import(LEARNING) as Record<string, unknown>
  } catch (err) {
    throw new WiringUnavailableError(`the learning layer (learning/index.ts) cannot be loaded: ${(err as Error).message}`)
  }
  const create = mod.createLearner as ((o: unknown) => Promise<DaemonLearner>) | undefined
  if (typeof create !== 'function') throw new WiringUnavailableError('learning/index.ts has no createLearner yet')
  return await create({
    model: init.manifest.model,
    dataset: init.manifest.dataset.spec,
    dataFile: init.dataFile,
    seed: init.seed,
    backend: init.backend,
    signal: init.signal
  })
}

export interface EnvelopesInit {
  manifest: NetworkManifest
  keyring: Keyring
  identity: Identity
  schemaHash: string
  numParams: number
  maxBytes: number
}

/** Builds the engine's envelope layer (`sealedEnvelopes` in protocol/engine). */
export async function createDaemonEnvelopes (init: EnvelopesInit): Promise<Envelopes> {
  const mod = await import(ENGINE) as Record<string, unknown>
  const make = mod.sealedEnvelopes as ((o: unknown) => Envelopes) | undefined
  if (typeof make !== 'function') throw new WiringUnavailableError('protocol/engine has no sealedEnvelopes yet')
  return make(init)
}
