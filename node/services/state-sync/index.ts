/**
 * State sync as a node service: answers members' state requests on `/murmur/state/1.0.0` with this peer's model,
 * sealed and signed, and, while the engine wants state (a fresh start, or the round clock caught up with a network
 * far ahead), asks connected members for theirs and hands the answers to the engine, which checks them and
 * adopts their robust choice (protocol/engine/state-sync.ts).
 *
 * @example
 * ```ts
 * import { stateSync } from './node/services/state-sync/index.js'
 *
 * const sync = stateSync({ maxBytes: transport.maxMessageBytes })({ network, engine, keyring, metrics, logger })
 * await sync.start()          // serve the protocol, look every 2 s whether the engine wants state
 * await sync.stop()           // stop asking, wait for a request in progress, unhandle
 * ```
 */
import { StateSyncService, type StateSyncComponents, type StateSyncInit } from './state-sync.js'

export * from './constants.js'
export { StateSyncService, type StateSyncComponents, type StateSyncInit } from './state-sync.js'

export function stateSync (init: StateSyncInit): (components: StateSyncComponents) => StateSyncService {
  return (components) => new StateSyncService(init, components)
}
