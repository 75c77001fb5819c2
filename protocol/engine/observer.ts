/**
 * What the engine notes of each accepted model before merging it: the consensus estimate (the distance between
 * the own model and the received one, and the own norm, summed per round) and, when a behaviour or
 * `keepLastReceived` needs it, the last model from each sender.
 */
import type { Clock, PeerKey } from '../interfaces.js'
import { distance, norm } from '../averaging/vector.js'
import type { PeerEngineOptions } from './constants.js'
import type { Counters } from './counters.js'
import type { ModelState } from './model.js'
import type { ReceivedModel, UpdateHeader } from './types.js'

export class Observer {
  private ownNormCache = { version: -1, value: 0 }
  constructor (
    private readonly options: Readonly<PeerEngineOptions>,
    private readonly counters: Counters,
    private readonly model: ModelState,
    private readonly received: Map<PeerKey, ReceivedModel>,
    private readonly hasBehaviour: boolean,
    private readonly clock: Clock
  ) {}

  observe (header: UpdateHeader, weights: Float32Array): void {
    if (this.options.consensusEstimate) {
      const own = this.model.own()
      const acc = this.counters.round
      acc.distSum += distance(own, weights)
      // several updates usually arrive between two changes of the own model (buffered rules): one norm per model
      if (this.ownNormCache.version !== this.model.version) this.ownNormCache = { version: this.model.version, value: norm(own) }
      acc.ownNorm += this.ownNormCache.value
      acc.distCount++
    }
    if (this.hasBehaviour || this.options.keepLastReceived) {
      this.received.set(header.sender, {
        sender: header.sender, round: header.round, kind: header.kind, examples: header.examples,
        weight: header.weight, weights, receivedAt: this.clock.now()
      })
    }
  }
}
