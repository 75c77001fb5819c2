/**
 * The peer engine: what one peer does, the same in the daemon and the simulator. See index.ts for the
 * factory and docs/averaging.md for the lifecycle.
 */
import {
  RefusalReason, type AbortOptions, type Incoming, type PeerKey, type Rng
} from '../interfaces.js'
import { parseAveragingParams, type AveragingParams } from '../averaging/params.js'
import { combine, type CombineInput } from '../averaging/combine.js'
import { pairwiseDelta, pairwiseMean } from '../averaging/pairwise.js'
import { pushSumAbsorb } from '../averaging/push-sum.js'
import { metropolisHastingsWeight, stalenessDiscount } from '../averaging/graph-weights.js'
import { distance, norm } from '../averaging/vector.js'
import { defaultPeerEngineOptions, ENGINE_METRICS, type PeerEngineOptions } from './constants.js'
import { createMemoryReplayGuard, type ReplayGuard } from '../messages/replay.js'
import { MAX_PARENTS } from '../messages/constants.js'
import type { Checkpoint, EquivocationEvidence, ReplayMark, StoreBatch, UpdateLogEntry } from './store.js'
import {
  UpdateKind, UPDATE_KIND_NAMES, type BehaviourContext, type EngineTotals, type OutgoingUpdate, type PeerEngine,
  type PeerEngineComponents, type PeerEngineEvents, type PeerEngineInit, type ReceivedModel, type RoundReport,
  type SentEnvelope, type TrafficCounters, type UpdateFields, type UpdateHeader
} from './types.js'

/** Thrown for invalid engine options (names the option). */
export class InvalidEngineOptionsError extends Error {
  static override name = 'InvalidEngineOptionsError'
  override name = 'InvalidEngineOptionsError'
}

/** Thrown when the engine's steps are called out of order (beginRound twice without endRound). */
export class EngineStateError extends Error {
  static override name = 'EngineStateError'
  override name = 'EngineStateError'
}

/** Thrown when a stored checkpoint does not fit the learner (schema or length). */
export class CheckpointMismatchError extends Error {
  static override name = 'CheckpointMismatchError'
  override name = 'CheckpointMismatchError'
}

/** Sequence numbers skipped after a restart, so no seq sent after the last checkpoint is ever reused. */
export const SEQ_RESTART_GAP = 1024

interface PendingExchange { id: string, to: PeerKey, sent: Float32Array, mass: number, round: number }
interface Buffered { id: string, sender: PeerKey, round: number, mass: number, weights: Float32Array }

function mergeOptions (init: PeerEngineInit): { options: PeerEngineOptions, params: AveragingParams } {
  const { averaging, ...rest } = init
  const options: PeerEngineOptions = { ...defaultPeerEngineOptions }
  for (const [k, v] of Object.entries(rest)) {
    if (v === undefined) continue
    if (!(k in defaultPeerEngineOptions)) throw new InvalidEngineOptionsError(`unknown engine option '${k}'`)
    const def = (defaultPeerEngineOptions as Record<string, unknown>)[k]
    if (typeof def !== typeof v) throw new InvalidEngineOptionsError(`engine option '${k}' must be a ${typeof def}, got ${typeof v}`)
    if (typeof v === 'number' && (!Number.isFinite(v) || v < 0)) throw new InvalidEngineOptionsError(`engine option '${k}' must be a finite number >= 0, got ${v}`)
    ;(options as Record<string, unknown>)[k] = v
  }
  const params = parseAveragingParams(averaging ?? defaultPeerEngineOptions.averaging, 'averaging')
  options.averaging = params
  return { options, params }
}

export class DefaultPeerEngine extends EventTarget implements Omit<PeerEngine, 'addEventListener' | 'removeEventListener'> {
  readonly self: PeerKey
  readonly params: AveragingParams
  readonly options: Readonly<PeerEngineOptions>
  private readonly c: PeerEngineComponents
  private readonly partnerRng: Rng
  private readonly behaviourRng: Rng
  private _round = 0
  private _seq = 0
  private _w = 1
  private initialised: Promise<void> | null = null
  private guard: ReplayGuard
  private lock: Promise<unknown> = Promise.resolve()
  // per round
  private acc = this.freshAccumulator()
  private trained = { steps: 0, loss: Number.NaN, examples: 0, trainMs: 0 }
  private begun = false
  // rule state
  private readonly epidemicBuffer = new Map<PeerKey, Buffered>()
  /**
   * Clock time at which the buffered models were last taken for merging: every accepted update received before
   * it is in the model, every one received at or after it may still be pending. Checkpoints record this time
   * (not the time of the save), so recovery after a crash re-buffers exactly what was not merged.
   */
  private bufferTakenAt = Number.NEGATIVE_INFINITY
  private readonly dpsgdBuffer = new Map<number, Map<PeerKey, Buffered>>()
  private readonly pending = new Map<string, PendingExchange>()
  private activeExchange: PendingExchange | null = null
  private parents: string[] = []
  private model: Float32Array | null = null
  /** Bumped whenever `model` is replaced, so values derived from it (its norm) are computed once per version. */
  private modelVersion = 0
  private ownNormCache = { version: -1, value: 0 }
  private readonly received = new Map<PeerKey, ReceivedModel>()
  private readonly sentLog: SentEnvelope[] = []
  private readonly roundCompleteWaiters = new Set<() => void>()
  // totals
  private readonly tot: EngineTotals = { rounds: 0, bytesSent: 0, bytesReceived: 0, updatesSent: 0, updatesMerged: 0, sendFailures: 0, refused: {} }
  // loop
  private loop: Promise<void> | null = null
  private loopAbort: AbortController | null = null

