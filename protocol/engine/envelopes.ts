/**
 * The production envelope seam: real encoding (protocol/codecs), sealing and validation (protocol/messages)
 * under the network's membership and epoch keys.
 *
 * @example
 * ```ts
 * import { sealedEnvelopes } from './protocol/engine/envelopes.js'
 * const envelopes = sealedEnvelopes({ networkId: manifest.id, schemaHash: learner.schemaHash,
 *   numParams: learner.numParams, manifestVersion: manifest.version, codec: 'float16' })({
 *   signer: createSigner(identity), membership: createKeyring(manifest, { identity }) })
 *
 * // simulator: N members with deterministic identities, one shared epoch key, real sealing and validation
 * const net = simulatedNetwork({ members: 100, rng: createRng(7).fork('identities'), schemaHash, numParams })
 * net.members[3].envelopes   // Envelopes for member 3; net.members[3].key is its PeerKey
 * ```
 */
import type { PeerKey, Rng, Signer } from '../interfaces.js'
import { createEncoder, parseCodecSpec, type CodecSpec, type Encoder } from '../codecs/index.js'
import { createValidator, sealUpdate, type MembershipView } from '../messages/index.js'
import { createSigner, generateIdentity, toHex, type CryptoProvider, type Identity } from '../../crypto/index.js'
import type { Envelopes, OpenResult, UpdateHeader } from './types.js'

export class NoEpochKeyError extends Error {
  static override name = 'NoEpochKeyError'
  override name = 'NoEpochKeyError'
}

export interface SealedEnvelopesInit {
  /** Network id (64 hex). */
  networkId: string
  /** Learner schema hash (64 hex). */
  schemaHash: string
  numParams: number
  /** Manifest version stamped on outgoing updates (default: membership.manifest.version, else 1). */
  manifestVersion?: number
  /** Payload codec (default float32): a spec object or text such as 'float16', 'int8:1024', 'topk:0.01'. */
  codec?: CodecSpec | string
  /** Largest envelope accepted (default: float32 size of the model + 1 MiB). */
  maxBytes?: number
  /** Largest Euclidean norm accepted (default: unbounded). */
  normBound?: number | null
  /** The crypto primitives to seal and validate with (default: this process's fast provider). */
  crypto?: CryptoProvider
}

export interface SealedEnvelopesComponents {
  signer: Signer
  /** The keyring (protocol/membership createKeyring) or any MembershipView with the epoch to seal under. */
  membership: MembershipView & { readonly currentEpoch?: number, readonly manifest?: { version: number } }
  /** Nonce source (default: OS CSPRNG). The simulator passes a seeded one so update ids are reproducible. */
  randomBytes?: (n: number) => Uint8Array
}

export function sealedEnvelopes (init: SealedEnvelopesInit): (components: SealedEnvelopesComponents) => Envelopes {
  return (components) => {
    const { signer, membership } = components
    const self: PeerKey = toHex(signer.publicKey)
    const spec: CodecSpec = typeof init.codec === 'string' ? parseCodecSpec(init.codec) : (init.codec ?? { name: 'float32' })
    const encoder: Encoder = createEncoder(spec)
    const maxBytes = init.maxBytes ?? init.numParams * 4 + (1 << 20)
    const validator = createValidator({
      networkId: init.networkId, schemaHash: init.schemaHash, numParams: init.numParams, membership,
      maxBytes, normBound: init.normBound ?? null, self, ...(init.crypto != null ? { crypto: init.crypto } : {})
    })
    return {
      seal (fields, weights) {
        // the float32 payload may be a view of `weights`: sealUpdate reads it once, synchronously, before returning
        const epoch = membership.currentEpoch ?? 1
        const epochKey = membership.epochKey(epoch)
        if (epochKey == null) throw new NoEpochKeyError(`no group key for key epoch ${epoch}`)
        const sealed = sealUpdate({
          kind: fields.kind,
          networkId: init.networkId,
          manifestVersion: init.manifestVersion ?? membership.manifest?.version ?? 1,
          keyEpoch: epoch,
          schemaHash: init.schemaHash,
          round: fields.round,
          seq: fields.seq,
          exampleCount: fields.examples,
          pushSumWeight: fields.weight,
          numParams: weights.length,
          parents: fields.parents
        }, encoder.encode(weights, { view: true }), { signer, epochKey, ...(components.randomBytes != null ? { randomBytes: components.randomBytes } : {}), ...(init.crypto != null ? { crypto: init.crypto } : {}) })
        return { bytes: sealed.bytes, id: sealed.id }
      },
      open (bytes, context): OpenResult {
        // replay is checked against the engine's guard (check only: the engine commits after accepting)
        const r = validator.validate(bytes, { from: context.from, replay: context.replay })
        const toEngine = (h: typeof r.header): UpdateHeader | undefined => h == null
          ? undefined
          : { kind: h.kind as UpdateHeader['kind'], round: h.round, seq: h.seq, examples: h.exampleCount, weight: h.pushSumWeight, parents: h.parents, sender: h.sender }
        if (!r.ok) {
          const header = toEngine(r.header)
          return { ok: false, reason: r.reason, detail: r.detail, ...(header != null ? { header } : {}), ...(r.id != null ? { id: r.id } : {}), ...(r.previousId != null ? { previousId: r.previousId } : {}) }
        }
        return { ok: true, id: r.id, header: toEngine(r.header) as UpdateHeader, weights: r.weights, indices: r.indices }
      }
    }
  }
}

/** A membership with a fixed member set and one group key (epoch 1): for simulated networks. */
export function staticMembership (members: Iterable<PeerKey>, groupKey: Uint8Array): MembershipView & { currentEpoch: number } {
  const set = new Set(members)
  return { currentEpoch: 1, isMember: (k) => set.has(k), epochKey: (e) => (e === 1 ? groupKey : null) }
}

export interface SimulatedMember { index: number, identity: Identity, key: PeerKey, signer: Signer, envelopes: Envelopes }

export interface SimulatedNetworkInit extends Omit<SealedEnvelopesInit, 'networkId'> {
  /** Number of members. */
  members: number
  /** Seeds identities, the network id, the group key and each member's nonces. */
  rng: Rng
  networkId?: string
}

/**
 * N members with deterministic identities (from `rng`), one network id and group key, and each member's real
 * Envelopes (real sealing and validation; nonces from a seeded stream per member, so runs are reproducible).
 */
export function simulatedNetwork (init: SimulatedNetworkInit): { networkId: string, groupKey: Uint8Array, members: SimulatedMember[] } {
  const { rng, members: count, ...rest } = init
  const networkId = init.networkId ?? toHex(rng.fork('network-id').bytes(32))
  const groupKey = rng.fork('group-key').bytes(32)
  const identities = Array.from({ length: count }, (_, i) => generateIdentity(rng.fork(`identity-${i}`).bytes(32)))
  const keys = identities.map((id) => toHex(id.signPublicKey))
  const membership = staticMembership(keys, groupKey)
  const members = identities.map((identity, index) => {
    const signer = createSigner(identity)
    const nonces = rng.fork(`nonces-${index}`)
    const envelopes = sealedEnvelopes({ ...rest, networkId })({ signer, membership, randomBytes: (n) => nonces.bytes(n) })
    return { index, identity, key: keys[index], signer, envelopes }
  })
  return { networkId, groupKey, members }
}
