/**
 * `murmur export` and `murmur evaluate`: take this peer's model (live from the daemon's API, else the latest
 * checkpoint in the datadir), the network's model and dataset specs, and hand them to the learning layer.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { API_FILE, DB_DIR } from './constants.js'
import { openStoreReadOnly } from './store/index.js'
import { apiGet, clientApiToken } from './api/index.js'
import { parseManifest, type NetworkManifest } from '../protocol/membership/index.js'
import type { Model } from '../learning/index.js'

export class NoModelError extends Error {
  static override name = 'NoModelError'
  override name = 'NoModelError'
}

export interface ModelSource { datadir: string, network?: string, api?: string }

export interface LoadedModel { manifest: NetworkManifest, weights: Float32Array, round: number, source: string, dataFile?: string }

async function liveApi (source: ModelSource): Promise<string | null> {
  if (source.api != null) return source.api.startsWith('http') ? source.api : `http://${source.api}`
  try {
    const info = JSON.parse(await readFile(join(source.datadir, API_FILE), 'utf8')) as { url: string }
    return info.url
  } catch { return null }
}

export async function loadModel (source: ModelSource): Promise<LoadedModel> {
  let manifest: NetworkManifest | null = null
  if (source.network != null) manifest = parseManifest(await readFile(source.network, 'utf8'), source.network)
  const url = await liveApi(source)
  if (url != null) {
    try {
      const token = await clientApiToken({ datadir: source.datadir })
      const m = await apiGet<{ weights: string, round: number }>(url, '/model', { token })
      const buf = Buffer.from(m.weights, 'base64')
      const weights = new Float32Array(buf.length / 4)
      new Uint8Array(weights.buffer).set(buf)
      if (manifest != null) return { manifest, weights, round: m.round, source: url, dataFile: (await apiGet<{ dataFile?: string }>(url, '/status', { token })).dataFile }
      // the manifest: stored in the datadir, which the running daemon has locked; ask for --network
      throw new NoModelError(`the daemon at ${url} is running: pass --network network.json (its database is in use)`)
    } catch (err) {
      if ((err as Error).name === 'NoModelError') throw err
      if (source.api != null) throw err
      // stale api.json: fall back to the checkpoint
    }
  }
  const store = await openStoreReadOnly(source.datadir, join(resolve(source.datadir), DB_DIR))
  try {
    if (manifest == null) {
      const latest = await store.latestManifest()
      if (latest == null) throw new NoModelError(`${source.datadir} holds no network manifest: pass --network`)
      manifest = parseManifest(new TextDecoder().decode(latest.bytes), `${source.datadir} (stored manifest v${latest.version})`)
    }
    const cp = await store.latestCheckpoint()
    if (cp == null) throw new NoModelError(`${source.datadir} holds no checkpoint yet: run the daemon for at least one round`)
    const daemon = await store.getMeta<{ data?: string }>('daemon')
    return { manifest, weights: cp.weights, round: cp.round, source: `checkpoint of round ${cp.round}`, dataFile: daemon?.data }
  } finally { await store.close() }
}

/**
 * Writes the model as a TF.js layers model: `model.json` (topology + weights manifest) and `weights.bin`,
 * which stock `@tensorflow/tfjs` opens with `tf.loadLayersModel`. Dense layers with the trained activations;
 * a Poisson model's output layer is exported `linear` (it gives log rate per unit exposure: predict
 * exp(output + log(exposure)), as `model.json`'s userDefinedMetadata says).
 */
