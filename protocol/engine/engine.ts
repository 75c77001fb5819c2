/**
 * The peer engine core: what one peer does, the same in the daemon and the simulator, for every averaging rule.
 * The rule (rules/, chosen by `averaging.rule`) decides what is sent, what is accepted in which round window and
 * how it is merged; the core keeps validation and replay, the update log and checkpoint batches, events, metrics
 * and the round steps. See index.ts for the factory and docs/averaging.md for the lifecycle.
 */
import { RefusalReason, type AbortOptions, type Incoming, type PeerKey, type Rng } from '../interfaces.js'
import { ENGINE_METRICS, SEQ_RESTART_GAP, seqFloor, type PeerEngineOptions } from './constants.js'
import { mergeOptions } from './options.js'
import type { Checkpoint, EquivocationEvidence, StoreBatch, UpdateLogEntry } from './store.js'
import { Admission } from './admission.js'
import { RoundClock } from './round-clock.js'
import { averagingRule, type AveragingParams } from './rules/index.js'
import type { AveragingRule, RuleContext, RuleTraits } from './rules/types.js'
import { InfluenceBound } from './bound.js'
import { Counters } from './counters.js'
import { EngineStateError } from './errors.js'
import { DaemonLoop } from './loop.js'
import { ModelState } from './model.js'
import { Outbox } from './outbox.js'
import { checkCheckpoint, findLogged, recoverBuffered } from './recovery.js'
import { reportValues, roundReport } from './round-report.js'
import { Observer } from './observer.js'
import { StateSync, type StateResponse, type StateSyncResult } from './state-sync.js'
import { UpdateKind } from './types.js'
import type {
  EngineTotals, PeerEngine, PeerEngineComponents, PeerEngineEvents, PeerEngineInit, ReceivedModel, RoundReport,
  UpdateHeader
} from './types.js'

export class DefaultPeerEngine extends EventTarget implements Omit<PeerEngine, 'addEventListener' | 'removeEventListener'> {
  readonly self: PeerKey
  readonly params: AveragingParams
  readonly options: Readonly<PeerEngineOptions>
  private readonly c: PeerEngineComponents
  private readonly rule: AveragingRule
  private readonly traits: RuleTraits
  private readonly model: ModelState
  private readonly counters: Counters
  private readonly bound: InfluenceBound
  private readonly outbox: Outbox
  private readonly daemon: DaemonLoop
  private _round = 0
  private initialised: Promise<void> | null = null
  private readonly admission: Admission
  private readonly clock: RoundClock
  private readonly state: StateSync
  private trained = { steps: 0, loss: Number.NaN, examples: 0, trainMs: 0 }
  private begun = false
  /**
   * Clock time at which a buffering rule last took its buffer for merging: every accepted update received before
   * it is in the model, every one received at or after it may still be pending. Checkpoints record this time
   * (not the time of the save), so recovery after a crash re-buffers exactly what was not merged.
   */
  private bufferTakenAt = Number.NEGATIVE_INFINITY
  private readonly received = new Map<PeerKey, ReceivedModel>()
  private readonly observer: Observer

