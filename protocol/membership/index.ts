/**
 * Network manifests, k-of-n admin changes and key epochs.
 *
 * @example
 * ```ts
 * import { createNetwork, addMember, removeMember, parseMember, acceptManifest, createKeyring } from './protocol/membership/index.js'
 * let m = createNetwork({ name: 'motor', model: {...}, dataset: { spec: {...} }, rule: { name: 'push-sum' }, creator: me })
 * m = addMember(m, parseMember('member:<sign>:<box>'), me)       // version 2, current epoch sealed to them
 * m = removeMember(m, someKey, me)                                // version 3, new epoch they cannot open
 * current = acceptManifest(current, m)                            // peers: only valid, higher versions
 * const keyring = createKeyring(current, { identity: me })        // MembershipView for the validator
 * ```
 */
export * from './errors.js'
export { canonicalJson } from './canonical-json.js'
export * from './manifest.js'
export * from './changes.js'
export * from './keyring.js'
export * from './manifest-update.js'
