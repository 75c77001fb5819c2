/**
 * A minimal request/response protocol over a worker thread's message port, used between the coordinator and
 * the worlds it drives. Errors cross the boundary with their name and message (tests match on `.name`).
 */
import type { MessagePort, Transferable, Worker } from 'node:worker_threads'

const DEBUG = process.env.MURMUR_SIM_DEBUG != null

export interface RpcRequest { id: number, method: string, args: unknown[] }
export type RpcResponse = { id: number, ok: true, value: unknown } | { id: number, ok: false, error: { name: string, message: string, stack?: string } }

export class WorkerFailedError extends Error {
  static override name = 'WorkerFailedError'
  override name = 'WorkerFailedError'
}

/** Rebuilds an error that crossed a thread boundary, keeping its name. */
export function reviveError (e: { name: string, message: string, stack?: string }): Error {
  const err = new Error(e.message)
  err.name = e.name
  if (e.stack != null) err.stack = e.stack
  return err
}

/** Collects the ArrayBuffers of every typed array in a value (one level into arrays and objects). */
export function transferables (value: unknown): Transferable[] {
  const out = new Set<ArrayBuffer>()
  collect(value, out, 0)
  return [...out]
}

function collect (value: unknown, out: Set<ArrayBuffer>, depth: number): void {
  if (value == null || depth > 4 || typeof value !== 'object') return
  if (ArrayBuffer.isView(value)) {
    const buf = value.buffer
    if (buf instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === buf.byteLength) out.add(buf)
    return
  }
  if (Array.isArray(value)) { for (const v of value) collect(v, out, depth + 1); return }
  for (const v of Object.values(value as object)) collect(v, out, depth + 1)
}

/** Client side: calls methods on a worker and awaits their results. */
export class RpcClient {
  #next = 0
  readonly #pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  readonly #worker: Worker
  #failed: Error | null = null

  constructor (worker: Worker) {
    this.#worker = worker
    worker.on('message', (msg: RpcResponse) => {
      if (DEBUG) process.stderr.write(`rpc <- ${msg.id} ${msg.ok ? 'ok' : 'error ' + msg.error.message}\n`)
      const p = this.#pending.get(msg.id)
      if (p == null) return
      this.#pending.delete(msg.id)
      if (msg.ok) p.resolve(msg.value)
      else p.reject(reviveError(msg.error))
    })
    const fail = (err: Error): void => {
      this.#failed = err
      for (const p of this.#pending.values()) p.reject(err)
      this.#pending.clear()
    }
    worker.on('error', (err) => fail(new WorkerFailedError(`simulation worker failed: ${err.message}`)))
    worker.on('exit', (code) => { if (this.#pending.size > 0) fail(new WorkerFailedError(`simulation worker exited with code ${code}`)) })
  }

  async call<T> (method: string, args: unknown[], transfer = false): Promise<T> {
    if (this.#failed != null) throw this.#failed
    const id = this.#next++
    const { promise, resolve, reject } = Promise.withResolvers<unknown>()
    this.#pending.set(id, { resolve, reject })
    const request: RpcRequest = { id, method, args }
    if (DEBUG) process.stderr.write(`rpc -> ${id} ${method}\n`)
    this.#worker.postMessage(request, transfer ? transferables(args) : [])
    return await promise as T
  }
}

/** Server side: serves one object's methods on a port, one call at a time (in arrival order). */
export function serve (port: MessagePort, target: Record<string, (...args: any[]) => unknown>): void {
  let chain: Promise<void> = Promise.resolve()
  port.on('message', (request: RpcRequest) => {
    chain = chain.then(async () => {
      try {
        const fn = target[request.method]
        if (typeof fn !== 'function') throw new Error(`no method ${request.method}`)
        const value = await fn(...request.args)
        const response: RpcResponse = { id: request.id, ok: true, value }
        port.postMessage(response, transferables(value))
      } catch (err) {
        const e = err as Error
        const response: RpcResponse = { id: request.id, ok: false, error: { name: e?.name ?? 'Error', message: e?.message ?? String(err), stack: e?.stack } }
        port.postMessage(response)
      }
    })
  })
}