  constructor (init: PeerEngineInit, components: PeerEngineComponents) {
    super()
    const { options, params } = mergeOptions(init)
    this.options = options
    this.params = params
    this.c = components
    this.self = components.transport.self
    const partnerRng = components.rng.fork('partners')
    const behaviourRng: Rng = components.rng.fork('behaviour')
    this.model = new ModelState(components.learner)
    this.counters = new Counters(components.metrics)
    this.bound = new InfluenceBound(params, (reason) => { this.counters.bounded(reason) })
    const engine = this
    this.observer = new Observer(options, this.counters, this.model, this.received, components.behaviour != null, components.clock)
    this.outbox = new Outbox(components, options, this.counters, {
      self: this.self, rule: params.rule, behaviourRng, received: this.received,
      round: () => this._round,
      emit: (type, detail) => { this.emit(type, detail) }
    })
    const context: RuleContext<AveragingParams> = {
      self: this.self, params, options, rng: partnerRng, metrics: components.metrics ?? null, learner: components.learner,
      get round () { return engine._round },
      neighbours: () => this.others(),
      mass: () => this.mass(),
      model: () => this.model.own(),
      setModel: (w) => { this.model.set(w) },
      exclusive: async (fn) => await this.model.exclusive(fn),
      fields: (kind, weight, parents) => this.outbox.fields(kind, weight, parents),
      send: async (fields, weights, to, honest, opts) => await this.outbox.emitUpdate(fields, weights, to, honest, opts),
      merges: () => this.merges(), refuse: (reason, from) => { this.refuse(reason, from) },
      mergedBuffered: (ids) => {
        this.countMerged(ids.length)
        for (const id of ids) this.outbox.addParent(id)
      }
    }
    const definition = averagingRule(params.rule)
    this.traits = definition.traits
    this.rule = definition.create(context)
    this.clock = new RoundClock({
      step: options.roundClockStep, horizonMs: options.roundClockHorizonMs, recentMs: options.roundClockRecentMs, maxSenders: Math.max(2, options.roundClockMaxSenders),
      follows: options.lamportRounds && this.traits.lamportRounds
    }, {
      round: () => this._round, setRound: (r) => { this._round = r }, now: () => components.clock.now(),
      logger: components.logger, metrics: components.metrics ?? null, catchUpMetric: ENGINE_METRICS.roundCatchUps,
      caughtUp: (previous) => { this.state.want(previous, 'caught up with the network\'s round') }
    })
    this.admission = new Admission(components, options, this.rule, {
      self: this.self, ruleName: params.rule, round: () => this._round, clock: this.clock
    })
    this.state = new StateSync({
      self: this.self,
      round: () => this._round,
      setRound: (r) => { this._round = r; this.clock.reset(r) },
      model: () => this.model.own(),
      setModel: (w) => { this.model.set(w) },
      fields: () => this.outbox.fields(UpdateKind.UPDATE, this.mass(), []),
      envelopes: components.envelopes,
      open: async (incoming) => await this.admission.openState(incoming),
      commit: async (o) => { await this.c.store.commit({ checkpoint: this.checkpoint() }, o) },
      refused: (reason, from, detail) => { this.refuse(reason, from, detail) },
      adopted: (result) => {
        this.c.metrics?.increment(ENGINE_METRICS.stateAdoptions)
        this.c.metrics?.set(ENGINE_METRICS.round, this._round)
        this.rule.modelReplaced?.(); this.emit('state', result)
      },
      logger: components.logger
    }, options.stateSyncMinLeadRounds)
    this.daemon = new DaemonLoop({
      clock: components.clock,
      roundIntervalMs: options.roundIntervalMs,
      roundTimeoutMs: this.rule.roundTimeoutMs,
      roundComplete: () => this.rule.roundComplete(),
      beginRound: async (o) => { await this.beginRound(o) },
      endRound: async (o) => await this.endRound(o),
      failed: (err) => {
        this.begun = false
        this.c.logger?.error({ err: err.message, round: this._round }, 'round failed')
        this.emit('error', err)
      }
    })
  }

  get round (): number { return this._round }
  get wantsState (): boolean { return this.state.wanted }

  /** Answers a member's state request (state-sync.ts). */
  async stateEnvelope (options: AbortOptions = {}): Promise<Uint8Array> {
    await this.init(options)
    return await this.state.envelope()
  }

  /** Adopts the robust choice among members' state answers, when this peer wants state. */
  async adoptState (responses: readonly StateResponse[], options: AbortOptions = {}): Promise<StateSyncResult> {
    await this.init(options)
    return await this.model.exclusive(async () => await this.state.adopt(responses, options))
  }
  get seq (): number { return this.outbox.seq }
  get pushSumWeight (): number { return this.rule.weight() }
  get running (): boolean { return this.daemon.running }

  /** Merge mass by the weighting rule: example count (at least 1) or 1. */
  private mass (): number {
    if ((this.params as { weighting?: string }).weighting !== 'examples') return 1
    const n = this.c.learner.numExamples()
    return Number.isFinite(n) && n > 0 ? n : 1
  }

