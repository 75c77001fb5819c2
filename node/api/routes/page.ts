/** `GET /` (the operator page, ../page.ts) and `GET /database` (the size of this peer's LevelDB, for the page). */
import { getJson, type Route } from '../route.js'
import { operatorPage } from '../page.js'
import type { LevelStore } from '../../store/index.js'

export interface PageModules {
  /** The store whose size `/database` reports (bytes on disk, and what the bounded repositories hold). */
  store: Pick<LevelStore, 'size'>
}

export function pageRoutes (m: PageModules): Route[] {
  return [
    {
      method: 'GET',
      path: '/',
      handler: async () => {
        const page = await operatorPage()
        return { text: page.body, contentType: page.headers['content-type'] ?? 'text/html; charset=utf-8', headers: page.headers }
      }
    },
    getJson('/database', async () => { const size = m.store.size(); return { bytes: size.diskBytes, ...size } })
  ]
}
