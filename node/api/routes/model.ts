/** `GET /model`: the live weights (base64 float32 little-endian) with the schema they belong to. */
import type { PeerEngine } from '../../../protocol/engine/index.js'
import type { DaemonLearner } from '../../wiring.js'
import { getJson, type Route } from '../route.js'
import type { DaemonPersonal } from '../../personal.js'

export interface ModelModules {
  engine: Pick<PeerEngine, 'weights' | 'round'>
  learner: Pick<DaemonLearner, 'schemaHash' | 'numParams'>
  /** `daemon --personal` (node/personal.ts): `GET /model/personal`. */
  personal?: Pick<DaemonPersonal, 'model'> | null
}

const b64 = (w: Float32Array): string => Buffer.from(w.buffer, w.byteOffset, w.byteLength).toString('base64')

export function modelRoutes (m: ModelModules): Route[] {
  const personal: Route = {
    method: 'GET',
    path: '/model/personal',
    handler: () => {
      if (m.personal == null) return { status: 404, json: { error: 'no personal model: start the daemon with --personal' } }
      const p = m.personal.model(m.engine.round)
      return {
        json: {
          schemaHash: m.learner.schemaHash, numParams: m.learner.numParams, round: p.round, z: p.z, blend: p.blend, dtype: 'float32-le',
          weights: p.weights == null ? null : b64(p.weights), network: b64(p.network), local: b64(p.local)
        }
      }
    }
  }
  return [personal, getJson('/model', () => {
    const w = m.engine.weights()
    return {
      schemaHash: m.learner.schemaHash,
      numParams: m.learner.numParams,
      round: m.engine.round,
      dtype: 'float32-le',
      weights: Buffer.from(w.buffer, w.byteOffset, w.byteLength).toString('base64')
    }
  })]
}
