/**
 * The instance check: one identity, one process. Every daemon draws a random instance id at start and, on
 * `/murmur/instance/1.0.0`, asks each connection of each peer which instance answers on it, telling that peer
 * which of its instances it has seen. Two connections of one peer id answered by two instances mean the
 * identity runs in two processes (a copied datadir or identity file): the asker warns about that member, and
 * each of the two processes learns from the asker's list that another instance holds its key, warns its
 * operator and answers `/health` 503 IDENTITY_IN_USE. Without it the copy silently takes the other's traffic.
 *
 * @example
 * ```ts
 * const check = instanceCheck()({ network, logger })
 * await check.start()
 * check.clashAt        // the last time another process with this identity was seen (ms), or null
 * await check.stop()
 * ```
 */
import { InstanceCheckService, type InstanceCheckComponents, type InstanceCheckInit } from './instance-check.js'

export * from './constants.js'
export { InstanceCheckService, type InstanceCheckComponents, type InstanceCheckInit } from './instance-check.js'

export function instanceCheck (init: InstanceCheckInit = {}): (components: InstanceCheckComponents) => InstanceCheckService {
  return (components) => new InstanceCheckService(init, components)
}
