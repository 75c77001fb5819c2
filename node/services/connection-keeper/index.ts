/**
 * The connection keeper service: remembers the peers it was connected to (store bucket 0x0b) and, while below
 * `targetPeers` connections, redials them and the bootstrap addresses with per-peer exponential backoff and
 * seeded jitter; warns (and counts) when the peer stays without connections or sees every update refused.
 *
 * @example
 * ```ts
 * import { connectionKeeper } from './node/services/connection-keeper/index.js'
 *
 * const keeper = connectionKeeper({ bootstrap: ['/ip4/10.0.0.1/tcp/4001/p2p/12D3Koo…'], targetPeers: 8, seed: 7 })({
 *   network: transport.serviceNetwork(), store, engine, metrics, logger
 * })
 * await keeper.start()              // loads the known peers, checks now and every 2 s
 * keeper.withoutConnectionsMs()     // 0 while connected (a /health reason past isolatedLimitMs)
 * await keeper.stop()
 * ```
 */
import { ConnectionKeeper, type ConnectionKeeperComponents, type ConnectionKeeperInit } from './connection-keeper.js'

export * from './constants.js'
export { DialBackoff, type BackoffInit } from './backoff.js'
export { ConnectionKeeper, type ConnectionKeeperComponents, type ConnectionKeeperInit, type ConnectionKeeperStats } from './connection-keeper.js'

export function connectionKeeper (init: ConnectionKeeperInit = {}): (components: ConnectionKeeperComponents) => ConnectionKeeper {
  return (components) => new ConnectionKeeper(init, components)
}
