/** Test helpers for the engine: an in-memory transport network, tiny pure learners, clocks, metrics. */
import type {
  AbortOptions, Clock, Incoming, Learner, Metrics, PeerKey, RefusalReason, TrainResult, Transport
} from '../../protocol/interfaces.js'
import type { Rng } from '../../protocol/rng.js'

interface Delivery { to: PeerKey, message: Incoming }

/**
 * Peers connected by a graph; `send` queues a delivery that `deliverAll` hands to the receiver's handler in
 * FIFO order (the test decides when: synchronous or interleaved). Optional loss drops deliveries.
 */
export class MemoryNetwork {
  readonly queue: Delivery[] = []
  readonly handlers = new Map<PeerKey, (m: Incoming) => Promise<RefusalReason | null>>()
  readonly verdicts: Array<{ from: PeerKey, to: PeerKey, reason: RefusalReason | null }> = []
  neighbours = new Map<PeerKey, PeerKey[]>()
  loss = 0
  rng: Rng | null = null
  unreachable = new Set<PeerKey>()

  transport (self: PeerKey): Transport {
    return {
      self,
      maxAnnounceBytes: 1 << 16,
      neighbours: () => this.neighbours.get(self) ?? [],
      send: async (peer: PeerKey, bytes: Uint8Array) => {
        if (this.unreachable.has(peer)) throw new Error(`peer ${peer.slice(0, 8)} unreachable`)
        if (this.rng != null && this.loss > 0 && this.rng.next() < this.loss) return
        this.queue.push({ to: peer, message: { from: self, bytes, via: 'direct' } })
      },
      announce: async () => {},
      onMessage: (handler) => { this.handlers.set(self, handler) }
    }
  }

  /** Delivers queued messages (and those they cause) until the queue is empty. Returns how many. */
  async deliverAll (limit = 1_000_000): Promise<number> {
    let n = 0
    while (this.queue.length > 0 && n < limit) {
      const d = this.queue.shift() as Delivery
      const h = this.handlers.get(d.to)
      if (h == null) continue
      const reason = await h(d.message)
      this.verdicts.push({ from: d.message.from, to: d.to, reason })
      n++
    }
    return n
  }
}

/** A vector learner: weights are the model; `train` pulls toward `target` (quadratic loss), or does nothing. */
export class VectorLearner implements Learner {
  readonly schemaHash = 'ab'.repeat(32)
  readonly numParams: number
  readonly calls: string[] = []
  w: Float32Array
  constructor (initial: Float32Array, public examples = 100, public target: Float32Array | null = null, public lr = 0.1) {
    this.numParams = initial.length
    this.w = Float32Array.from(initial)
  }

  numExamples (): number { return this.examples }
  async train (steps: number, _options?: AbortOptions): Promise<TrainResult> {
    this.calls.push(`train:${steps}`)
    let loss = 0
    for (let s = 0; s < steps; s++) {
      loss = 0
      if (this.target == null) break
      for (let i = 0; i < this.w.length; i++) {
        const d = this.w[i] - this.target[i]
        loss += 0.5 * d * d
        this.w[i] -= this.lr * d
      }
    }
    return { steps, loss, examples: this.examples }
  }

  weights (): Float32Array { this.calls.push('weights'); return this.w.slice() }
  setWeights (w: Float32Array): void {
    this.calls.push('setWeights')
    if (w.length !== this.numParams) throw new RangeError('length')
    this.w = Float32Array.from(w)
  }

  async evaluate (): Promise<Record<string, number>> {
    this.calls.push('evaluate')
    let s = 0
    for (const v of this.w) s += v * v
    return { norm: Math.sqrt(s) }
  }
}

/** A clock whose sleep resolves on the next macrotask (virtual time advances by ms). */
export class StepClock implements Clock {
  t = 0
  now (): number { return this.t }
  async sleep (ms: number, options?: AbortOptions): Promise<void> {
    options?.signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const timer = setImmediate(() => { options?.signal?.removeEventListener('abort', onAbort); this.t += ms; resolve() })
      const onAbort = (): void => { clearImmediate(timer); reject(options?.signal?.reason) }
      options?.signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
}

/** Metrics that record everything. */
export class RecordingMetrics implements Metrics {
  readonly counters = new Map<string, number>()
  readonly gauges = new Map<string, number>()
  private key (name: string, labels?: Record<string, string>): string {
    return labels == null ? name : `${name}{${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',')}}`
  }

  increment (name: string, labels?: Record<string, string>, by = 1): void {
    const k = this.key(name, labels)
    this.counters.set(k, (this.counters.get(k) ?? 0) + by)
  }

  set (name: string, value: number, labels?: Record<string, string>): void { this.gauges.set(this.key(name, labels), value) }
  observe (name: string, value: number, labels?: Record<string, string>): void { this.set(name, value, labels) }
}

/** Waits until `cond()` is true, polling on macrotasks (no fixed sleeps); throws after `maxTurns`. */
export async function waitFor (cond: () => boolean, maxTurns = 100_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (cond()) return
    await new Promise((resolve) => setImmediate(resolve))
  }
  throw new Error('condition not reached')
}