  /** The transport's current neighbours, without this peer. */
  private others (): PeerKey[] {
    return this.c.transport.neighbours().filter((p) => p !== this.self)
  }

  private emit<K extends keyof PeerEngineEvents & string> (type: K, detail: PeerEngineEvents[K]['detail']): void {
    this.dispatchEvent(new CustomEvent(type, { detail }))
  }

  private merges (): boolean {
    const b = this.c.behaviour
    if (b?.merges == null) return true
    return b.merges(this.outbox.behaviourContext(this.model.own()))
  }

  private countMerged (n: number): void {
    this.counters.count('updatesMerged', n, ENGINE_METRICS.updatesMerged)
  }

  async init (options: AbortOptions = {}): Promise<void> {
    this.initialised ??= this.doInit(options)
    await this.initialised
  }

  private async doInit (options: AbortOptions): Promise<void> {
    const { store, learner, transport } = this.c
    this.admission.restore(await store.replayMarks(options))
    const cp = await store.latestCheckpoint(options)
    if (cp != null) {
      checkCheckpoint(cp, learner)
      this.model.set(Float32Array.from(cp.weights))
      this._round = cp.round
      this.clock.reset(cp.round)
      this.outbox.seq = cp.seq + SEQ_RESTART_GAP
      this.rule.restore(cp)
      this.bufferTakenAt = cp.savedAt
      if (this.traits.buffers) {
        await recoverBuffered({ ...this.c, rule: this.rule, round: this._round, replayWindow: this.options.replayWindow }, cp.savedAt, options)
      }
    }
    // a fresh start (new member, lost database) may be joining a network that is far ahead
    if (cp == null) this.state.want('fresh', 'no checkpoint in the store')
    // never below what this start's clock reserves: a lost database must not restart at seq 0 (EQUIVOCATION)
    this.outbox.seq = Math.max(this.outbox.seq, seqFloor(this.c.clock.now()))
    transport.onMessage(async (message) => await this.handleMessage(message))
    this.c.logger?.info({ round: this._round, seq: this.outbox.seq, rule: this.params.rule, restored: cp != null }, 'engine initialised')
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
    // 1. round begins: local training; 2. round ends with my weights
    const honest = await this.model.exclusive(async () => {
      if (this.options.localSteps > 0) {
        const t0 = this.c.clock.now()
        const r = await learner.train(this.options.localSteps, options)
        this.trained = { steps: r.steps, loss: r.loss, examples: r.examples, trainMs: this.c.clock.now() - t0 }
        this.c.metrics?.set(ENGINE_METRICS.trainLoss, r.loss)
      } else {
        this.trained = { steps: 0, loss: Number.NaN, examples: learner.numExamples(), trainMs: 0 }
      }
      return this.model.refresh()
    })
    options.signal?.throwIfAborted()
    // 3. send per rule (not once the learner's privacy budget is spent: it still receives and merges)
    if (learner.privacyExhausted?.() === true) return
    await this.rule.send(honest, options)
    if (this.c.behaviour?.afterSend != null) await this.c.behaviour.afterSend(this.outbox.behaviourContext(honest), options)
  }

