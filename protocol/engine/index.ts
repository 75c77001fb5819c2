/**
 * The peer engine: one implementation of what a peer does (train k local steps, choose partners, seal and send
 * updates, validate and merge what arrives, checkpoint, emit events), shared by the daemon and the simulator.
 * Everything it touches is injected.
 *
 * @example
 * ```ts
 * import { peerEngine, MemoryStore } from './protocol/engine/index.js'
 * import { createRng } from './protocol/rng.js'
 *
 * const engine = peerEngine({ averaging: { rule: 'epidemic', fanout: 3, merge: 'trimmed-mean' }, localSteps: 5 })({
 *   transport, learner, clock, envelopes,          // envelopes: sealedEnvelopes(...) from ./envelopes.js
 *   store: new MemoryStore(), rng: createRng(7).fork('peer-3'), metrics: null
 * })
 * engine.addEventListener('round', (e) => console.log(e.detail.round, e.detail.loss, e.detail.consensusDistance))
 *
 * // Simulator (external scheduler, virtual time): drive the steps yourself
 * await engine.init()
 * await engine.beginRound()                 // train, seal, send (transport.send)
 * await engine.handleMessage(incoming)      // for each delivery: RefusalReason | null
 * const report = await engine.endRound()    // merge buffered (epidemic, dpsgd), evaluate, checkpoint
 *
 * // Daemon: loop on the injected Clock
 * await engine.start({ signal })
 * await engine.stop()
 * ```
 */
import { DefaultPeerEngine } from './engine.js'
import type { PeerEngine, PeerEngineComponents, PeerEngineInit } from './types.js'

export * from './types.js'
export * from './store.js'
export { MemoryStore, StoreClosedError, type MemoryStoreInit } from './memory-store.js'
export { createMemoryReplayGuard, type ReplayGuard } from '../messages/replay.js'
export { defaultPeerEngineOptions, ENGINE_METRICS, SEQ_PER_MS, SEQ_RESTART_GAP, seqFloor, type PeerEngineOptions } from './constants.js'
export { InvalidEngineOptionsError, CheckpointMismatchError, EngineStateError } from './errors.js'
export {
  parseAveragingParams, averagingRule, averagingParamsSchema, AVERAGING_RULES, InvalidAveragingParamsError, UnknownAveragingRuleError,
  type AveragingParams, type AveragingParamsInput, type AveragingRuleName, type AveragingRule, type AveragingRuleDefinition,
  type RuleContext, type RuleTraits
} from './rules/index.js'

/** js-libp2p shape: options first, components second. Throws InvalidEngineOptionsError / InvalidAveragingParamsError. */
export function peerEngine (init: PeerEngineInit = {}): (components: PeerEngineComponents) => PeerEngine {
  return (components) => new DefaultPeerEngine(init, components) as unknown as PeerEngine
}
export {
  sealedEnvelopes, staticMembership, simulatedNetwork, NoEpochKeyError,
  type SealedEnvelopesInit, type SealedEnvelopesComponents, type SimulatedMember, type SimulatedNetworkInit
} from './envelopes.js'
export { chooseState, type StateResponse, type StateSyncResult } from './state-sync.js'