  constructor (init: PeerEngineInit, components: PeerEngineComponents) {
    super()
    const { options, params } = mergeOptions(init)
    this.options = options
    this.params = params
    this.c = components
    this.self = components.transport.self
    this.partnerRng = components.rng.fork('partners')
    this.behaviourRng = components.rng.fork('behaviour')
    this.guard = this.newReplayGuard()
    if (params.rule === 'push-sum') this._w = this.mass()
  }

  private newReplayGuard (marks?: ReplayMark[]): ReplayGuard {
    return createMemoryReplayGuard({ window: Math.max(1, this.options.replayWindow), ...(marks != null ? { marks } : {}) })
  }

  get round (): number { return this._round }
  get seq (): number { return this._seq }
  get pushSumWeight (): number { return this.params.rule === 'push-sum' ? this._w : 1 }
  get running (): boolean { return this.loop != null }

  private freshAccumulator (): TrafficCounters & { distSum: number, distCount: number, ownNorm: number } {
    return { bytesSent: 0, bytesReceived: 0, updatesSent: 0, updatesMerged: 0, sendFailures: 0, refused: {}, distSum: 0, distCount: 0, ownNorm: 0 }
  }

  /** Merge mass by the weighting rule: example count (at least 1) or 1. */
  private mass (): number {
    if (this.params.weighting !== 'examples') return 1
    const n = this.c.learner.numExamples()
    return Number.isFinite(n) && n > 0 ? n : 1
  }

  /** Adds `by` to a counter of this round and of the totals, and to its metric. */
  private count (counter: Exclude<keyof TrafficCounters, 'refused'>, by: number, metric: string, labels?: Record<string, string>): void {
    this.acc[counter] += by
    this.tot[counter] += by
    this.c.metrics?.increment(metric, labels, by)
  }

  /** The transport's current neighbours, without this peer. */
  private others (): PeerKey[] {
    return this.c.transport.neighbours().filter((p) => p !== this.self)
  }

  private emit<K extends keyof PeerEngineEvents & string> (type: K, detail: PeerEngineEvents[K]['detail']): void {
    this.dispatchEvent(new CustomEvent(type, { detail }))
  }

  /** Serialises model read-modify-write sections (training, merges). */
  private async exclusive<T> (fn: () => Promise<T> | T): Promise<T> {
    const run = this.lock.then(fn, fn)
    this.lock = run.catch(() => undefined)
    return await run
  }

  // ------------------------------------------------------------------ init

  async init (options: AbortOptions = {}): Promise<void> {
    this.initialised ??= this.doInit(options)
    await this.initialised
  }

  private async doInit (options: AbortOptions): Promise<void> {
    const { store, learner, transport } = this.c
    const marks = await store.replayMarks(options)
    this.guard = this.newReplayGuard(marks)
    const cp = await store.latestCheckpoint(options)
    if (cp != null) {
      if (cp.schemaHash !== learner.schemaHash) {
        throw new CheckpointMismatchError(`checkpoint schema ${cp.schemaHash} differs from the learner's ${learner.schemaHash}`)
      }
      if (cp.weights.length !== learner.numParams) {
        throw new CheckpointMismatchError(`checkpoint has ${cp.weights.length} weights, the learner ${learner.numParams}`)
      }
      this.setModel(Float32Array.from(cp.weights))
      this._round = cp.round
      this._seq = cp.seq + SEQ_RESTART_GAP
      if (this.params.rule === 'push-sum' && cp.rule === 'push-sum' && cp.pushSumWeight > 0) this._w = cp.pushSumWeight
    }
    if (cp != null) {
      this.bufferTakenAt = cp.savedAt
      await this.recoverBuffered(cp.savedAt, options)
    }
    transport.onMessage(async (message) => await this.handleMessage(message))
    this.c.logger?.info({ round: this._round, seq: this._seq, rule: this.params.rule, restored: cp != null }, 'engine initialised')
  }

