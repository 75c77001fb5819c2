/** `POST /manifest` (`murmur network publish`): 200 when adopted or already held, 409 refused with its reason. */
import type { ManifestSync } from '../../services/manifest-sync/index.js'
import type { Route } from '../route.js'

export interface ManifestModules {
  manifestSync: Pick<ManifestSync, 'submit'>
  /** Aborts a submission in progress when the node closes. */
  signal: AbortSignal
}

export function manifestRoutes (m: ManifestModules): Route[] {
  return [{
    method: 'POST',
    path: '/manifest',
    handler: async ({ body }) => {
      const r = await m.manifestSync.submit(body, 'api', { signal: m.signal })
      return { status: r.adopted || r.alreadyCurrent === true ? 200 : 409, json: r }
    }
  }]
}
