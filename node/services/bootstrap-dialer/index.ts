/**
 * The bootstrap dialer service: joins the network through its bootstrap addresses and rejoins when isolated.
 *
 * @example
 * ```ts
 * import { bootstrapDialer } from './node/services/bootstrap-dialer/index.js'
 *
 * const dialer = bootstrapDialer({ addresses: ['/ip4/10.0.0.1/tcp/4001/p2p/12D3Koo…'] })({ network: transport.serviceNetwork(), logger })
 * await dialer.start()   // dials now, and again every 5 s while this peer has no connection
 * await dialer.stop()
 * ```
 */
import { BootstrapDialer, type BootstrapDialerComponents, type BootstrapDialerInit } from './bootstrap-dialer.js'

export * from './constants.js'
export { BootstrapDialer, type BootstrapDialerComponents, type BootstrapDialerInit } from './bootstrap-dialer.js'

export function bootstrapDialer (init: BootstrapDialerInit = {}): (components: BootstrapDialerComponents) => BootstrapDialer {
  return (components) => new BootstrapDialer(init, components)
}
