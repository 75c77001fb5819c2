/**
 * What the CLI's commands share: finding a running daemon's API (and its token), GET with a clear error, and
 * printing text or JSON.
 */
import bytes from 'bytes'
import ms from 'ms'

/** A non-negative integer option; a clear error naming the flag otherwise. */
export const int = (name: string) => (value: string): number => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`)
  return n
}

/** A size option: bytes, or with a unit (`256MiB`, `1GB`, `64kb`); a clear error naming the flag otherwise. */
export const sizeOption = (name: string) => (value: string): number => {
  const n = /^\d+$/.test(value) ? Number(value) : bytes.parse(value.replace(/iB$/i, 'B'))
  if (n == null || !Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a size such as 268435456, 256MiB or 1GB, got "${value}"`)
  return n
}

/** A duration option in ms: `90d`, `12h`, `30m`, or plain milliseconds. */
export const durationOption = (name: string) => (value: string): number => {
  const n = /^\d+$/.test(value) ? Number(value) : ms(value as ms.StringValue)
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a duration such as 90d, 12h or 3600000 (ms), got "${value}"`)
  return n
}

export interface ApiTarget { url: string, token?: string }

/** Finds a running daemon's API: --api URL, else <datadir>/api.json. */
export async function apiTarget (opts: { api?: string, datadir: string, apiToken?: string }): Promise<ApiTarget> {
  const { clientApiToken } = await import('../api/auth.js')
  const token = await clientApiToken({ token: opts.apiToken, datadir: opts.datadir })
  if (opts.api != null) return { url: opts.api.startsWith('http') ? opts.api : `http://${opts.api}`, token }
  const { readFile } = await import('node:fs/promises')
  const { join } = await import('node:path')
  const { API_FILE } = await import('../constants.js')
  const path = join(opts.datadir, API_FILE)
  try {
    const info = JSON.parse(await readFile(path, 'utf8')) as { url: string }
    return { url: info.url, token }
  } catch {
    throw new Error(`no running daemon found for datadir ${opts.datadir} (${path} is missing): start \`murmur daemon --datadir ${opts.datadir} ...\` or pass --api HOST:PORT`)
  }
}

export async function get<T> (target: ApiTarget, path: string): Promise<T> {
  const { apiGet } = await import('../api/index.js')
  try {
    return await apiGet<T>(target.url, path, { token: target.token })
  } catch (err) {
    throw new Error(`cannot reach the daemon at ${target.url}: ${(err as Error).message}`)
  }
}

export function print (json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : human() + '\n')
}