  /**
   * Epidemic and dpsgd buffer accepted models until the round ends. After a restart, the models accepted after
   * the last checkpoint (and not merged into it) are re-opened from the update log and buffered again, so an
   * acknowledged update is not lost. Needs `logEnvelopeBytes`.
   */
  private async recoverBuffered (savedAt: number, options: AbortOptions): Promise<void> {
    if (this.params.rule !== 'epidemic' && this.params.rule !== 'dpsgd') return
    const pending: UpdateLogEntry[] = []
    for await (const e of this.c.store.updateLog({ since: savedAt, reverse: true, limit: 10_000 }, options)) {
      // inclusive: an update received in the same millisecond as the buffer was taken may not be in the model
      if (e.receivedAt < savedAt) break
      if (e.verdict === 'accepted' && !e.merged && e.bytes.length > 0) pending.push(e)
    }
    const fresh = this.newReplayGuard()
    let recovered = 0
    for (const e of pending.reverse()) {
      const r = await this.c.envelopes.open(e.bytes, { round: this._round, from: e.sender, replay: fresh })
      if (!r.ok || r.weights.length !== this.c.learner.numParams) continue
      const b: Buffered = { id: r.id, sender: r.header.sender, round: r.header.round, mass: r.header.weight, weights: r.weights }
      if (this.params.rule === 'epidemic') {
        if (this._round - b.round > this.params.maxStalenessRounds) continue
        b.mass = this.params.weighting === 'examples' ? b.mass : 1
        this.epidemicBuffer.set(b.sender, b)
      } else {
        if (b.round < this._round) continue
        let byRound = this.dpsgdBuffer.get(b.round)
        if (byRound == null) { byRound = new Map(); this.dpsgdBuffer.set(b.round, byRound) }
        byRound.set(b.sender, b)
      }
      recovered++
    }
    if (recovered > 0) this.c.logger?.info({ recovered }, 'buffered updates recovered from the update log')
  }

  // ------------------------------------------------------------------ rounds

  async beginRound (options: AbortOptions = {}): Promise<void> {
    await this.init(options)
    options.signal?.throwIfAborted()
    if (this.begun) throw new EngineStateError(`beginRound called twice for round ${this._round} without endRound`)
    this.begun = true
    try {
      await this.doBeginRound(options)
    } catch (err) {
      this.begun = false
      throw err
    }
  }

  private async doBeginRound (options: AbortOptions): Promise<void> {
    const { learner } = this.c
    // 1. round begins: local training
    const honest = await this.exclusive(async () => {
      if (this.options.localSteps > 0) {
        const t0 = this.c.clock.now()
        const r = await learner.train(this.options.localSteps, options)
        this.trained = { steps: r.steps, loss: r.loss, examples: r.examples, trainMs: this.c.clock.now() - t0 }
        this.c.metrics?.set(ENGINE_METRICS.trainLoss, r.loss)
      } else {
        this.trained = { steps: 0, loss: Number.NaN, examples: learner.numExamples(), trainMs: 0 }
      }
      // 2. round ends with my weights
      this.model = learner.weights()
      this.modelVersion++
      return this.model
    })
    options.signal?.throwIfAborted()
    // 3. send per rule
    switch (this.params.rule) {
      case 'epidemic': await this.sendEpidemic(honest, options); break
      case 'push-sum': await this.sendPushSum(honest, options); break
      case 'pairwise': await this.sendPairwise(honest, options); break
      case 'dpsgd': await this.sendDpsgd(honest, options); break
    }
    if (this.c.behaviour?.afterSend != null) await this.c.behaviour.afterSend(this.behaviourContext(honest), options)
  }

