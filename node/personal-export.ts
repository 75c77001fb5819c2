/**
 * `murmur export --personal`: the running daemon's personal model (`daemon --personal`, node/personal.ts) as a
 * TF.js layers model beside `personal.json` (z, blend, round). A linear model's blend is one model; an MLP's
 * prediction blend is two (`network/` and `local/`), and personal.json says how to combine their predictions.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { apiGet, clientApiToken } from './api/index.js'
import { loadModel, NoModelError, writeLayersModel, type ModelSource } from './model-io.js'

interface PersonalAnswer { round: number, z: number, blend: 'parameters' | 'predictions', weights: string | null, network: string, local: string, numParams: number }

const floats = (b64: string): Float32Array => {
  const buf = Buffer.from(b64, 'base64')
  const out = new Float32Array(buf.length / 4)
  new Uint8Array(out.buffer).set(buf)
  return out
}

export async function exportPersonal (o: ModelSource & { out: string, data?: string, backend?: string }): Promise<{ files: string[], round: number, numParams: number, z: number }> {
  const m = await loadModel(o)
  if (!m.source.startsWith('http')) throw new NoModelError(`the personal model lives in the running daemon (${m.source} holds the network model only): start it with --personal and export while it runs`)
  const p = await apiGet<PersonalAnswer>(m.source, '/model/personal', { token: await clientApiToken({ datadir: o.datadir }) })
  const dir = resolve(o.out)
  const options = { dataFile: o.data ?? m.dataFile, backend: o.backend }
  const files: string[] = []
  const about: Record<string, unknown> = { round: p.round, z: p.z, blend: p.blend, note: 'z: credibility of the local-only model (0: the network model, 1: the local-only model), chosen on this peer\'s own validation rows' }
  if (p.weights != null) {
    files.push(...(await writeLayersModel(m.manifest, floats(p.weights), dir, options)).files)
  } else {
    files.push(...(await writeLayersModel(m.manifest, floats(p.network), join(dir, 'network'), options)).files)
    files.push(...(await writeLayersModel(m.manifest, floats(p.local), join(dir, 'local'), options)).files)
    about.predict = `(1 - z) x network/ + z x local/, on the mean scale (probabilities, expected counts), z = ${p.z}`
  }
  await mkdir(dir, { recursive: true })
  const aboutPath = join(dir, 'personal.json')
  await writeFile(aboutPath, JSON.stringify(about, null, 2) + '\n')
  files.push(aboutPath)
  return { files, round: p.round, numParams: p.numParams, z: p.z }
}
