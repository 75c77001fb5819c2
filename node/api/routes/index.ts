/** The daemon's API routes, one file per group; `nodeRoutes` lists them all for the server. */
import type { Route } from '../route.js'
import { statusRoutes, type StatusModules } from './status.js'
import { modelRoutes, type ModelModules } from './model.js'
import { logRoutes } from './log.js'
import { metricsRoutes, type MetricsModules } from './metrics.js'
import { manifestRoutes, type ManifestModules } from './manifest.js'
import { pageRoutes, type PageModules } from './page.js'
import type { LevelStore } from '../../store/index.js'

export { status, peers, statusRoutes, type NodeProgress, type StatusModules } from './status.js'
export { modelRoutes, type ModelModules } from './model.js'
export { logRoutes, DEFAULT_LOG_LIMIT } from './log.js'
export { metricsRoutes, DEFAULT_HISTORY_LIMIT, type MetricsModules } from './metrics.js'
export { manifestRoutes, type ManifestModules } from './manifest.js'
export { pageRoutes, type PageModules } from './page.js'

export type ApiModules = StatusModules & ModelModules & MetricsModules & ManifestModules & PageModules & { store: LevelStore }

export function nodeRoutes (m: ApiModules): Route[] {
  return [...statusRoutes(m), ...modelRoutes(m), ...logRoutes(m), ...metricsRoutes(m), ...manifestRoutes(m), ...pageRoutes(m)]
}
