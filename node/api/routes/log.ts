/** `GET /log?from=I&limit=N&reverse=true` (update-log entries) and `GET /log/verify` (the audit report). */
import { readLogLines, verifyStoredLog } from '../../audit.js'
import type { LevelStore } from '../../store/index.js'
import { getJson, numberParam, type Route } from '../route.js'

/** Entries answered when the query names no limit. */
export const DEFAULT_LOG_LIMIT = 1000

export function logRoutes (m: { store: LevelStore }): Route[] {
  return [
    getJson('/log', async (q) => await readLogLines(m.store, { from: numberParam(q, 'from'), limit: numberParam(q, 'limit') ?? DEFAULT_LOG_LIMIT, reverse: q.get('reverse') === 'true' })),
    getJson('/log/verify', async () => await verifyStoredLog(m.store))
  ]
}
