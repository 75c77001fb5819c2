/**
 * Real daemon processes on 127.0.0.1, for `murmur testnet` and the end-to-end tests: spawn one, read the
 * multiaddrs and API URL it prints, poll its API, stop it with SIGTERM (or kill it with SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { basename, dirname, join, resolve } from 'node:path'
import { apiGet, readApiToken } from './api/index.js'

const HERE = dirname(fileURLToPath(import.meta.url))
/** The package root: one folder above node/, two above the compiled build's dist/node/. */
export const REPO_ROOT = basename(dirname(HERE)) === 'dist' ? resolve(HERE, '..', '..') : resolve(HERE, '..')
export const MURMUR_BIN = join(REPO_ROOT, 'bin', 'murmur.js')

export class DaemonExitedError extends Error {
  static override name = 'DaemonExitedError'
  override name = 'DaemonExitedError'
}

export interface SpawnDaemonInit {
  datadir: string
  network: string
  data: string
  bootstrap?: string[]
  /** Listen addresses (default one free port on 127.0.0.1). */
  listen?: string[]
  roundIntervalMs?: number
  localSteps?: number
  evaluateEvery?: number
  extraArgs?: string[]
  env?: Record<string, string>
  /** Give up waiting for the daemon's addresses after this long. */
  startTimeoutMs?: number
  /** Receives each stderr line (logs). */
  onLog?: (line: string) => void
  /** The CLI entry to run (default bin/murmur.js: the compiled build, or the sources through tsx when it is stale). */
  bin?: string
  /** Called with the child process as soon as it is spawned (before it prints its addresses). */
  onSpawn?: (child: ChildProcess) => void
}

export interface DaemonProcess {
  child: ChildProcess
  datadir: string
  addresses: string[]
  apiUrl: string
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>
  stderrTail: () => string
  get: <T = any>(path: string) => Promise<T>
  /** SIGTERM and wait; resolves with the exit code. */
  stop: (timeoutMs?: number) => Promise<number | string>
  /** SIGKILL and wait. */
  kill: () => Promise<number | string>
}

/** Daemons this process spawned and that still run: killed when this process exits, so none outlives a failed test. */
const liveChildren = new Set<ChildProcess>()
process.once('exit', () => { for (const c of liveChildren) c.kill('SIGKILL') })

export async function spawnDaemon (init: SpawnDaemonInit): Promise<DaemonProcess> {
  const args = [init.bin ?? MURMUR_BIN, 'daemon', '--datadir', init.datadir, '--network', init.network, '--data', init.data,
    ...(init.listen ?? ['/ip4/127.0.0.1/tcp/0']).flatMap((a) => ['--listen', a]), '--api', '127.0.0.1:0',
    '--round-interval-ms', String(init.roundIntervalMs ?? 200),
    ...(init.localSteps != null ? ['--local-steps', String(init.localSteps)] : []),
    ...(init.evaluateEvery != null ? ['--evaluate-every', String(init.evaluateEvery)] : []),
    ...(init.bootstrap ?? []).flatMap((b) => ['--bootstrap', b]),
    ...(init.extraArgs ?? [])]
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MURMUR_LOG_LEVEL: process.env.MURMUR_DAEMON_LOG_LEVEL ?? 'info', ...init.env }
  })
  init.onSpawn?.(child)
  liveChildren.add(child)
  child.once('exit', () => { liveChildren.delete(child) })
  const exited = new Promise<number | string>((resolve) => { child.once('exit', (code, signal) => { resolve(code ?? signal ?? -1) }) })
  let tail = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (d: string) => {
    tail = (tail + d).slice(-8000)
    if (init.onLog != null) for (const line of d.split('\n')) if (line !== '') init.onLog(line)
  })
  const addresses: string[] = []
  const apiUrl = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => { reject(new DaemonExitedError(`daemon ${init.datadir} printed no addresses within ${init.startTimeoutMs ?? 60_000} ms; stderr: ${tail.slice(-2000)}`)) }, init.startTimeoutMs ?? 60_000)
    child.stdout?.setEncoding('utf8')
    child.stdout?.on('data', (d: string) => {
      out += d
      let nl
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl).trim(); out = out.slice(nl + 1)
        if (line.startsWith('api ')) { clearTimeout(timer); resolve(line.slice(4)); return }
        if (line.startsWith('/')) addresses.push(line)
      }
    })
    void exited.then((code) => { clearTimeout(timer); reject(new DaemonExitedError(`daemon ${init.datadir} exited (${String(code)}) before it started: ${tail.slice(-3000)}`)) })
  })
  const waitExit = async (timeoutMs: number): Promise<number | string> => {
    let t: NodeJS.Timeout | undefined
    const r = await Promise.race([exited, new Promise<'timeout'>((resolve) => { t = setTimeout(() => { resolve('timeout') }, timeoutMs) })])
    clearTimeout(t)
    if (r === 'timeout') { child.kill('SIGKILL'); return await exited }
    return r
  }
  return {
    child,
    datadir: init.datadir,
    addresses,
    apiUrl,
    exited,
    stderrTail: () => tail,
    get: async <T>(path: string) => await apiGet<T>(apiUrl, path, { token: await readApiToken(init.datadir) }),
    stop: async (timeoutMs = 20_000) => { if (child.exitCode == null && child.signalCode == null) child.kill('SIGTERM'); return await waitExit(timeoutMs) },
    kill: async () => { if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL'); return await exited }
  }
}

/** Polls until `cond` holds (checked every `intervalMs`), or rejects after `timeoutMs` naming `what`. */
export async function waitFor<T> (what: string, probe: () => Promise<T>, cond: (value: T) => boolean, options: { timeoutMs?: number, intervalMs?: number, signal?: AbortSignal } = {}): Promise<T> {
  const end = Date.now() + (options.timeoutMs ?? 60_000)
  let last: T | undefined
  let lastErr: Error | undefined
  for (;;) {
    options.signal?.throwIfAborted()
    try {
      last = await probe()
      if (cond(last)) return last
    } catch (err) { lastErr = err as Error }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${lastErr != null ? ` (last error: ${lastErr.message})` : ''}${last !== undefined ? ` (last value: ${JSON.stringify(last).slice(0, 300)})` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200))
  }
}
