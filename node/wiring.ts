/**
 * The daemon's seams to the learning layer (a Learner over the peer's own, growing CSV file) and to the
 * engine's envelope layer (sealing and validating under the network's keyring).
 */
import { resolve } from 'node:path'
import { statSync } from 'node:fs'
import { PeerNodeConfigError } from './errors.js'
import type { Learner } from '../protocol/interfaces.js'
import { sealedEnvelopes, type Envelopes } from '../protocol/engine/index.js'
import { createSigner, type Identity } from '../crypto/index.js'
import type { Keyring, NetworkManifest } from '../protocol/membership/index.js'
import { updateMessageLimit } from './transport/message-limit.js'
import { PeerPrivacy, cryptoNormal, parsePrivacySpec, type AccountantState, type PrivacyStatus } from '../learning/privacy/index.js'
import {
  createLearner, ensureBackend, setBackend, loadDatasetFromSpec, resolveDatasetSpec, sharedModel, primaryMetric, evaluateWeights,
  type Dataset, type DatasetLearner, type Model, type BackendName, type BadRows, type BadRowPolicy, type BadRowReport
} from '../learning/index.js'

/** A Learner whose local data can grow while the daemon runs. */
export interface DaemonLearner extends Learner {
  /**
   * Appends CSV records (already split into fields) read from `source`, with their file lines and the bad-row
   * policy they go through (the data feed's); returns how many rows were added.
   */
  appendRecords?: (records: string[][], source: string, batch?: { lines: readonly number[], badRows: BadRows }) => number
  /** Bytes of the data file consumed by the initial load (continuous learning tails from there). */
  loadedBytes?: number
  /** The file the initial load read (for a data directory: its first file). */
  loadedFile?: string
  /** Primary metric name and direction (e.g. accuracy, higher is better). */
  primaryMetric?: { name: string, higherIsBetter: boolean }
  /** Rows the initial load skipped as bad (onBadRow skip): count and the first few with their lines. */
  loadBadRows?: BadRowReport
  /** The network's differential privacy for this peer (null without a `privacy` block in the manifest). */
  privacy?: PeerPrivacy | null
}

export interface LearnerInit {
  manifest: NetworkManifest
  /** The data file (or, for a data directory, its first file). */
  dataFile: string
  seed: number
  backend: string
  /** Fraction of local rows held out for local evaluation. */
  localValidation?: number
  /** The operator's rule for bad rows of their own file, overriding the network's dataset spec. */
  onBadRow?: BadRowPolicy
  /** What this peer has already spent under the manifest's privacy block (from the store). */
  privacyState?: AccountantState
}

/**
 * The manifest's privacy for a peer with `rows` local training rows at batch size `batch` (noise from the
 * platform CSPRNG); null without a privacy block. A bad block is an InvalidSpecError naming `privacy.<field>`.
 */
export function daemonPrivacy (manifest: NetworkManifest, rows: number, batch: number, state?: AccountantState): PeerPrivacy | null {
  if (manifest.privacy == null) return null
  const spec = parsePrivacySpec(manifest.privacy)
  return new PeerPrivacy({ spec, normal: cryptoNormal(), sampleRate: Math.min(1, batch / Math.max(1, rows)), state })
}

export type { PrivacyStatus }

/**
 * The network's dataset spec with this peer's file in place of the spec's, no global test split (a daemon
 * trains on all of its rows but the local validation share).
 */
export function localDatasetSpec (manifest: NetworkManifest, dataFile: string, options: { onBadRow?: BadRowPolicy } = {}): Record<string, unknown> {
  const spec = { ...(resolveDatasetSpec(manifest.dataset.spec as string) as unknown as Record<string, unknown>) }
  delete spec.testFile
  delete spec.testFormat
  delete spec.maxRows
  // `format: "idx"` is short for { type: "idx" }
  const format: Record<string, unknown> = typeof spec.format === 'string' ? { type: spec.format } : { ...((spec.format as Record<string, unknown> | undefined) ?? {}) }
  format.gzip = 'auto'
  return { ...spec, file: resolve(dataFile), format, testFraction: 0, ...(options.onBadRow != null ? { onBadRow: options.onBadRow } : {}) }
}

