/**
 * Catching up in the simulator, as the daemon does it (node/services/state-sync over protocol/engine/state-sync):
 * a peer that comes back (a late joiner, one back after churn) and whose engine wants the network's state (its
 * round clock caught up with the network's round) asks up to STATE_ASK_PEERS of its reachable neighbours at the
 * next round boundary; each answers with its current model sealed and signed as an update envelope, and the
 * asking engine checks the answers and adopts their robust choice (the same `adoptState` the daemon calls).
 * The exchange happens between rounds, so the world's delivery windows and their invariants are untouched; it
 * models the daemon's one state request per check, not the bytes' transfer time.
 *
 * Late joiners (`network.lateJoin`) are offline until their round, like churned peers; only peers that have
 * been offline are asked about, so a run without churn or late joiners makes no extra call.
 */
import type { MetricValues } from '../../protocol/interfaces.js'
import type { Scenario } from '../scenario.js'
import type { NetworkPlan } from '../network-plan.js'

/** Neighbours a peer that is behind asks at once (the daemon's STATE_ASK_PEERS). */
export const STATE_ASK_PEERS = 3

/** One adoption of the network's state by a peer that was behind. */
export interface CatchUpEvent {
  peer: number
  /** The first round it was online again. */
  onlineRound: number
  /** The round at whose end it adopted, its round before and after. */
  adoptedAtRound: number
  previousRound: number
  round: number
  /** Neighbours whose answers it adopted. */
  from: number[]
  /** Its primary metric at the first evaluation after adopting, and the other peers' mean then. */
  metricAfter: number | null
  othersMeanAfter: number | null
}

export interface CatchUpSummary {
  events: CatchUpEvent[]
  /** Asks that adopted nothing (no valid answer, or the answers not far enough ahead). */
  notAdopted: number
}

export interface CatchUpHost {
  task: <T>(name: string, args: (world: number) => unknown) => Promise<T[]>
}

export class CatchUp {
  private readonly everOffline = new Set<number>()
  private readonly onlineAt = new Map<number, number>()
  private readonly events: CatchUpEvent[] = []
  private readonly awaitingEval: CatchUpEvent[] = []
  private notAdopted = 0
  /** The peer environment has no state-sync tasks (a light test environment): catching up is not modelled. */
  private unsupported = false
  private readonly lateJoiners: Map<number, number>

  constructor (private readonly host: CatchUpHost, private readonly scenario: Scenario, private readonly plan: NetworkPlan) {
    const late = scenario.network.lateJoin
    this.lateJoiners = new Map()
    if (late != null) for (let k = 0; k < late.peers; k++) this.lateJoiners.set(scenario.peers - 1 - k, late.atRound)
  }

  /** The offline peers of round `r`: churn's (`churnOffline[i] === 1`) and late joiners before their round. */
  offline (r: number, churnOffline: Uint8Array): number[] {
    const out: number[] = []
    for (let i = 0; i < churnOffline.length; i++) {
      const late = this.lateJoiners.get(i)
      const off = churnOffline[i] === 1 || (late != null && r < late)
      if (off) { this.everOffline.add(i); this.onlineAt.delete(i) } else if (this.everOffline.has(i) && !this.onlineAt.has(i)) this.onlineAt.set(i, r)
      if (off) out.push(i)
    }
    return out
  }

  /** At the end of round `r`: peers back online that want state ask their reachable neighbours. */
  async afterRound (r: number, offline: readonly number[]): Promise<void> {
    if (this.everOffline.size === 0 || this.unsupported) return
    const off = new Set(offline)
    const candidates = [...this.onlineAt.keys()].filter((i) => !off.has(i)).sort((a, b) => a - b)
    if (candidates.length === 0) return
    let wanting: number[]
    try {
      wanting = (await this.host.task<number[]>('stateWanted', () => ({ peers: candidates }))).flat().sort((a, b) => a - b)
    } catch (err) {
      if ((err as Error).name !== 'UnknownTaskError') throw err
      this.unsupported = true
      return
    }
    if (wanting.length === 0) return
    const wants = new Set(wanting)
    const asks = wanting.map((peer) => ({
      peer,
      from: this.plan.topology.neighbours(peer, r)
        .filter((j) => !off.has(j) && !wants.has(j) && this.plan.partitions.reachable(peer, j, r))
        .sort((a, b) => a - b)
        .slice(0, STATE_ASK_PEERS)
    }))
    const answering = [...new Set(asks.flatMap((a) => a.from))].sort((a, b) => a - b)
    const envelopes = new Map((await this.host.task<Array<[number, Uint8Array]>>('stateEnvelopes', () => ({ peers: answering }))).flat())
    const withAnswers = asks.map((a) => ({ peer: a.peer, answers: a.from.flatMap((from) => { const bytes = envelopes.get(from); return bytes == null ? [] : [{ from, bytes }] }) }))
    const results = (await this.host.task<Array<{ peer: number, adopted: boolean, round: number, previousRound: number, from: number[] }>>('adoptStates', () => ({ asks: withAnswers }))).flat()
    for (const res of results.sort((a, b) => a.peer - b.peer)) {
      if (!res.adopted) { this.notAdopted++; continue }
      const e: CatchUpEvent = { peer: res.peer, onlineRound: this.onlineAt.get(res.peer) ?? r, adoptedAtRound: r, previousRound: res.previousRound, round: res.round, from: res.from, metricAfter: null, othersMeanAfter: null }
      this.events.push(e)
      this.awaitingEval.push(e)
      this.onlineAt.delete(res.peer)
    }
  }

  /** A round's evaluations ([peer, metrics]): fills in the figures of adoptions that wait for one. */
  evaluated (evaluations: ReadonlyArray<[number, MetricValues]>, metric: string): void {
    if (this.awaitingEval.length === 0 || evaluations.length === 0) return
    const value = new Map(evaluations.map(([i, m]) => [i, m[metric]]))
    for (const e of this.awaitingEval.splice(0)) {
      const own = value.get(e.peer)
      const others = evaluations.filter(([i]) => i !== e.peer).map(([, m]) => m[metric]).filter((v): v is number => typeof v === 'number')
      e.metricAfter = typeof own === 'number' ? own : null
      e.othersMeanAfter = others.length > 0 ? others.reduce((a, b) => a + b, 0) / others.length : null
    }
  }

  summary (): CatchUpSummary | null {
    return this.everOffline.size === 0 ? null : { events: this.events, notAdopted: this.notAdopted }
  }
}
