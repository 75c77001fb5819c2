/** `GET /metrics` (Prometheus text) and `GET /metrics/history?limit=N` (per-round metrics from the database). */
import type { LevelStore } from '../../store/index.js'
import type { PromMetrics } from '../../metrics.js'
import { getJson, numberParam, type Route } from '../route.js'

/** Snapshots answered when the query names no limit. */
export const DEFAULT_HISTORY_LIMIT = 1000

export interface MetricsModules {
  metrics: Pick<PromMetrics, 'text' | 'contentType'>
  store: Pick<LevelStore, 'metricsHistory'>
}

export function metricsRoutes (m: MetricsModules): Route[] {
  return [
    { method: 'GET', path: '/metrics', handler: async () => ({ text: await m.metrics.text(), contentType: m.metrics.contentType }) },
    getJson('/metrics/history', async (q) => await m.store.metricsHistory({ limit: numberParam(q, 'limit') ?? DEFAULT_HISTORY_LIMIT }))
  ]
}