export async function writeLayersModel (manifest: NetworkManifest, weights: Float32Array, dir: string, options: { dataFile?: string, backend?: string } = {}): Promise<{ files: string[], model: ReturnType<Model['describe']> }> {
  const { loadLocalData } = await import('./wiring.js')
  const { tf } = await import('../learning/index.js')
  if (options.dataFile == null) throw new NoModelError('export needs a data file with the network\'s schema to know the input width (--data)')
  const { model, dataset } = await loadLocalData(manifest, options.dataFile, options.backend ?? 'wasm')
  weights = (await import('./wiring.js')).linearModelOf(manifest, weights, model.numParams)
  model.checkWeights(weights)
  const d = model.describe()
  const parts = model.unflatten(weights)
  const seq = tf.sequential()
  d.layers.forEach((l, i) => {
    const act = l.activation === 'exp' || l.activation === 'identity' ? 'linear' : l.activation
    seq.add(tf.layers.dense({ units: l.outDim, activation: act as 'linear', name: l.name.replace(/[^A-Za-z0-9_]/g, '_'), ...(i === 0 ? { inputShape: [l.inDim] } : {}) }))
  })
  const tensors: Array<import('@tensorflow/tfjs').Tensor> = []
  d.layers.forEach((l, i) => {
    const k = tf.tensor2d(parts[2 * i], [l.inDim, l.outDim])
    const b = tf.tensor1d(parts[2 * i + 1])
    tensors.push(k, b)
    seq.layers[i].setWeights([k, b])
  })
  await mkdir(dir, { recursive: true })
  const files: string[] = []
  await seq.save(tf.io.withSaveHandler(async (artifacts) => {
    const weightsPath = join(dir, 'weights.bin')
    await writeFile(weightsPath, Buffer.from(artifacts.weightData as ArrayBuffer))
    const modelJson = {
      modelTopology: artifacts.modelTopology,
      format: 'layers-model',
      generatedBy: 'murmur export',
      convertedBy: null,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      userDefinedMetadata: {
        network: manifest.id, name: manifest.name, schemaHash: model.schemaHash, task: dataset.task, output: d.output,
        classes: dataset.classes, featureNames: dataset.featureNames, encoding: dataset.encoding,
        note: d.output === 'exp' ? 'Poisson model: the output is the log rate per unit exposure; predict exp(output + log(exposure))' : undefined
      }
    }
    const modelPath = join(dir, 'model.json')
    await writeFile(modelPath, JSON.stringify(modelJson))
    files.push(modelPath, weightsPath)
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
  }))
  for (const t of tensors) t.dispose()
  seq.dispose()
  return { files, model: d }
}

export async function exportModel (o: ModelSource & { out: string, data?: string, backend?: string }): Promise<{ files: string[], round: number, numParams: number }> {
  const m = await loadModel(o)
  const r = await writeLayersModel(m.manifest, m.weights, resolve(o.out), { dataFile: o.data ?? m.dataFile, backend: o.backend })
  return { files: r.files, round: m.round, numParams: m.weights.length }
}

export async function evaluateModel (o: ModelSource & { data: string, backend?: string }): Promise<{ round: number, rows: number, metrics: Record<string, number>, source: string }> {
  const m = await loadModel(o)
  const { evaluateWeightsOnFile } = await import('./wiring.js')
  const r = await evaluateWeightsOnFile(m.manifest, resolve(o.data), m.weights, o.backend)
  return { round: m.round, rows: r.rows, metrics: r.metrics, source: m.source }
}

/**
 * `murmur export --format glm`: the coefficient table of an exact GLM network (rule glm-newton) from this
 * peer's model: its estimate of the average statistics times the network's member count (learning/glm
 * export.ts). The design comes from the network's dataset spec read on `data` (default: the daemon's file).
 */
export async function exportGlm (o: ModelSource & { data?: string, backend?: string }): Promise<{ round: number, source: string, peers: number, summary: import('../learning/glm/index.js').GlmSummary, text: string }> {
  const m = await loadModel(o)
  const glm = await import('../learning/glm/index.js')
  const dataFile = o.data ?? m.dataFile
  if (dataFile == null) throw new NoModelError('export --format glm needs a data file with the network\'s schema to build the design (--data)')
  const { loadLocalData } = await import('./wiring.js')
  const { dataset } = await loadLocalData(m.manifest, resolve(dataFile), o.backend ?? 'wasm')
  const type = (m.manifest.model as { type?: string } | string)
  const name = typeof type === 'string' ? type : type.type
  const family = glm.glmFamily(name === 'logistic' ? 'binomial' : 'poisson')
  const design = glm.glmDesign(dataset)
  const peers = m.manifest.members.length
  if (peers < 1) throw new NoModelError('the manifest lists no members: the number of peers the statistics average over is unknown')
  const fit = glm.fitFromNetworkVector(design, family, m.weights, peers, { rounds: m.round })
  const summary = glm.summarizeGlm(fit, design.references)
  return { round: m.round, source: m.source, peers, summary, text: glm.formatGlmSummary(summary) }
}
