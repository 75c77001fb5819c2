/**
 * The envelope seam (`Envelopes` of protocol/engine) for simulated peers: real encoding (protocol/codecs),
 * real sealing (NaCl secretbox under the network's epoch key, ed25519 signature) and real validation
 * (protocol/messages' validator: size, decode with limits, network, schema, membership, epoch, signature,
 * decryption, finite values, norm bound). Replay and equivocation are left to the engine, which owns the marks.
 *
 * The only simulator-specific choice: the secretbox nonce comes from the peer's seeded stream instead of the
 * OS, so that envelope bytes (and update ids, which hash the header with its payload hash) are reproducible.
 */
import type { Signer, PeerKey } from '../../protocol/interfaces.js'
import type { Rng } from '../../protocol/rng.js'
import type { Envelopes, OpenResult, UpdateFields } from '../../protocol/engine/types.js'
import { sealUpdate, createValidator, type ReplayGuard, type ReplayMark } from '../../protocol/messages/index.js'
import { createEncoder, type CodecSpec } from '../../protocol/codecs/index.js'

export interface SimNetwork {
  networkId: string
  schemaHash: string
  numParams: number
  epochKey: Uint8Array
  /** Member keys (closed network). */
  members: ReadonlySet<PeerKey>
  maxBytes: number
  normBound: number | null
}

/** A replay guard that accepts everything: the engine checks replay and equivocation itself. */
const PASS_THROUGH_REPLAY: ReplayGuard = {
  check: () => ({ ok: true }),
  commit: (sender: PeerKey, seq: number): ReplayMark => ({ sender, highestSeq: seq, recent: [] } as unknown as ReplayMark),
  mark: () => null,
  marks: () => []
}

export function simEnvelopes (network: SimNetwork, peer: { signer: Signer, self: PeerKey, rng: Rng, codec: CodecSpec }): Envelopes {
  const encoder = createEncoder(peer.codec)
  const nonces = peer.rng.fork('nonces')
  const validator = createValidator({
    networkId: network.networkId,
    schemaHash: network.schemaHash,
    numParams: network.numParams,
    membership: { isMember: (k) => network.members.has(k), epochKey: (e) => e === 1 ? network.epochKey : null },
    replay: PASS_THROUGH_REPLAY,
    maxBytes: network.maxBytes,
    normBound: network.normBound,
    self: peer.self
  })
  return {
    seal: (fields: UpdateFields, weights: Float32Array) => {
      const encoded = encoder.encode(weights)
      const sealed = sealUpdate({
        kind: fields.kind,
        networkId: network.networkId,
        manifestVersion: 1,
        keyEpoch: 1,
        schemaHash: network.schemaHash,
        round: fields.round,
        seq: fields.seq,
        exampleCount: fields.examples,
        pushSumWeight: fields.weight,
        numParams: network.numParams,
        parents: fields.parents
      }, encoded, { signer: peer.signer, epochKey: network.epochKey, randomBytes: (n) => nonces.bytes(n) })
      return { bytes: sealed.bytes, id: sealed.id }
    },
    open: (bytes: Uint8Array): OpenResult => {
      const r = validator.validate(bytes)
      if (!r.ok) return { ok: false, reason: r.reason, detail: r.detail, id: r.id }
      const h = r.header
      return {
        ok: true,
        id: r.id,
        header: { kind: h.kind as UpdateFields['kind'], round: h.round, seq: h.seq, examples: h.exampleCount, weight: h.pushSumWeight, parents: h.parents, sender: h.sender },
        weights: r.weights
      }
    }
  }
}
