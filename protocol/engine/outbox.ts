/**
 * What leaves a peer: header fields (sequence numbers, lineage), sealing, sending through the transport and
 * the behaviour seam (a simulated adversary may rewrite, multiply or drop an outgoing update), and the counters
 * and 'sent' events of every send.
 */
import type { AbortOptions, PeerKey, Rng } from '../interfaces.js'
import { MAX_PARENTS } from '../messages/constants.js'
import { ENGINE_METRICS, type PeerEngineOptions } from './constants.js'
import type { Counters } from './counters.js'
import {
  UPDATE_KIND_NAMES, type BehaviourContext, type OutgoingUpdate, type PeerEngineComponents, type PeerEngineEvents,
  type ReceivedModel, type SentEnvelope, type UpdateFields, type UpdateKind
} from './types.js'

/** What the outbox reads from the engine core. */
export interface OutboxHost {
  readonly self: PeerKey
  readonly rule: BehaviourContext['rule']
  readonly behaviourRng: Rng
  readonly received: ReadonlyMap<PeerKey, ReceivedModel>
  round: () => number
  emit: <K extends 'sent' | 'error'>(type: K, detail: PeerEngineEvents[K]['detail']) => void
}

export class Outbox {
  /** The next sequence number. */
  seq = 0
  private parents: string[] = []
  private readonly sentLog: SentEnvelope[] = []
  constructor (
    private readonly c: PeerEngineComponents,
    private readonly options: Readonly<PeerEngineOptions>,
    private readonly counters: Counters,
    private readonly host: OutboxHost
  ) {}

  /** Records a merged update as a parent of the next envelope (the most recent MAX_PARENTS). */
  addParent (id: string): void {
    this.parents.push(id)
    if (this.parents.length > MAX_PARENTS) this.parents.splice(0, this.parents.length - MAX_PARENTS)
  }

  private takeParents (): string[] {
    const p = this.parents
    this.parents = []
    return p
  }

  fields (kind: UpdateKind, weight: number, parents = this.takeParents()): UpdateFields {
    return { kind, round: this.host.round(), seq: this.seq++, examples: Math.max(0, Math.floor(this.c.learner.numExamples())), weight, parents }
  }

  behaviourContext (honest: Float32Array): BehaviourContext {
    return {
      self: this.host.self,
      round: this.host.round(),
      rule: this.host.rule,
      rng: this.host.behaviourRng,
      honest,
      received: this.host.received,
      neighbours: this.c.transport.neighbours(),
      sentLog: this.sentLog,
      nextSeq: () => this.seq++,
      seal: async (fields, weights) => await this.c.envelopes.seal(fields, weights),
      send: async (peer, bytes, options) => { await this.sendBytes(peer, bytes, null, options) }
    }
  }

  /** Sends raw bytes; counts them; returns whether the transport took them. */
  private async sendBytes (peer: PeerKey, bytes: Uint8Array, meta: { id: string, kind: UpdateKind } | null, options?: AbortOptions): Promise<boolean> {
    let ok = true
    try {
      await this.c.transport.send(peer, bytes, options)
      this.counters.count('bytesSent', bytes.length, ENGINE_METRICS.bytesSent)
    } catch (err) {
      if (options?.signal?.aborted === true) throw err
      ok = false
      this.counters.count('sendFailures', 1, ENGINE_METRICS.sendFailures)
      this.c.logger?.debug({ peer, err: (err as Error).message }, 'send failed')
    }
    if (meta != null) this.host.emit('sent', { to: peer, id: meta.id, kind: meta.kind, bytes: bytes.length, ok })
    return ok
  }

  /**
   * Seals and sends an update to its recipients, through the behaviour when one is installed.
   * Returns the honest envelope's id and the recipients the transport accepted.
   */
  async emitUpdate (fields: UpdateFields, weights: Float32Array, to: PeerKey[], honest: Float32Array, options: AbortOptions): Promise<{ id: string, delivered: PeerKey[] }> {
    let updates: OutgoingUpdate[] = [{ ...fields, to, weights }]
    const b = this.c.behaviour
    if (b?.outgoing != null) {
      const r = await b.outgoing(updates[0], this.behaviourContext(honest))
      updates = Array.isArray(r) ? r : [r]
    }
    let firstId = ''
    const delivered: PeerKey[] = []
    for (const u of updates) {
      const { to: targets, weights: w, ...f } = u
      let sealed: { bytes: Uint8Array, id: string }
      try {
        sealed = await this.c.envelopes.seal(f, w)
      } catch (err) {
        // e.g. a diverged model (NaN) or a float16 overflow: nothing leaves; push-sum keeps the unsent mass
        this.counters.count('sendFailures', targets.length, ENGINE_METRICS.sendFailures)
        this.c.logger?.warn({ err: (err as Error).message, round: f.round }, 'could not seal update')
        this.host.emit('error', err as Error)
        continue
      }
      if (firstId === '') firstId = sealed.id
      if (b != null) { // own envelopes are kept only for behaviours (replay); 16 x model size per peer otherwise
        this.sentLog.unshift({ id: sealed.id, seq: f.seq, round: f.round, kind: f.kind, to: targets, bytes: sealed.bytes })
        if (this.sentLog.length > this.options.sentLogSize) this.sentLog.length = this.options.sentLogSize
      }
      const results = await Promise.all(targets.map(async (peer) => {
        const ok = await this.sendBytes(peer, sealed.bytes, { id: sealed.id, kind: f.kind }, options)
        return ok ? peer : null
      }))
      for (const p of results) {
        if (p == null) continue
        delivered.push(p)
        this.counters.count('updatesSent', 1, ENGINE_METRICS.updatesSent, { kind: UPDATE_KIND_NAMES[f.kind] ?? String(f.kind) })
      }
    }
    return { id: firstId, delivered }
  }
}
