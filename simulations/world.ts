/**
 * A `World` hosts some of a simulation's peers (all of them with one worker, a share with several) and runs
 * their events in virtual time. The coordinator drives every world through the same barrier-synchronous
 * protocol, so results do not depend on how peers are spread over worker threads:
 *
 * 1. `startRound(r)`: every online, idle peer begins its round at t = r * roundMs (trains, then sends; its sends
 *    leave after its compute time, so stragglers' updates arrive late).
 * 2. `runWindow(until, inbound)`: delivers, in (time, receiver, sender, sequence) order, every message due before
 *    `until`. The coordinator picks `until` = the earliest time any world may still SEND + the smallest possible
 *    latency, so nothing sent inside a window can be due inside it (conservative parallel discrete-event
 *    simulation with next-send times). A world whose peers never send when they receive (epidemic, push-sum,
 *    D-PSGD: they send only when a round begins) reports `sendFrom` = Infinity once its compute is done, so the
 *    rest of the round is ONE window; a world with pairwise peers may send at its next delivery, so windows
 *    shrink to the lookahead while its messages are in flight. The world checks the promise it made: a send
 *    from a peer that declared `sendsOnReceive: false` while it handles a message throws
 *    `SchedulerInvariantError`.
 * 3. `endRound(r)`: at t = (r + 1) * roundMs, peers whose compute has finished merge what arrived; honest peers
 *    are evaluated when asked.
 *
 * Every random draw about a message (loss, latency) comes from the sender's own stream, in the sender's order.
 */
import type { MetricValues, PeerKey, RefusalReason } from '../protocol/interfaces.js'
import { createRng, type Rng } from '../protocol/rng.js'
import { MinHeap } from './heap.js'
import { VirtualClock } from './clock.js'
import { SimTransport, PeerUnreachableError, type SimNetworkHost } from './sim-transport.js'
import { sampleLatency, transferMs } from './network.js'
import type { Scenario } from './scenario.js'
import type { WireMessage, SimPeer, PeerFactory, PeerCounters, StepResult, RoundEndResult, WorldNotes, WorldOptions } from './world-types.js'
import { SchedulerInvariantError } from './world-types.js'
import { planNetwork, type NetworkPlan } from './network-plan.js'

export * from './world-types.js'
export * from './network-plan.js'

function before (a: WireMessage, b: WireMessage): boolean {
  if (a.at !== b.at) return a.at < b.at
  if (a.to !== b.to) return a.to < b.to
  if (a.from !== b.from) return a.from < b.from
  return a.seq < b.seq
}

interface Slot {
  index: number
  key: PeerKey
  peer: SimPeer
  transport: SimTransport
  netRng: Rng
  msgSeq: number
  sendNotBefore: number
  uplinkFree: number
  downlinkFree: number
  busyUntil: number
  inRound: boolean
  honest: boolean
  counters: PeerCounters
}

const settle = async (): Promise<void> => { await new Promise<void>((resolve) => setImmediate(resolve)) }

export class World implements SimNetworkHost {
  readonly scenario: Scenario
  readonly clock = new VirtualClock()
  readonly plan: NetworkPlan
  readonly #keys: PeerKey[]
  readonly #indexOf = new Map<PeerKey, number>()
  readonly #slots = new Map<number, Slot>()
  readonly #owned: number[]
  readonly #queue = new MinHeap<WireMessage>(before)
  #outbox: WireMessage[] = []
  #round = 0
  #offline = new Uint8Array(0)
  #refused: Record<string, number> = {}
  #roundBytesSent = 0
  #roundBytesReceived = 0
  #roundLost = 0
  #roundUnreachable = 0
  #roundDropped = 0
  readonly #adversaries: Set<number>
  readonly #createPeer: PeerFactory
  /** Some hosted peer may send when it receives. */
  #reactive = false
  /** The peer whose `handle` is running (-1: none) and whether it promised not to send. */
  #handling = -1
  #handlingQuiet = false
  /**
   * The arrays messages of this step carry, per source array and destination (local queue or outbox): the engine
   * sends the same sealed bytes (fresh memory it never writes again) to all its targets; every receiver of this
   * world shares those very bytes read-only (so the envelope memo of the harness can recognise them), and the
   * outbox carries one copy per envelope, transferred (not cloned) to the coordinator. Cleared when the outbox is
   * taken (a transferred copy is detached).
   */
  #localCopies = new Map<Uint8Array, Uint8Array>()
  #remoteCopies = new Map<Uint8Array, Uint8Array>()
  readonly #notes: WorldNotes | undefined