  async endRound (options: AbortOptions = {}): Promise<RoundReport> {
    await this.init(options)
    const round = this._round
    // 4. give me merged weights (buffered rules)
    this.bufferTakenAt = this.c.clock.now()
    if (this.params.rule === 'epidemic') await this.mergeEpidemic()
    if (this.params.rule === 'dpsgd') await this.mergeDpsgd(round)
    let evaluation: RoundReport['evaluation']
    const every = this.options.evaluateEveryRounds
    if (every > 0 && (round + 1) % every === 0) {
      evaluation = await this.c.learner.evaluate({ signal: options.signal, split: 'local' })
      for (const [k, v] of Object.entries(evaluation)) this.c.metrics?.set(ENGINE_METRICS.evaluation, v, { metric: k })
    }
    const a = this.acc
    const consensus = a.distCount > 0 ? a.distSum / a.distCount : null
    const report: RoundReport = {
      round,
      rule: this.params.rule,
      steps: this.trained.steps,
      loss: this.trained.loss,
      examples: this.trained.examples,
      trainMs: this.trained.trainMs,
      bytesSent: a.bytesSent,
      bytesReceived: a.bytesReceived,
      updatesSent: a.updatesSent,
      updatesMerged: a.updatesMerged,
      sendFailures: a.sendFailures,
      refused: a.refused,
      consensusDistance: consensus,
      relativeConsensusDistance: consensus != null && a.ownNorm > 0 ? consensus / (a.ownNorm / a.distCount) : null,
      pushSumWeight: this.pushSumWeight,
      ...(evaluation != null ? { evaluation } : {})
    }
    this._round = round + 1
    this.begun = false
    this.acc = this.freshAccumulator()
    this.trained = { steps: 0, loss: Number.NaN, examples: 0, trainMs: 0 }
    this.tot.rounds++
    const m = this.c.metrics
    m?.increment(ENGINE_METRICS.rounds)
    m?.set(ENGINE_METRICS.round, this._round)
    if (consensus != null) m?.set(ENGINE_METRICS.consensusDistance, consensus)
    if (this.params.rule === 'push-sum') m?.set(ENGINE_METRICS.pushSumWeight, this._w)
    const values: Record<string, number> = {
      loss: report.loss, bytesSent: report.bytesSent, bytesReceived: report.bytesReceived,
      updatesSent: report.updatesSent, updatesMerged: report.updatesMerged, pushSumWeight: report.pushSumWeight
    }
    if (consensus != null) values.consensusDistance = consensus
    for (const [k, v] of Object.entries(report.refused)) values[`refused.${k}`] = v
    for (const [k, v] of Object.entries(evaluation ?? {})) values[`eval.${k}`] = v
    const batch: StoreBatch = { metrics: [{ round, at: this.c.clock.now(), values }] }
    const everyCp = this.options.checkpointEveryRounds
    if (everyCp > 0 && this._round % everyCp === 0) batch.checkpoint = this.checkpoint()
    await this.c.store.commit(batch, options)
    this.emit('round', report)
    return report
  }

  async runRound (options: AbortOptions = {}): Promise<RoundReport> {
    await this.beginRound(options)
    return await this.endRound(options)
  }

  roundComplete (): boolean {
    if (this.params.rule !== 'dpsgd') return true
    const got = this.dpsgdBuffer.get(this._round)
    return this.others().every((p) => got?.has(p) === true)
  }

  private checkpoint (): Checkpoint {
    return {
      round: this._round,
      seq: this._seq,
      weights: this.own().slice(),
      pushSumWeight: this.pushSumWeight,
      rule: this.params.rule,
      schemaHash: this.c.learner.schemaHash,
      // buffered rules: the time the buffer was last merged (see bufferTakenAt); others merge on arrival
      savedAt: (this.params.rule === 'epidemic' || this.params.rule === 'dpsgd') && Number.isFinite(this.bufferTakenAt)
        ? this.bufferTakenAt
        : this.c.clock.now()
    }
  }

  // ------------------------------------------------------------------ sending

  private takeParents (): string[] {
    const p = this.parents
    this.parents = []
    return p
  }

  private behaviourContext (honest: Float32Array): BehaviourContext {
    return {
      self: this.self,
      round: this._round,
      rule: this.params.rule,
      rng: this.behaviourRng,
      honest,
      received: this.received,
      neighbours: this.c.transport.neighbours(),
      sentLog: this.sentLog,
      nextSeq: () => this._seq++,
      seal: async (fields, weights) => await this.c.envelopes.seal(fields, weights),
      send: async (peer, bytes, options) => { await this.sendBytes(peer, bytes, null, options) }
    }
  }

  /** Sends raw bytes; counts them; returns whether the transport took them. */
  private async sendBytes (peer: PeerKey, bytes: Uint8Array, meta: { id: string, kind: UpdateKind } | null, options?: AbortOptions): Promise<boolean> {
    let ok = true
    try {
      await this.c.transport.send(peer, bytes, options)
      this.count('bytesSent', bytes.length, ENGINE_METRICS.bytesSent)
    } catch (err) {
      if (options?.signal?.aborted === true) throw err
      ok = false
      this.count('sendFailures', 1, ENGINE_METRICS.sendFailures)
      this.c.logger?.debug({ peer, err: (err as Error).message }, 'send failed')
    }
    if (meta != null) this.emit('sent', { to: peer, id: meta.id, kind: meta.kind, bytes: bytes.length, ok })
    return ok
  }

