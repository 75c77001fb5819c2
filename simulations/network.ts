/**
 * The network model of the simulator, all of it deterministic from the scenario's seed: per-message latency,
 * per-peer bandwidth, loss, partitions at given rounds, churn, and compute speed (stragglers).
 *
 * Random draws that concern one message come from the SENDER's own stream, consumed in the order that
 * sender sends, so they do not depend on which worker thread hosts which peer.
 */
import type { Rng } from '../protocol/rng.js'
import type { LatencySpec, NetworkSpec, PartitionEvent, RedialSpec } from './scenario.js'
import { healedLinkRounds } from './redial.js'

/** Draws one latency (ms) from the spec, never below the spec's floor. */
export function sampleLatency (spec: LatencySpec, rng: Rng): number {
  switch (spec.dist) {
    case 'constant': return spec.ms
    case 'uniform': return spec.minMs + rng.next() * (spec.maxMs - spec.minMs)
    case 'lognormal': return Math.max(spec.minMs, spec.medianMs * Math.exp(spec.sigma * rng.normal()))
  }
}

/** Smallest latency the spec can produce: the safe lookahead of the conservative parallel scheduler. */
export function minLatency (spec: LatencySpec): number {
  switch (spec.dist) {
    case 'constant': return spec.ms
    case 'uniform': return spec.minMs
    case 'lognormal': return spec.minMs
  }
}

/** Milliseconds to push `bytes` through a link of `mbps` megabits per second. */
export function transferMs (bytes: number, mbps: number): number {
  return (bytes * 8) / (mbps * 1000)
}

/** Per-peer bandwidth in Mbps, uniform in the spec's range, drawn from rng.fork('bandwidth'). */
export function peerBandwidths (spec: NetworkSpec, n: number, rng: Rng): Float64Array {
  const out = new Float64Array(n)
  const r = rng.fork('bandwidth')
  const { minMbps, maxMbps } = spec.bandwidthMbps
  for (let i = 0; i < n; i++) out[i] = minMbps + r.next() * (maxMbps - minMbps)
  return out
}

/** Group number of every peer under one partition event. */
export function partitionGroups (event: PartitionEvent, n: number, rng: Rng, index: number): Int32Array {
  const groups = new Int32Array(n)
  if (event.assign === 'contiguous') {
    for (let i = 0; i < n; i++) groups[i] = Math.min(event.groups - 1, Math.floor((i * event.groups) / n))
  } else {
    const order = rng.fork(`partition:${index}`).shuffle(Array.from({ length: n }, (_, i) => i))
    order.forEach((peer, pos) => { groups[peer] = Math.min(event.groups - 1, Math.floor((pos * event.groups) / n)) })
  }
  return groups
}

/**
 * Which peers can reach which, round by round, under the scenario's partitions. Without `redial` a split heals
 * at its `toRound`; with it, each link across the split comes back only when a peer's connection keeper redials
 * it (redial.ts), from the first round that starts after that.
 */
export class PartitionSchedule {
  readonly #events: PartitionEvent[]
  readonly #groups: Int32Array[]
  /** Per event that heals, with redial: the round each link across it is usable again (n x n, NaN same side). */
  readonly #linkBack: Array<Float64Array | null>
  readonly #n: number

  constructor (events: PartitionEvent[], n: number, rng: Rng, redial?: RedialSpec) {
    this.#events = events
    this.#n = n
    this.#groups = events.map((e, i) => partitionGroups(e, n, rng, i))
    this.#linkBack = events.map((e, i) => redial == null || e.toRound == null
      ? null
      : healedLinkRounds(this.#groups[i], e.fromRound, e.toRound, redial, rng.fork(`redial:${i}`)).map((t) => Math.ceil(t)))
  }

  /** Indices of the partition events in force during `round`. */
  active (round: number): number[] {
    const out: number[] = []
    this.#events.forEach((e, i) => { if (round >= e.fromRound && (e.toRound == null || round < e.toRound)) out.push(i) })
    return out
  }

  /** Whether a and b are on the same side of every split in force during `round`, and their link is back. */
  reachable (a: number, b: number, round: number): boolean {
    for (const i of this.active(round)) if (this.#groups[i][a] !== this.#groups[i][b]) return false
    for (let i = 0; i < this.#linkBack.length; i++) {
      const back = this.#linkBack[i]
      if (back == null || round < (this.#events[i].toRound as number)) continue
      if (round < back[a * this.#n + b]) return false
    }
    return true
  }

  /** Event `i`'s side of every peer. */
  groups (i: number): Int32Array { return this.#groups[i] }

  /** The first round at which the link a-b across healed event `i` is usable again (its toRound without redial). */
  linkBackRound (i: number, a: number, b: number): number | null {
    const e = this.#events[i]
    if (e?.toRound == null || this.#groups[i][a] === this.#groups[i][b]) return null
    return this.#linkBack[i]?.[a * this.#n + b] ?? e.toRound
  }

  get hasAny (): boolean { return this.#events.length > 0 }
}

/**
 * Churn: from `fromRound` on, at every round boundary `rate * n / 2` online peers leave (chosen at random)
 * and peers that have been away `downRounds` rounds come back, so about `rate * n` peers change state
 * each round. Computed once, round after round, by the coordinator.
 */
export class ChurnSchedule {
  readonly #n: number
  readonly #rate: number
  readonly #down: number
  readonly #from: number
  readonly #rng: Rng
  readonly #backAt: Int32Array
  #round = -1
  readonly offline: Uint8Array

  constructor (spec: NetworkSpec['churn'], n: number, rng: Rng) {
    this.#n = n
    this.#rate = spec.rate
    this.#down = spec.downRounds
    this.#from = spec.fromRound
    this.#rng = rng.fork('churn')
    this.#backAt = new Int32Array(n).fill(-1)
    this.offline = new Uint8Array(n)
  }

  /** Advances to `round` (call with 0, 1, 2, ... in order); returns the peers that left and that rejoined. */
  advance (round: number): { left: number[], joined: number[] } {
    if (round !== this.#round + 1) throw new RangeError(`churn: rounds must advance one by one (at ${this.#round}, asked ${round})`)
    this.#round = round
    const left: number[] = []
    const joined: number[] = []
    if (this.#rate === 0 || round < this.#from) return { left, joined }
    for (let i = 0; i < this.#n; i++) {
      if (this.offline[i] === 1 && this.#backAt[i] <= round) { this.offline[i] = 0; joined.push(i) }
    }
    const online: number[] = []
    for (let i = 0; i < this.#n; i++) if (this.offline[i] === 0 && !joined.includes(i)) online.push(i)
    const count = Math.min(online.length - 1, Math.round((this.#rate * this.#n) / 2))
    for (const i of this.#rng.sample(online, Math.max(0, count))) {
      this.offline[i] = 1
      this.#backAt[i] = round + this.#down
      left.push(i)
    }
    left.sort((a, b) => a - b)
    return { left, joined }
  }
}

/** Relative compute time of each peer (1 = nominal): jitter for everyone, `slowdown` for stragglers. */
export function computeFactors (n: number, jitter: number, stragglerFraction: number, slowdown: number, rng: Rng): { factors: Float64Array, stragglers: number[] } {
  const factors = new Float64Array(n)
  const r = rng.fork('compute')
  for (let i = 0; i < n; i++) factors[i] = 1 - jitter + 2 * jitter * r.next()
  const stragglers = rng.fork('stragglers').sample(Array.from({ length: n }, (_, i) => i), Math.round(stragglerFraction * n)).sort((a, b) => a - b)
  for (const i of stragglers) factors[i] *= slowdown
  return { factors, stragglers }
}