async function useBackend (name: string): Promise<void> {
  if (name === '' || name === 'wasm') { await ensureBackend(); return }
  await setBackend(name as BackendName)
}

export async function loadLocalData (manifest: NetworkManifest, dataFile: string, backend: string, options: { onBadRow?: BadRowPolicy, growing?: boolean } = {}): Promise<{ dataset: Dataset, model: Model }> {
  await useBackend(backend)
  const dataset = await loadDatasetFromSpec(localDatasetSpec(manifest, dataFile, options) as never, { growing: options.growing })
  const model = await sharedModel(manifest.model as never, dataset.info)
  return { dataset, model }
}

/**
 * The output-bias start of a daemon whose manifest sets no outputBiasInit (that one wins when set): a count or
 * value model starts at its own rows' mean (log claim frequency, mean value: shards' levels are comparable and
 * 0 means one claim a year), a classifier at 0, common to all peers, because under label skew its own priors
 * would start peers logits apart (docs/design-notes.md, "Honest starts"). null: the learner's own-mean default.
 */
function daemonStart (model: Model): Float32Array | null {
  return model.output === 'sigmoid' || model.output === 'softmax' ? new Float32Array(model.outputDim) : null
}

/**
 * Builds the daemon's learner over `dataFile`. All peers share the initial kernels (seeded by the network id);
 * the output bias starts as `daemonStart` says.
 */
export async function createDaemonLearner (init: LearnerInit): Promise<DaemonLearner> {
  let file = init.dataFile
  if (statSync(file).isDirectory()) {
    const { readdirSync } = await import('node:fs')
    const first = readdirSync(file).filter((f) => !f.startsWith('.') && /\.(csv|tsv|txt)(\.gz)?$/i.test(f)).sort()[0]
    if (first == null) throw new Error(`--data ${file}: the directory has no .csv/.tsv file yet`)
    file = resolve(file, first)
  }
  // growing: a last line still being written is left to the data feed, which goes on from where the load stopped
  const { dataset, model } = await loadLocalData(init.manifest, file, init.backend, { onBadRow: init.onBadRow, growing: true })
  if (init.manifest.rule.name === 'glm-newton') {
    // the exact GLM (rule glm-newton): statistics of this peer's rows as loaded (appended rows are not added);
    // under privacy each evaluation is a release over all of them (sampling rate 1: rows = batch = 1)
    const { exactGlmFor } = await import('../learning/glm/index.js')
    const privacy = daemonPrivacy(init.manifest, 1, 1, init.privacyState) ?? undefined
    const glm = exactGlmFor(dataset, model).learner(dataset.train, { evaluate: (w) => evaluateWeights(model, dataset, dataset.train, w), privacy })
    const out = glm as unknown as DaemonLearner
    out.loadedBytes = dataset.loadedPosition?.offset
    out.loadedFile = file
    out.primaryMetric = primaryMetric(dataset.task)
    return out
  }
  const localValidation = init.localValidation ?? 0.1
  const privacy = daemonPrivacy(init.manifest, Math.round(dataset.train.length * (1 - localValidation)), model.defaultBatchSize, init.privacyState) ?? undefined
  const learner: DatasetLearner = createLearner({
    model, dataset, localValidation, seed: init.seed, initSeed: init.manifest.id, outputBias: daemonStart(model), privacy
  })
  const out = learner as unknown as DaemonLearner
  out.appendRecords = (records, source, batch) => {
    const before = learner.numExamples()
    learner.addRecords(records, batch != null ? { source, lines: batch.lines, badRows: batch.badRows } : source)
    return learner.numExamples() - before
  }
  out.loadedBytes = dataset.loadedPosition?.offset
  out.loadedFile = file
  out.loadBadRows = dataset.badRows
  out.primaryMetric = primaryMetric(dataset.task)
  return out
}

