/**
 * The daemon's HTTP API (node:http). Loopback by default; bound to any other address it refuses to start
 * without a token, and then every request must carry `Authorization: Bearer <token>`.
 *
 *   GET /status   JSON: peer id, addresses, round, local metric, neighbours, refusals by reason, ...
 *   GET /peers    JSON: connected peers and neighbours
 *   GET /model    JSON: { schemaHash, numParams, round, weights: base64 float32 little-endian }
 *   GET /metrics  Prometheus text format
 *   GET /health   200 "ok"
 *   POST routes given in `routes.post` (e.g. POST /manifest), body bounded by MAX_POST_BODY_BYTES
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { allowedHosts, checkAccess, type AccessPolicy } from './auth.js'
import { operatorPage } from './page.js'

export class ApiConfigError extends Error {
  static override name = 'ApiConfigError'
  override name = 'ApiConfigError'
}

export interface ApiRoutes {
  status: () => unknown | Promise<unknown>
  peers: () => unknown | Promise<unknown>
  model: () => unknown | Promise<unknown>
  metrics: () => Promise<{ contentType: string, body: string }>
  /** More JSON routes (path -> handler of the query string), e.g. `/log`, `/log/verify`. */
  extra?: Record<string, (query: URLSearchParams) => unknown | Promise<unknown>>
  /**
   * POST routes (path -> handler of the request body, read whole but bounded by `maxBodyBytes`: 413 above).
   * The handler answers an HTTP status and a JSON value, e.g. `/manifest`.
   */
  post?: Record<string, (body: Uint8Array, query: URLSearchParams) => Promise<{ status: number, json: unknown }>>
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
  routes: ApiRoutes
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

function send (res: ServerResponse, status: number, body: string, contentType = 'application/json'): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' })
  res.end(body)
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
      const postRoute = req.method === 'POST' ? init.routes.post?.[path] : undefined
      if (postRoute != null) {
        try {
          const body = await readBody(req, MAX_POST_BODY_BYTES)
          const r = await postRoute(body, url.searchParams)
          send(res, r.status, JSON.stringify(r.json))
        } catch (err) {
          if (err instanceof BodyTooLargeError) { res.setHeader('connection', 'close'); send(res, 413, JSON.stringify({ error: `body larger than ${MAX_POST_BODY_BYTES} bytes` })); return }
          init.log?.warn({ err: (err as Error).message, path }, 'API request failed')
          send(res, 500, JSON.stringify({ error: (err as Error).message }))
        }
        return
      }
      if (req.method !== 'GET') { send(res, 405, JSON.stringify({ error: 'method not allowed' })); return }
      try {
        switch (path) {
          case '/health': send(res, 200, 'ok', 'text/plain'); return
          case '/': { const page = await operatorPage(); res.writeHead(200, page.headers); res.end(page.body); return }
          case '/status': send(res, 200, JSON.stringify(await init.routes.status())); return
          case '/peers': send(res, 200, JSON.stringify(await init.routes.peers())); return
          case '/model': send(res, 200, JSON.stringify(await init.routes.model())); return
          case '/metrics': { const m = await init.routes.metrics(); send(res, 200, m.body, m.contentType); return }
          default: {
            const extra = init.routes.extra?.[path]
            if (extra != null) { send(res, 200, JSON.stringify(await extra(url.searchParams))); return }
            send(res, 404, JSON.stringify({ error: `no route ${path}`, routes: ['/status', '/peers', '/model', '/metrics', '/health', ...Object.keys(init.routes.extra ?? {})] }))
          }
        }
      } catch (err) {
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
