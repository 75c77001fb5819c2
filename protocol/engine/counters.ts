/** The engine's traffic and merge counters: this round's (RoundReport) and the totals, mirrored into metrics. */
import type { Metrics, RefusalReason } from '../interfaces.js'
import { ENGINE_METRICS } from './constants.js'
import type { BoundReason, EngineTotals, TrafficCounters } from './types.js'

export type CounterName = Exclude<keyof TrafficCounters, 'refused' | 'bounded'>
/** This round's counters plus the consensus estimate's sums. */
export type RoundCounters = TrafficCounters & { distSum: number, distCount: number, ownNorm: number }

function freshRound (): RoundCounters {
  return { bytesSent: 0, bytesReceived: 0, updatesSent: 0, updatesMerged: 0, sendFailures: 0, refused: {}, bounded: {}, distSum: 0, distCount: 0, ownNorm: 0 }
}

export class Counters {
  round: RoundCounters = freshRound()
  private readonly tot: EngineTotals = { rounds: 0, bytesSent: 0, bytesReceived: 0, updatesSent: 0, updatesMerged: 0, sendFailures: 0, refused: {}, bounded: {} }
  constructor (private readonly metrics: Metrics | null | undefined) {}

  /** Adds `by` to a counter of this round and of the totals, and to its metric. */
  count (counter: CounterName, by: number, metric: string, labels?: Record<string, string>): void {
    this.round[counter] += by
    this.tot[counter] += by
    this.metrics?.increment(metric, labels, by)
  }

  refused (reason: RefusalReason): void {
    this.round.refused[reason] = (this.round.refused[reason] ?? 0) + 1
    this.tot.refused[reason] = (this.tot.refused[reason] ?? 0) + 1
    this.metrics?.increment(ENGINE_METRICS.updatesRefused, { reason })
  }

  bounded (reason: BoundReason): void {
    this.round.bounded[reason] = (this.round.bounded[reason] ?? 0) + 1
    this.tot.bounded[reason] = (this.tot.bounded[reason] ?? 0) + 1
    this.metrics?.increment(ENGINE_METRICS.updatesBounded, { reason })
  }

  /** Ends the round: returns its counters and starts fresh ones. */
  endRound (): RoundCounters {
    const r = this.round
    this.round = freshRound()
    this.tot.rounds++
    return r
  }

  totals (): EngineTotals { return { ...this.tot, refused: { ...this.tot.refused }, bounded: { ...this.tot.bounded } } }
}