  async endRound (options: AbortOptions = {}): Promise<RoundReport> {
    await this.init(options)
    const round = this._round
    // 4. give me merged weights (buffering rules)
    this.bufferTakenAt = this.c.clock.now()
    await this.rule.endRound(round)
    let evaluation: RoundReport['evaluation']
    const every = this.options.evaluateEveryRounds
    if (every > 0 && (round + 1) % every === 0) {
      evaluation = await this.c.learner.evaluate({ signal: options.signal, split: 'local' })
      for (const [k, v] of Object.entries(evaluation)) this.c.metrics?.set(ENGINE_METRICS.evaluation, v, { metric: k })
    }
    const report = roundReport(round, this.params.rule, this.trained, this.counters.endRound(), this.pushSumWeight, evaluation)
    const consensus = report.consensusDistance
    // a catch-up while the round ran already moved the round on: keep the later one
    this._round = Math.max(round + 1, this._round)
    this.clock.reset(this._round)
    this.begun = false
    this.trained = { steps: 0, loss: Number.NaN, examples: 0, trainMs: 0 }
    const m = this.c.metrics
    m?.increment(ENGINE_METRICS.rounds)
    m?.set(ENGINE_METRICS.round, this._round)
    if (consensus != null) m?.set(ENGINE_METRICS.consensusDistance, consensus)
    const values = reportValues(report)
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

  roundComplete (): boolean { return this.rule.roundComplete() }

  private checkpoint (): Checkpoint {
    return {
      round: this._round,
      seq: this.outbox.seq,
      weights: this.model.own().slice(),
      pushSumWeight: this.rule.weight(),
      rule: this.params.rule,
      schemaHash: this.c.learner.schemaHash,
      // buffering rules: the time the buffer was last merged (see bufferTakenAt); others merge on arrival
      savedAt: this.traits.buffers && Number.isFinite(this.bufferTakenAt) ? this.bufferTakenAt : this.c.clock.now()
    }
  }

  // ------------------------------------------------------------------ receiving

  private refuse (reason: RefusalReason, from: PeerKey, detail?: string, id?: string): RefusalReason {
    this.counters.refused(reason)
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
    this.counters.count('bytesReceived', incoming.bytes.length, ENGINE_METRICS.bytesReceived)
    if (incoming.from === this.self) return await this.commitRefusal(RefusalReason.SELF, incoming, undefined, '', 'from self')
    const a = await this.admission.admit(incoming)
    if (!a.ok) {
      if (a.reason === RefusalReason.EQUIVOCATION && a.header?.sender != null && a.header.seq != null) {
        return await this.equivocation(incoming, a.header as UpdateHeader, a.id, a.previousId ?? '')
      }
      return await this.commitRefusal(a.reason, incoming, a.header, a.id, a.detail)
    }
    const { header, id } = a
    let weights = a.weights
    if (a.indices != null) {
      // sparse payload: coordinates not sent take our own values (they do not move the merge)
      const filled = this.model.own().slice()
      for (const i of a.indices) filled[i] = weights[i]
      weights = filled
    }
    // consensus estimate and last-received (before merging)
    this.observer.observe(header, weights)
    // bounded influence: clamp the sender's counts and mass, clip its model around ours (every rule)
    const bounded = this.bound.apply({ id, header, weights }, this.model.own(), this.mass())
    const { merged, refusal } = await this.rule.receive(bounded, options)
    this.daemon.roundMayBeComplete()
    if (merged) {
      this.countMerged(1)
      this.outbox.addParent(id)
      this.emit('merged', { from: header.sender, id, kind: header.kind, round: header.round })
    }
    if (refusal != null) this.refuse(refusal, header.sender, undefined, id)
    const batch: StoreBatch = { replay: [a.mark] }
    if (refusal == null || this.options.logRefused) batch.log = [this.logEntry(header, incoming.from, id, incoming.bytes, refusal, merged)]
    if (merged && this.options.checkpointOnMerge) batch.checkpoint = this.checkpoint()
    await this.c.store.commit(batch)
    return refusal
  }

  private async equivocation (incoming: Incoming, header: UpdateHeader, id: string, previousId: string): Promise<RefusalReason> {
    const evidence: EquivocationEvidence = {
      sender: header.sender, seq: header.seq, firstId: previousId, secondId: id,
      first: await findLogged(this.c.store, previousId), second: incoming.bytes, detectedAt: this.c.clock.now()
    }
    return await this.commitRefusal(RefusalReason.EQUIVOCATION, incoming, header, id, `seq ${header.seq}`, { evidence: [evidence] })
  }

  // ------------------------------------------------------------------ daemon loop

  async start (options: AbortOptions = {}): Promise<void> {
    if (this.daemon.running) return
    await this.init(options)
    this.daemon.start(options)
  }

  async stop (): Promise<void> {
    if (!(await this.daemon.stop())) return
    this.begun = false
    await this.c.store.commit({ checkpoint: this.checkpoint() })
  }

  weights (): Float32Array { return this.model.own().slice() }

  totals (): EngineTotals { return this.counters.totals() }
}
