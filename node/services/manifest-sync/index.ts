/**
 * Manifest sync as a node service: live adoption of new manifest versions from the API, the `--network` file and
 * the network's manifest topic (with a fetch over `/murmur/manifest/1.0.0` for versions too large to gossip).
 *
 * @example
 * ```ts
 * import { manifestSync } from './node/services/manifest-sync/index.js'
 *
 * const sync = manifestSync({ networkFile: 'network.json', watchNetworkMs: 2000 })({
 *   peerKey, identity, keyring, store, engine, metrics, logger,
 *   network: transport.serviceNetwork()       // topics and streams, without libp2p's internals
 * })
 * await sync.start()                          // serve the protocol, subscribe (validator = adoption), watch the file
 * const r = await sync.submit(bytes, 'api')   // { adopted, version, epoch, reason?, removed, added, ... }
 * await sync.stop()                           // waits for an adoption in progress, then unsubscribes
 * ```
 */
import { ManifestSync, type ManifestSyncComponents, type ManifestSyncInit } from './manifest-sync.js'

export * from './constants.js'
export { ManifestSync, ManifestSyncStoppedError, type ManifestSyncComponents, type ManifestSyncInit, type ManifestResult, type ManifestSource, type SubmitOptions } from './manifest-sync.js'
export { loadManifest } from './load-manifest.js'

export function manifestSync (init: ManifestSyncInit = {}): (components: ManifestSyncComponents) => ManifestSync {
  return (components) => new ManifestSync(init, components)
}
