/**
 * The API's access checks, applied before any route:
 * - Host: the request's Host header must name this server (the listen address, localhost, 127.0.0.1 or [::1],
 *   with the bound port; for a wildcard bind also this machine's host name and interface addresses), or a host
 *   in the allow-list (env MURMUR_API_ALLOWED_HOSTS, comma-separated `host[:port]`; `*` turns the check off).
 *   A web page that reaches the loopback API through DNS rebinding sends its own host name: 403.
 * - Token: `Authorization: Bearer <token>` on every path but the open ones (`/health`, `/metrics`, and `/`, the
 *   operator page, which holds no data and asks for the token itself): 401 without it.
 *
 * The daemon's token lives in `<datadir>/api-token` (mode 0600), created at `murmur init` or the first start;
 * CLI commands read it from there (or `--api-token` / env MURMUR_API_TOKEN).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { hostname, networkInterfaces } from 'node:os'
import { join } from 'node:path'
import type { IncomingMessage } from 'node:http'

export const API_TOKEN_FILE = 'api-token'
/** Paths served without the token. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/health', '/metrics', '/'])
/** A token file larger than this is not a token. */
const MAX_TOKEN_BYTES = 1024
const TOKEN_PATTERN = /^[A-Za-z0-9._~+/=-]{16,512}$/

export class ApiTokenError extends Error {
  static override name = 'ApiTokenError'
  override name = 'ApiTokenError'
}

export const apiTokenPath = (datadir: string): string => join(datadir, API_TOKEN_FILE)

/** The token in `<datadir>/api-token`, or undefined when there is none; a malformed file is an error naming it. */
export async function readApiToken (datadir: string): Promise<string | undefined> {
  const path = apiTokenPath(datadir)
  let text: string
  try {
    const buf = await readFile(path)
    if (buf.length > MAX_TOKEN_BYTES) throw new ApiTokenError(`${path}: ${buf.length} bytes is not an API token (at most ${MAX_TOKEN_BYTES})`)
    text = buf.toString('utf8').trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  if (!TOKEN_PATTERN.test(text)) throw new ApiTokenError(`${path}: not an API token (16 to 512 characters of A-Z a-z 0-9 . _ ~ + / = -)`)
  return text
}

/** The datadir's token, created (32 random bytes, base64url, mode 0600) when missing. */
export async function ensureApiToken (datadir: string): Promise<string> {
  const existing = await readApiToken(datadir)
  if (existing != null) return existing
  await mkdir(datadir, { recursive: true, mode: 0o700 })
  const token = randomBytes(32).toString('base64url')
  try {
    await writeFile(apiTokenPath(datadir), token + '\n', { mode: 0o600, flag: 'wx' })
  } catch (err) {
    // another process created it first: use theirs
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return (await readApiToken(datadir)) as string
    throw err
  }
  return token
}

/** The token a client sends: the explicit one, else env MURMUR_API_TOKEN, else the datadir's file. */
export async function clientApiToken (opts: { token?: string, datadir?: string }): Promise<string | undefined> {
  if (opts.token != null && opts.token !== '') return opts.token
  const env = process.env.MURMUR_API_TOKEN
  if (env != null && env !== '') return env
  return opts.datadir != null ? await readApiToken(opts.datadir) : undefined
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]'])
const bracket = (h: string): string => h.includes(':') && !h.startsWith('[') ? `[${h}]` : h

/**
 * The Host header values this server accepts (lowercase `host:port`), or null when the check is off (`*` in
 * `extra`). Entries of `extra` without a port get the bound port.
 */
export function allowedHosts (listenHost: string, port: number, extra: string[] = envAllowedHosts()): Set<string> | null {
  if (extra.includes('*')) return null
  const names = new Set(['localhost', '127.0.0.1', '[::1]', bracket(listenHost.toLowerCase())])
  if (WILDCARDS.has(listenHost)) {
    names.add(hostname().toLowerCase())
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(bracket(a.address.toLowerCase()))
  }
  const out = new Set([...names].map((n) => `${n}:${port}`))
  for (const e of extra) {
    const h = e.trim().toLowerCase()
    if (h === '') continue
    out.add(/:\d+$/.test(h) && !/^[^[]*:[^\]]*:/.test(h) ? h : `${bracket(h)}:${port}`)
  }
  return out
}

function envAllowedHosts (): string[] {
  return (process.env.MURMUR_API_ALLOWED_HOSTS ?? '').split(',').filter((s) => s.trim() !== '')
}

function tokenMatches (req: IncomingMessage, token: string): boolean {
  const h = req.headers.authorization ?? ''
  const given = Buffer.from(h.startsWith('Bearer ') ? h.slice(7).trim() : '')
  const want = Buffer.from(token)
  return given.length === want.length && timingSafeEqual(given, want)
}

export interface AccessPolicy {
  /** Required on every path but OPEN_PATHS; none: no token check. */
  token?: string
  /** From `allowedHosts`; null: no Host check. */
  hosts: Set<string> | null
}

/** Null when the request may go on, else the status and error to answer. */
export function checkAccess (req: IncomingMessage, path: string, policy: AccessPolicy): { status: 401 | 403, error: string } | null {
  if (policy.hosts != null) {
    const host = (req.headers.host ?? '').toLowerCase()
    if (!policy.hosts.has(host)) return { status: 403, error: `Host "${host.slice(0, 100)}" is not this API (allowed: set MURMUR_API_ALLOWED_HOSTS)` }
  }
  if (policy.token != null && !OPEN_PATHS.has(path) && !tokenMatches(req, policy.token)) {
    return { status: 401, error: 'unauthorized: send Authorization: Bearer <token> (the daemon\'s <datadir>/api-token)' }
  }
  return null
}
