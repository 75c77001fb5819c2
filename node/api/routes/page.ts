/** `GET /` (the operator page, ../page.ts) and `GET /database` (the size of this peer's LevelDB, for the page). */
import { getJson, type Route } from '../route.js'
import { operatorPage, directoryBytes } from '../page.js'

export interface PageModules {
  /** The LevelDB folder whose size `/database` reports. */
  databaseDir: string
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
    getJson('/database', async () => ({ bytes: await directoryBytes(m.databaseDir) }))
  ]
}
