/**
 * The daemon's HTTP API (node:http). Loopback by default; bound to any other address it refuses to start
 * without a token. Access (token, Host check against DNS rebinding) is decided by ./auth.ts before routing.
 *
 * The server only dispatches a table of routes (`{ method, path, handler }`, see ./routes/ for the daemon's):
 * 401 without the token, 404 for an unknown GET path (listing the GET routes), 405 for another method, 413 for
 * a POST body over MAX_POST_BODY_BYTES, 500 with the error's message when a handler throws.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Route, RouteResponse } from './route.js'
import { allowedHosts, checkAccess, type AccessPolicy } from './auth.js'

export class ApiConfigError extends Error {
  static override name = 'ApiConfigError'
  override name = 'ApiConfigError'
}

/** Largest POST body the API reads. */
export const MAX_POST_BODY_BYTES = 4 * 1024 * 1024 + 64 * 1024

class BodyTooLargeError extends Error {}

/** Reads a request body, refusing (before buffering more) anything over `limit` bytes. */
async function readBody (req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError()
  const parts: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) throw new BodyTooLargeError()
    parts.push(chunk as Buffer)
  }
  return new Uint8Array(Buffer.concat(parts, size))
}

export interface ApiServerInit {
  /** `HOST:PORT` (port 0 picks a free one). */
  listen: string
  token?: string
  /** More Host header values to accept (auth.ts `allowedHosts`; default env MURMUR_API_ALLOWED_HOSTS). */
  allowedHosts?: string[]
  routes: Route[]
  log?: { warn: (obj: object, msg?: string) => void }
}

export interface ApiServer {
  /** `http://host:port` actually bound. */
  url: string
  port: number
  host: string
  close: () => Promise<void>
}

export function parseHostPort (listen: string): { host: string, port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen.trim())
  if (m == null) throw new ApiConfigError(`--api must be HOST:PORT (e.g. 127.0.0.1:8080), got "${listen}"`)
  const port = Number(m[3])
  if (port > 65535) throw new ApiConfigError(`--api port ${port} is out of range`)
  return { host: m[1] ?? m[2], port }
}

export function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

function send (res: ServerResponse, status: number, body: string, contentType = 'application/json', headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', ...headers })
  res.end(body)
}

function reply (res: ServerResponse, r: RouteResponse): void {
  if ('json' in r) send(res, r.status ?? 200, JSON.stringify(r.json))
  else send(res, r.status ?? 200, r.text, r.contentType, r.headers)
}

export async function startApiServer (init: ApiServerInit): Promise<ApiServer> {
  const { host, port } = parseHostPort(init.listen)
  const token = init.token != null && init.token !== '' ? init.token : undefined
  if (!isLoopback(host) && token == null) {
    throw new ApiConfigError(`the API would listen on ${host}, beyond loopback: set a token (--api-token or MURMUR_API_TOKEN), or bind 127.0.0.1`)
  }
  let policy: AccessPolicy = { token, hosts: new Set() } // no Host passes before the port is known
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost')
      const path = url.pathname
      const denied = checkAccess(req, path, policy)
      if (denied != null) { send(res, denied.status, JSON.stringify({ error: denied.error })); return }
      const route = init.routes.find((r) => r.method === req.method && r.path === path)
      if (route == null) {
        if (req.method !== 'GET') { send(res, 405, JSON.stringify({ error: 'method not allowed' })); return }
        send(res, 404, JSON.stringify({ error: `no route ${path}`, routes: init.routes.filter((r) => r.method === 'GET').map((r) => r.path) }))
        return
      }
      try {
        const body = route.method === 'POST' ? await readBody(req, MAX_POST_BODY_BYTES) : new Uint8Array(0)
        reply(res, await route.handler({ query: url.searchParams, body }))
      } catch (err) {
        if (err instanceof BodyTooLargeError) { res.setHeader('connection', 'close'); send(res, 413, JSON.stringify({ error: `body larger than ${MAX_POST_BODY_BYTES} bytes` })); return }
        init.log?.warn({ err: (err as Error).message, path }, 'API request failed')
        send(res, 500, JSON.stringify({ error: (err as Error).message }))
      }
    })()
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => { reject(new ApiConfigError(`cannot listen on ${init.listen}: ${err.message}`)) })
    server.listen(port, host, () => { resolve() })
  })
  const addr = server.address() as AddressInfo
  policy = { token, hosts: allowedHosts(host, addr.port, init.allowedHosts) }
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return {
    url: `http://${shownHost}:${addr.port}`,
    port: addr.port,
    host: addr.address,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}

/** Client side: GET a JSON route of a running daemon. */
export async function apiGet<T = unknown> (baseUrl: string, path: string, options: { token?: string, signal?: AbortSignal } = {}): Promise<T> {
  const res = await fetch(new URL(path, baseUrl), {
    headers: options.token != null ? { authorization: `Bearer ${options.token}` } : {},
    signal: options.signal ?? AbortSignal.timeout(10_000)
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${baseUrl}${path}: HTTP ${res.status} ${text.slice(0, 200)}`)
  return (path === '/metrics' ? text : JSON.parse(text)) as T
}
