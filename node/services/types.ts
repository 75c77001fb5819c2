/**
 * The seams of the node's services (manifest sync, connection keeper; next: state sync), in
 * the js-libp2p shape: a factory `service(init = {}) => (components) => Service`, the components a service
 * needs picked from one `NodeComponents` object, and `start` / `stop`. The PeerNode starts its services in
 * the order of its modules object and stops them in reverse.
 */
import type { Logger } from '../logger.js'
import type { Identity } from '../keystore.js'
import type { LevelStore } from '../store/index.js'
import type { LiveKeyring } from '../wiring.js'
import type { PromMetrics } from '../metrics.js'
import type { ServiceNetwork } from '../transport/service-network.js'
import type { PeerEngine } from '../../protocol/engine/index.js'

export interface Startable {
  start: (options?: { signal?: AbortSignal }) => Promise<void>
  /** Idempotent; waits for work in progress that touches the store (the store closes after the services). */
  stop: () => Promise<void>
}

/** Everything the node can hand a service; each service's own Components type is a subset of it. */
export interface NodeComponents {
  peerKey: string
  identity: Identity
  keyring: LiveKeyring
  store: LevelStore
  network: ServiceNetwork
  engine: PeerEngine
  metrics: PromMetrics
  /** A child logger named after the service. */
  logger: Logger
}

export type ServiceFactory<S extends Startable = Startable> = (components: NodeComponents) => S

export type Services<F extends Record<string, ServiceFactory>> = { [K in keyof F]: ReturnType<F[K]> }

/** Builds each service over the node's components, each with a child logger named after it (in the given order). */
export function buildServices<F extends Record<string, ServiceFactory>> (components: NodeComponents, factories: F): Services<F> {
  const out: Partial<Record<keyof F, Startable>> = {}
  for (const [name, factory] of Object.entries(factories) as Array<[keyof F & string, ServiceFactory]>) {
    out[name] = factory({ ...components, logger: components.logger.child({ component: name }) })
  }
  return out as Services<F>
}