  /**
   * Seals and sends an update to its recipients, through the behaviour when one is installed.
   * Returns the honest envelope's id and the recipients the transport accepted.
   */
  private async emitUpdate (fields: UpdateFields, weights: Float32Array, to: PeerKey[], honest: Float32Array, options: AbortOptions): Promise<{ id: string, delivered: PeerKey[] }> {
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
        this.count('sendFailures', targets.length, ENGINE_METRICS.sendFailures)
        this.c.logger?.warn({ err: (err as Error).message, round: f.round }, 'could not seal update')
        this.emit('error', err as Error)
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
        this.count('updatesSent', 1, ENGINE_METRICS.updatesSent, { kind: UPDATE_KIND_NAMES[f.kind] ?? String(f.kind) })
      }
    }
    return { id: firstId, delivered }
  }

  private fields (kind: UpdateKind, weight: number, parents = this.takeParents()): UpdateFields {
    return { kind, round: this._round, seq: this._seq++, examples: Math.max(0, Math.floor(this.c.learner.numExamples())), weight, parents }
  }

  private async sendEpidemic (honest: Float32Array, options: AbortOptions): Promise<void> {
    if (this.params.rule !== 'epidemic') return
    const targets = this.partnerRng.sample(this.others(), this.params.fanout)
    if (targets.length === 0) return
    await this.emitUpdate(this.fields(UpdateKind.UPDATE, this.mass()), honest, targets, honest, options)
  }

  private async sendPushSum (honest: Float32Array, options: AbortOptions): Promise<void> {
    if (this.params.rule !== 'push-sum') return
    const targets = this.partnerRng.sample(this.others(), this.params.fanout)
    if (targets.length === 0) return
    // split the mass: keep 1/(k+1), send 1/(k+1) to each target (all under the lock, before any await)
    const share = await this.exclusive(() => {
      const s = this._w / (targets.length + 1)
      this._w = s
      return s
    })
    const { delivered } = await this.emitUpdate(this.fields(UpdateKind.UPDATE, share), honest, targets, honest, options)
    const lost = targets.length - delivered.length
    if (lost > 0) {
      // undelivered shares come back (exact: absorb the snapshot with the weight that did not leave)
      await this.exclusive(() => {
        const r = pushSumAbsorb(this.own(), this._w, honest, share * lost)
        this.setModel(r.z)
        this._w = r.w
      })
    }
  }

  private async sendPairwise (honest: Float32Array, options: AbortOptions): Promise<void> {
    if (this.params.rule !== 'pairwise') return
    // expire the active exchange after the reply timeout (its late reply is still applied, as a delta)
    const active = this.activeExchange
    if (active != null && this._round - active.round >= this.options.pairwiseReplyTimeoutRounds) this.activeExchange = null
    for (const [id, p] of this.pending) if (this._round - p.round > this.options.pairwiseMaxReplyAgeRounds) this.pending.delete(id)
    if (this.activeExchange != null) return
    if (this.partnerRng.next() >= this.params.initiateProbability) return
    const candidates = this.others()
    if (candidates.length === 0) return
    const to = candidates[this.partnerRng.int(candidates.length)]
    const mass = this.mass()
    const fields = this.fields(UpdateKind.PAIRWISE_REQUEST, mass)
    const exchange: PendingExchange = { id: '', to, sent: honest.slice(), mass, round: this._round }
    this.activeExchange = exchange // busy from now on (also while sealing)
    const { id, delivered } = await this.emitUpdate(fields, honest, [to], honest, options)
    exchange.id = id
    if (delivered.length === 0) {
      if (this.activeExchange === exchange) this.activeExchange = null
      return
    }
    this.pending.set(id, exchange)
  }

  private async sendDpsgd (honest: Float32Array, options: AbortOptions): Promise<void> {
    const neighbours = this.others()
    if (neighbours.length === 0) return
    await this.emitUpdate(this.fields(UpdateKind.DPSGD, neighbours.length), honest, neighbours, honest, options)
  }

  // ------------------------------------------------------------------ merging (buffered rules)

  private merges (): boolean {
    const b = this.c.behaviour
    if (b?.merges == null) return true
    return b.merges(this.behaviourContext(this.own()))
  }

  private async mergeEpidemic (): Promise<void> {
    if (this.params.rule !== 'epidemic') return
    const params = this.params
    const buffered = [...this.epidemicBuffer.values()]
    this.epidemicBuffer.clear()
    if (buffered.length === 0 || !this.merges()) return
    await this.exclusive(() => {
      const own = this.own()
      // robust merges never trust self-reported example counts (an attacker sets its own): uniform masses
      const trustMass = params.merge === 'mean'
      const inputs: CombineInput[] = buffered.map((b) => ({
        weights: b.weights,
        mass: (trustMass ? b.mass : 1) * stalenessDiscount(this._round - b.round, params.stalenessHalfLifeRounds)
      }))
      const { merged } = combine({ weights: own, mass: trustMass ? this.mass() : 1 }, inputs, params)
      this.setModel(merged)
    })
    this.countMerged(buffered.length)
    for (const b of buffered) this.addParent(b.id)
  }

  private async mergeDpsgd (round: number): Promise<void> {
    if (this.params.rule !== 'dpsgd') return
    const params = this.params
    const got = this.dpsgdBuffer.get(round)
    for (const r of [...this.dpsgdBuffer.keys()]) if (r <= round) this.dpsgdBuffer.delete(r)
    if (got == null || got.size === 0 || !this.merges()) return
    const degree = this.others().length
    const inputs = [...got.values()]
    await this.exclusive(() => {
      const own = this.own()
      // Metropolis-Hastings: W_ij = 1/(1+max(d_i,d_j)); missing neighbours' weight stays with self
      const ws = inputs.map((b) => metropolisHastingsWeight(Math.max(degree, 1), Math.max(1, Math.round(b.mass))))
      const selfW = Math.max(0, 1 - ws.reduce((s, x) => s + x, 0))
      const { merged } = combine({ weights: own, mass: selfW }, inputs.map((b, i) => ({ weights: b.weights, mass: ws[i] })), params)
      this.setModel(merged)
    })
    this.countMerged(inputs.length)
    for (const b of inputs) this.addParent(b.id)
  }

  private countMerged (n: number): void {
    this.count('updatesMerged', n, ENGINE_METRICS.updatesMerged)
  }

  private addParent (id: string): void {
    this.parents.push(id)
    if (this.parents.length > MAX_PARENTS) this.parents.splice(0, this.parents.length - MAX_PARENTS)
  }

  // ------------------------------------------------------------------ receiving

  private refuse (reason: RefusalReason, from: PeerKey, detail?: string, id?: string): RefusalReason {
    this.acc.refused[reason] = (this.acc.refused[reason] ?? 0) + 1
    this.tot.refused[reason] = (this.tot.refused[reason] ?? 0) + 1
    this.c.metrics?.increment(ENGINE_METRICS.updatesRefused, { reason })
    this.emit('refused', { from, reason, ...(detail != null ? { detail } : {}), ...(id != null ? { id } : {}) })
    return reason
  }

  private logEntry (header: Partial<UpdateHeader> | undefined, from: PeerKey, id: string, bytes: Uint8Array, reason: RefusalReason | null, merged: boolean): UpdateLogEntry {
    return {
      id,
      sender: header?.sender ?? from,
      round: header?.round ?? -1,
      seq: header?.seq ?? -1,
      kind: header?.kind ?? -1,
      verdict: reason == null ? 'accepted' : 'refused',
      reason,
      merged,
      receivedAt: this.c.clock.now(),
      parents: header?.parents ?? [],
      bytes: this.options.logEnvelopeBytes ? bytes : new Uint8Array(0)
    }
  }

  private async commitRefusal (reason: RefusalReason, incoming: Incoming, header?: Partial<UpdateHeader>, id = '', detail?: string, extra: StoreBatch = {}): Promise<RefusalReason> {
    this.refuse(reason, header?.sender ?? incoming.from, detail, id === '' ? undefined : id)
    if (this.options.logRefused || extra.evidence != null) {
      const batch: StoreBatch = { ...extra }
      if (this.options.logRefused) batch.log = [this.logEntry(header, incoming.from, id, incoming.bytes, reason, false)]
      await this.c.store.commit(batch)
    }
    return reason
  }

  async handleMessage (incoming: Incoming, options: AbortOptions = {}): Promise<RefusalReason | null> {
    await this.init(options)
    const size = incoming.bytes.length
    this.count('bytesReceived', size, ENGINE_METRICS.bytesReceived)
    if (incoming.from === this.self) return await this.commitRefusal(RefusalReason.SELF, incoming, undefined, '', 'from self')
    let opened
    try {
      opened = await this.c.envelopes.open(incoming.bytes, { round: this._round, from: incoming.from, replay: this.guard })
    } catch (err) {
      return await this.commitRefusal(RefusalReason.MALFORMED, incoming, undefined, '', (err as Error).message)
    }
    if (!opened.ok) {
      if (opened.reason === RefusalReason.EQUIVOCATION && opened.header?.sender != null && opened.header.seq != null) {
        return await this.equivocation(incoming, opened.header as UpdateHeader, opened.id ?? '', opened.previousId ?? '')
      }
      return await this.commitRefusal(opened.reason, incoming, opened.header, opened.id ?? '', opened.detail)
    }
    const { header, id } = opened
    let weights = opened.weights
    if (header.sender === this.self) return await this.commitRefusal(RefusalReason.SELF, incoming, header, id, 'own envelope')
    if (weights.length !== this.c.learner.numParams) {
      return await this.commitRefusal(RefusalReason.LENGTH_MISMATCH, incoming, header, id, `${weights.length} weights, expected ${this.c.learner.numParams}`)
    }
    // round window (per rule)
    const rule = this.params.rule
    const lag = this._round - header.round
    const maxLag = rule === 'epidemic' ? Math.min(this.params.maxStalenessRounds, this.options.maxRoundLag) : rule === 'dpsgd' ? 0 : this.options.maxRoundLag
    const maxLead = rule === 'dpsgd' ? Math.min(2, this.options.maxRoundLead) : this.options.maxRoundLead
    const isReply = header.kind === UpdateKind.PAIRWISE_REPLY
    if (!isReply && lag > maxLag) return await this.commitRefusal(RefusalReason.STALE_ROUND, incoming, header, id, `round ${header.round}, ours ${this._round}`)
    if (!isReply && -lag > maxLead) return await this.commitRefusal(RefusalReason.FUTURE_ROUND, incoming, header, id, `round ${header.round}, ours ${this._round}`)
    // kind must belong to the rule
    const allowed = rule === 'pairwise' ? [UpdateKind.PAIRWISE_REQUEST, UpdateKind.PAIRWISE_REPLY] : [UpdateKind.UPDATE]
    if (!(allowed as number[]).includes(header.kind)) {
      return await this.commitRefusal(RefusalReason.MALFORMED, incoming, header, id, `kind ${header.kind} is not used by rule ${rule}`)
    }
    if (!(Number.isFinite(header.weight) && header.weight >= 0)) {
      return await this.commitRefusal(RefusalReason.MALFORMED, incoming, header, id, `weight ${header.weight}`)
    }
    // replay and equivocation
    const verdict = this.guard.check(header.sender, header.seq, id)
    if (!verdict.ok) {
      if (verdict.reason === 'EQUIVOCATION') return await this.equivocation(incoming, header, id, verdict.previousId)
      return await this.commitRefusal(RefusalReason.REPLAYED, incoming, header, id, verdict.detail)
    }
    const mark = this.guard.commit(header.sender, header.seq, id)
    // Lamport round clock for asynchronous rules: a peer that falls behind jumps to the newest round it has
    // accepted, so peers running at different speeds do not drift apart and refuse each other as STALE_ROUND.
    if (this.options.lamportRounds && rule !== 'dpsgd' && header.round > this._round) this._round = header.round
    if (opened.indices != null) {
      // sparse payload: coordinates not sent take our own values (they do not move the merge)
      const filled = this.own().slice()
      for (const i of opened.indices) filled[i] = weights[i]
      weights = filled
    }
    // consensus estimate and last-received (before merging)
    this.observe(header, weights)
    let merged = false
    let refusal: RefusalReason | null = null
    const mergeAllowed = this.merges()
    switch (header.kind) {
      case UpdateKind.UPDATE:
        if (rule === 'dpsgd') {
          let byRound = this.dpsgdBuffer.get(header.round)
          if (byRound == null) { byRound = new Map(); this.dpsgdBuffer.set(header.round, byRound) }
          byRound.set(header.sender, { id, sender: header.sender, round: header.round, mass: header.weight, weights })
          if (this.roundComplete()) for (const w of this.roundCompleteWaiters) w()
        } else if (rule === 'push-sum') {
          const absorbed = await this.exclusive(() => {
            // a hostile weight near Number.MAX_VALUE would overflow ours to Infinity (then NaN models)
            if (!Number.isFinite(this._w + header.weight)) return false
            if (mergeAllowed) {
              const r = pushSumAbsorb(this.own(), this._w, weights, header.weight)
              this.setModel(r.z)
              this._w = r.w
            } else {
              this._w += header.weight // keep the mass, do not move the model (static attacker)
            }
            return true
          })
          if (!absorbed) refusal = RefusalReason.NON_FINITE
          merged = absorbed && mergeAllowed
        } else {
          const prev = this.epidemicBuffer.get(header.sender)
          if (prev == null || prev.round <= header.round) {
            this.epidemicBuffer.set(header.sender, { id, sender: header.sender, round: header.round, mass: this.params.weighting === 'examples' ? Math.max(header.weight, 0) : 1, weights })
          }
        }
        break
      case UpdateKind.PAIRWISE_REQUEST:
        if (this.activeExchange != null) refusal = RefusalReason.BUSY
        else if (mergeAllowed) merged = await this.answerPairwise(header, id, weights, options)
        break
      case UpdateKind.PAIRWISE_REPLY: {
        const pending = this.pending.get(header.parents[0] ?? '')
        if (pending == null || pending.to !== header.sender) {
          refusal = RefusalReason.STALE_ROUND // no open exchange this reply belongs to (expired or unknown)
          break
        }
        this.pending.delete(pending.id)
        if (this.activeExchange === pending) this.activeExchange = null
        if (!(header.weight > 0)) { refusal = RefusalReason.MALFORMED; break }
        await this.exclusive(() => {
          this.setModel(pairwiseDelta(this.own(), pending.sent, pending.mass, weights, header.weight))
        })
        merged = true
        break
      }
    }
    if (merged) {
      this.countMerged(1)
      this.addParent(id)
      this.emit('merged', { from: header.sender, id, kind: header.kind, round: header.round })
    }
    if (refusal != null) this.refuse(refusal, header.sender, undefined, id)
    const batch: StoreBatch = { replay: [mark] }
    if (refusal == null || this.options.logRefused) batch.log = [this.logEntry(header, incoming.from, id, incoming.bytes, refusal, merged)]
    if (merged && this.options.checkpointOnMerge) batch.checkpoint = this.checkpoint()
    await this.c.store.commit(batch)
    return refusal
  }

  /** Responder side: replies with its pre-merge model, and merges only if the reply went out. */
  private async answerPairwise (header: UpdateHeader, requestId: string, theirs: Float32Array, options: AbortOptions): Promise<boolean> {
    if (!(header.weight > 0)) return false
    const mine = this.own()
    const myMass = this.mass()
    const fields = this.fields(UpdateKind.PAIRWISE_REPLY, myMass, [requestId])
    const { delivered } = await this.emitUpdate(fields, mine, [header.sender], mine, options)
    if (delivered.length === 0) return false
    const mean = pairwiseMean(mine, myMass, theirs, header.weight)
    await this.exclusive(() => {
      // delta form: exact mass conservation even if our model changed while the reply was being sent
      const current = this.own()
      const next = new Float32Array(current.length)
      for (let i = 0; i < next.length; i++) next[i] = current[i] + (mean[i] - mine[i])
      this.setModel(next)
    })
    return true
  }

  private observe (header: UpdateHeader, weights: Float32Array): void {
    if (this.options.consensusEstimate) {
      const own = this.own()
      this.acc.distSum += distance(own, weights)
      // several updates usually arrive between two changes of the own model (buffered rules): one norm per model
      if (this.ownNormCache.version !== this.modelVersion) this.ownNormCache = { version: this.modelVersion, value: norm(own) }
      this.acc.ownNorm += this.ownNormCache.value
      this.acc.distCount++
    }
    if (this.c.behaviour != null || this.options.keepLastReceived) {
      this.received.set(header.sender, {
        sender: header.sender, round: header.round, kind: header.kind, examples: header.examples,
        weight: header.weight, weights, receivedAt: this.c.clock.now()
      })
    }
  }

  private async equivocation (incoming: Incoming, header: UpdateHeader, id: string, previousId: string): Promise<RefusalReason> {
    const evidence: EquivocationEvidence = {
      sender: header.sender, seq: header.seq, firstId: previousId, secondId: id,
      first: await this.findLogged(previousId), second: incoming.bytes, detectedAt: this.c.clock.now()
    }
    return await this.commitRefusal(RefusalReason.EQUIVOCATION, incoming, header, id, `seq ${header.seq}`, { evidence: [evidence] })
  }

  private async findLogged (id: string): Promise<Uint8Array> {
    for await (const e of this.c.store.updateLog({ reverse: true, limit: 1_000 })) if (e.id === id) return e.bytes
    return new Uint8Array(0)
  }

  // ------------------------------------------------------------------ daemon loop

  private async waitRoundComplete (timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.roundComplete()) return
    const ac = new AbortController()
    const onAbort = (): void => { ac.abort(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    let resolveDone!: () => void
    const done = new Promise<void>((resolve) => { resolveDone = resolve })
    this.roundCompleteWaiters.add(resolveDone)
    try {
      await Promise.race([done, this.c.clock.sleep(timeoutMs, { signal: ac.signal }).catch(() => undefined)])
    } finally {
      this.roundCompleteWaiters.delete(resolveDone)
      signal.removeEventListener('abort', onAbort)
      ac.abort()
    }
    signal.throwIfAborted()
  }

  async start (options: AbortOptions = {}): Promise<void> {
    if (this.loop != null) return
    await this.init(options)
    const ac = new AbortController()
    this.loopAbort = ac
    const outer = options.signal
    if (outer != null) {
      if (outer.aborted) ac.abort(outer.reason)
      else outer.addEventListener('abort', () => { ac.abort(outer.reason) }, { once: true })
    }
    const signal = ac.signal
    this.loop = (async () => {
      while (!signal.aborted) {
        try {
          await this.beginRound({ signal })
          if (this.params.rule === 'dpsgd') await this.waitRoundComplete(this.params.roundTimeoutMs, signal)
          await this.endRound({ signal })
          await this.c.clock.sleep(this.options.roundIntervalMs, { signal })
        } catch (err) {
          if (signal.aborted) break
          this.begun = false
          this.c.logger?.error({ err: (err as Error).message, round: this._round }, 'round failed')
          this.emit('error', err as Error)
          await this.c.clock.sleep(this.options.roundIntervalMs, { signal }).catch(() => undefined)
        }
      }
    })()
  }

  async stop (): Promise<void> {
    const loop = this.loop
    if (loop == null) return
    this.loopAbort?.abort(new Error('engine stopped'))
    await loop
    this.loop = null
    this.loopAbort = null
    this.begun = false
    await this.c.store.commit({ checkpoint: this.checkpoint() })
  }

  weights (): Float32Array { return this.own().slice() }

  /**
   * The model as last read from or given to the learner. Only `train` changes a learner's weights by itself, and
   * the engine refreshes this right after training, so merges never pay for a `learner.weights()` read.
   */
  private own (): Float32Array {
    if (this.model == null) {
      this.model = this.c.learner.weights()
      this.modelVersion++
    }
    return this.model
  }

  private setModel (w: Float32Array): void {
    this.c.learner.setWeights(w)
    this.model = w
    this.modelVersion++
  }

  totals (): EngineTotals { return { ...this.tot, refused: { ...this.tot.refused } } }
}
