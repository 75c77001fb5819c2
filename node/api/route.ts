/**
 * One API route: method, path and a handler of the query (and, for POST, the body, read whole but bounded by
 * the server). The server only dispatches; the routes live in ./routes/, one file per group.
 */
export type HttpMethod = 'GET' | 'POST'

export interface RouteRequest {
  query: URLSearchParams
  /** POST: the request body (at most MAX_POST_BODY_BYTES); GET: empty. */
  body: Uint8Array
}

/** A JSON answer, or text with its content type (e.g. Prometheus). Status 200 unless given. */
export type RouteResponse =
  | { status?: number, json: unknown }
  | { status?: number, text: string, contentType: string, headers?: Record<string, string> }

export interface Route {
  method: HttpMethod
  path: string
  handler: (request: RouteRequest) => RouteResponse | Promise<RouteResponse>
}

/** A GET route answering the handler's value as JSON. */
export function getJson (path: string, handler: (query: URLSearchParams) => unknown): Route {
  return { method: 'GET', path, handler: async ({ query }) => ({ json: await handler(query) }) }
}

/** A non-negative integer query parameter, or undefined (absent, empty or not such a number). */
export function numberParam (q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name)
  if (v == null || v === '') return undefined
  const n = Number(v)
  return Number.isInteger(n) && n >= 0 ? n : undefined
}