/**
 * The linear model in a vector: an exact-GLM network's vector (rule glm-newton) is [statistics | linear model]
 * (learning/glm/network-learner.ts), its last `numParams` values; any other model is returned as it is.
 */
export function linearModelOf (manifest: NetworkManifest, weights: Float32Array, numParams: number): Float32Array {
  return manifest.rule.name === 'glm-newton' && weights.length > numParams ? weights.subarray(weights.length - numParams) : weights
}

/** Evaluates `weights` on a data file with the network's schema (`murmur evaluate`, testnet). */
export async function evaluateWeightsOnFile (manifest: NetworkManifest, dataFile: string, weights: Float32Array, backend = 'wasm'): Promise<{ rows: number, metrics: Record<string, number>, primary: { name: string, higherIsBetter: boolean } }> {
  const { dataset, model } = await loadLocalData(manifest, dataFile, backend)
  weights = linearModelOf(manifest, weights, model.numParams)
  model.checkWeights(weights)
  const metrics = evaluateWeights(model, dataset, dataset.train, weights)
  return { rows: dataset.train.length, metrics, primary: primaryMetric(dataset.task) }
}

export interface EnvelopesInit {
  manifest: NetworkManifest
  keyring: Keyring
  identity: Identity
  schemaHash: string
  numParams: number
  maxBytes: number
  codec?: string
}

/**
 * A keyring whose manifest can be swapped while the daemon runs (a new manifest version adopted from an
 * operator or from gossip). The validator and the sealer read it on every call, so after `swap` incoming
 * updates are checked against the new member list and epochs, and outgoing ones are sealed under the new
 * current epoch and stamped with the new manifest version. The connection gater reads `isMember` too.
 */
export class LiveKeyring implements Keyring {
  private current: Keyring
  constructor (initial: Keyring) { this.current = initial }
  get manifest (): NetworkManifest { return this.current.manifest }
  get networkId (): string { return this.current.networkId }
  get open (): boolean { return this.current.open }
  get currentEpoch (): number { return this.current.currentEpoch }
  get warning (): string | null { return this.current.warning }
  get minManifestVersion (): number { return this.current.minManifestVersion }
  set minManifestVersion (v: number) { this.current.minManifestVersion = v }
  readonly isMember = (sender: string): boolean => this.current.isMember(sender)
  readonly epochKey = (epoch: number): Uint8Array | null => this.current.epochKey(epoch)
  /** Replaces the view (same network id; the caller has verified the new version). */
  swap (next: Keyring): void {
    if (next.networkId !== this.current.networkId) throw new Error(`keyring swap across networks (${next.networkId.slice(0, 16)} != ${this.current.networkId.slice(0, 16)})`)
    next.minManifestVersion = Math.max(next.minManifestVersion, this.current.minManifestVersion)
    this.current = next
  }
}

/** Largest update-stream message of this network: one envelope of its model under its codec. */
export function networkMessageLimit (manifest: NetworkManifest, numParams: number): number {
  return updateMessageLimit(numParams, (manifest.rule.params as { codec?: string }).codec ?? 'float32')
}

/** The engine's envelope layer under this network's keyring. */
export function createDaemonEnvelopes (init: EnvelopesInit): Envelopes {
  const params = init.manifest.rule.params as { codec?: string }
  return sealedEnvelopes({
    networkId: init.manifest.id,
    schemaHash: init.schemaHash,
    numParams: init.numParams,
    // no fixed manifestVersion: the sealer reads keyring.manifest.version, so a live manifest change applies
    codec: init.codec ?? params.codec ?? 'float32',
    maxBytes: init.maxBytes
  })({ signer: createSigner(init.identity), membership: init.keyring })
}