  constructor (options: WorldOptions) {
    this.scenario = options.scenario
    this.#keys = options.keys
    this.#keys.forEach((k, i) => this.#indexOf.set(k, i))
    this.#owned = [...options.owned].sort((a, b) => a - b)
    this.#adversaries = new Set(options.adversaries)
    this.#createPeer = options.createPeer
    this.#notes = options.notes
    this.plan = planNetwork(this.scenario)
    this.#offline = new Uint8Array(this.scenario.peers)
  }

  get owned (): readonly number[] { return this.#owned }
  get round (): number { return this.#round }

  async init (): Promise<void> {
    const root = createRng(this.scenario.seed)
    for (const index of this.#owned) {
      const key = this.#keys[index]
      const transport = new SimTransport(this, index, key)
      const honest = !this.#adversaries.has(index)
      const peer = await this.#createPeer({
        index,
        key,
        keys: this.#keys,
        transport,
        clock: this.clock,
        rng: root.fork(`peer:${index}`),
        attack: honest ? null : this.scenario.adversaries.attack,
        scenario: this.scenario
      })
      this.#slots.set(index, {
        index,
        key,
        peer,
        transport,
        netRng: root.fork(`net:${index}`),
        msgSeq: 0,
        sendNotBefore: 0,
        uplinkFree: 0,
        downlinkFree: 0,
        busyUntil: 0,
        inRound: false,
        honest,
        counters: { bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesLost: 0, messagesUnreachable: 0, messagesDropped: 0 }
      })
      if (peer.sendsOnReceive !== false) this.#reactive = true
    }
  }

  // ----------------------------------------------------------------------------------------- SimNetworkHost

  #reachableNow (a: number, b: number): boolean {
    return this.#offline[a] === 0 && this.#offline[b] === 0 && this.plan.partitions.reachable(a, b, this.#round)
  }

  neighboursOf (index: number): PeerKey[] {
    const out: PeerKey[] = []
    for (const j of this.plan.topology.neighbours(index, this.#round)) {
      if (this.#reachableNow(index, j)) out.push(this.#keys[j])
    }
    return out
  }

  announceTargets (from: number): PeerKey[] {
    const out: PeerKey[] = []
    for (let j = 0; j < this.#keys.length; j++) if (j !== from && this.#reachableNow(from, j)) out.push(this.#keys[j])
    return out
  }

  send (from: number, to: PeerKey, bytes: Uint8Array, via: 'direct' | 'announce'): void {
    const slot = this.#slots.get(from)
    if (slot == null) throw new Error(`world does not host peer ${from}`)
    if (this.#handling !== -1 && this.#handlingQuiet) {
      throw new SchedulerInvariantError(`peer ${this.#handling} declared sendsOnReceive: false but sent while handling a message`)
    }
    const target = this.#indexOf.get(to)
    if (target == null) throw new PeerUnreachableError(`unknown peer ${to.slice(0, 12)}`)
    if (target === from) throw new PeerUnreachableError('cannot send to self')
    if (!this.#reachableNow(from, target)) {
      slot.counters.messagesUnreachable++
      this.#roundUnreachable++
      throw new PeerUnreachableError(`peer ${target} is unreachable (offline or partitioned)`)
    }
    const net = this.scenario.network
    const start = Math.max(this.clock.now(), slot.sendNotBefore, slot.uplinkFree)
    const done = start + transferMs(bytes.length, this.plan.bandwidth[from])
    slot.uplinkFree = done
    const seq = slot.msgSeq++
    slot.counters.messagesSent++
    slot.counters.bytesSent += bytes.length
    this.#roundBytesSent += bytes.length
    // Loss and latency from the sender's stream (two draws per message, always, so streams stay aligned).
    const lost = slot.netRng.next() < net.loss
    const latency = sampleLatency(net.latency, slot.netRng)
    if (lost) {
      slot.counters.messagesLost++
      this.#roundLost++
      return
    }
    const local = this.#slots.has(target)
    const copies = local ? this.#localCopies : this.#remoteCopies
    let copy = copies.get(bytes)
    if (copy == null) { copy = local ? bytes : bytes.slice(); copies.set(bytes, copy) }
    const message: WireMessage = { to: target, from, seq, at: done + latency, via: via === 'direct' ? 0 : 1, bytes: copy }
    if (local) this.#queue.push(message)
    else this.#outbox.push(message)
  }

  // ----------------------------------------------------------------------------------------- phases

  /** Takes the outbox (and clears this step's copies); returns it with the wall ms the notes took. */
  #takeOutbox (): { out: WireMessage[], notesMs: number } {
    const out = this.#outbox
    this.#outbox = []
    let notesMs = 0
    if (this.#notes != null && out.length > 0) {
      const started = performance.now()
      const notes = new Map<Uint8Array, unknown>()
      for (const [source, remote] of this.#remoteCopies) {
        const note = this.#notes.send(remote, this.#localCopies.get(source))
        if (note !== undefined) notes.set(remote, note)
      }
      for (const m of out) {
        const note = notes.get(m.bytes)
        if (note !== undefined) m.note = note
      }
      notesMs = performance.now() - started
    }
    this.#localCopies.clear()
    this.#remoteCopies.clear()
    return { out, notesMs }
  }

  nextEventAt (): number {
    return Math.min(this.#queue.peek()?.at ?? Infinity, this.clock.nextTimerAt())
  }

  /** Earliest time a peer here may send: its next delivery when some peer replies, else only its timers. */
  nextSendAt (): number {
    return this.#reactive ? this.nextEventAt() : this.clock.nextTimerAt()
  }

  get reactive (): boolean { return this.#reactive }

  #step (busyMs: number): StepResult {
    const { out, notesMs } = this.#takeOutbox()
    return { outbox: out, next: this.nextEventAt(), sendFrom: this.nextSendAt(), reactive: this.#reactive, busyMs: busyMs + notesMs }
  }

  /** Round r begins: peers train and send. `offline` lists every offline peer in the whole network. */
  async startRound (round: number, offline: number[]): Promise<StepResult> {
    this.#round = round
    this.#offline.fill(0)
    for (const i of offline) this.#offline[i] = 1
    this.#refused = {}
    this.#roundBytesSent = 0; this.#roundBytesReceived = 0
    this.#roundLost = 0; this.#roundUnreachable = 0; this.#roundDropped = 0
    const t = round * this.scenario.network.roundMs
    this.clock.advanceTo(Math.max(t, this.clock.now()))
    let busyMs = 0
    for (const index of this.#owned) {
      const slot = this.#slots.get(index) as Slot
      if (this.#offline[index] === 1 || slot.inRound) continue
      const computeMs = this.scenario.localSteps * this.scenario.compute.stepMs * this.plan.computeFactor[index]
      slot.sendNotBefore = t + computeMs
      slot.busyUntil = t + computeMs
      slot.inRound = true
      const started = performance.now()
      await slot.peer.beginRound(round)
      busyMs += performance.now() - started
    }
    return this.#step(busyMs)
  }

  /** Delivers every message due before `until` (exclusive), after adding `inbound` from other worlds. */
  async runWindow (until: number, inbound: WireMessage[]): Promise<StepResult> {
    let notesMs = 0
    if (this.#notes != null) {
      const started = performance.now()
      for (const m of inbound) {
        if (m.note === undefined) continue
        this.#notes.receive(m.bytes, m.note)
        delete m.note
      }
      notesMs = performance.now() - started
    }
    for (const m of inbound) this.#queue.push(m)
    let busyMs = notesMs
    for (;;) {
      const timerAt = this.clock.nextTimerAt()
      const top = this.#queue.peek()
      const at = Math.min(top?.at ?? Infinity, timerAt)
      if (!(at < until)) break
      if (timerAt <= (top?.at ?? Infinity)) {
        this.clock.advanceTo(timerAt)
        await settle()
        continue
      }
      const m = this.#queue.pop() as WireMessage
      this.clock.advanceTo(Math.max(m.at, this.clock.now()))
      const slot = this.#slots.get(m.to) as Slot
      if (!this.#reachableNow(m.from, m.to)) {
        slot.counters.messagesDropped++
        this.#roundDropped++
        continue
      }
      if (m.ready !== true) {
        const finish = Math.max(m.at, slot.downlinkFree) + transferMs(m.bytes.length, this.plan.bandwidth[m.to])
        slot.downlinkFree = finish
        m.ready = true
        if (finish > m.at) {
          m.at = finish
          this.#queue.push(m)
          continue
        }
      }
      slot.counters.bytesReceived += m.bytes.length
      this.#roundBytesReceived += m.bytes.length
      const started = performance.now()
      this.#handling = m.to
      this.#handlingQuiet = slot.peer.sendsOnReceive === false
      let verdict: RefusalReason | null
      try {
        verdict = await slot.peer.handle({ from: this.#keys[m.from], bytes: m.bytes, via: m.via === 0 ? 'direct' : 'announce' })
      } finally {
        this.#handling = -1
      }
      busyMs += performance.now() - started
      if (verdict != null) this.#refused[verdict] = (this.#refused[verdict] ?? 0) + 1
    }
    return this.#step(busyMs)
  }

  /** Round r ends at (r + 1) * roundMs: idle peers merge; evaluation and weights on request. */
  async endRound (round: number, options: { evaluate: false | 'curve' | 'final', weights: boolean }): Promise<RoundEndResult> {
    const t = (round + 1) * this.scenario.network.roundMs
    this.clock.advanceTo(Math.max(t, this.clock.now()))
    let busyMs = 0
    let active = 0
    for (const index of this.#owned) {
      const slot = this.#slots.get(index) as Slot
      if (this.#offline[index] === 1 || !slot.inRound || slot.busyUntil > t) continue
      active++
      const started = performance.now()
      await slot.peer.endRound()
      busyMs += performance.now() - started
      slot.inRound = false
    }
    const evaluations: Array<[number, MetricValues]> = []
    const curveEvaluations: Array<[number, MetricValues]> = []
    const weights: Array<[number, Float32Array]> = []
    for (const index of this.#owned) {
      const slot = this.#slots.get(index) as Slot
      if (!slot.honest) continue
      if (options.evaluate !== false) evaluations.push([index, await slot.peer.evaluate(options.evaluate)])
      if (options.evaluate === 'final') curveEvaluations.push([index, await slot.peer.evaluate('curve')])
      if (options.weights) weights.push([index, slot.peer.weights()])
    }
    return {
      evaluations,
      curveEvaluations,
      weights,
      bytesSent: this.#roundBytesSent,
      bytesReceived: this.#roundBytesReceived,
      refused: this.#refused,
      messagesLost: this.#roundLost,
      messagesUnreachable: this.#roundUnreachable,
      messagesDropped: this.#roundDropped,
      peersActive: active,
      busyMs
    }
  }

  counters (): Array<[number, PeerCounters]> {
    return this.#owned.map((i) => [i, { ...(this.#slots.get(i) as Slot).counters }])
  }

  peer (index: number): SimPeer | undefined { return this.#slots.get(index)?.peer }

  async close (): Promise<void> {
    for (const slot of this.#slots.values()) slot.peer.dispose?.()
  }
}
