/** `GET /model`: the live weights (base64 float32 little-endian) with the schema they belong to. */
import type { PeerEngine } from '../../../protocol/engine/index.js'
import type { DaemonLearner } from '../../wiring.js'
import { getJson, type Route } from '../route.js'

export interface ModelModules {
  engine: Pick<PeerEngine, 'weights' | 'round'>
  learner: Pick<DaemonLearner, 'schemaHash' | 'numParams'>
}

export function modelRoutes (m: ModelModules): Route[] {
  return [getJson('/model', () => {
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
