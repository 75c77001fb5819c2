/** Shared set-up for envelope tests: one network, a few identities, a validator factory. */
import { generateIdentity, createSigner, toHex, sign, blake3, type Identity } from '../../crypto/index.js'
import {
  sealUpdate, createValidator, createMemoryReplayGuard, signedMessage, type UpdateFields, type ValidatorOptions, type ReplayGuard
} from '../../protocol/messages/index.js'
import { createEncoder, type CodecSpec } from '../../protocol/codecs/index.js'
import { createRng } from '../../protocol/rng.js'

export const rng = createRng(31337).fork('messages')
export const alice = generateIdentity(rng.bytes(32))
export const bob = generateIdentity(rng.bytes(32))
export const mallory = generateIdentity(rng.bytes(32))
export const networkId = toHex(rng.bytes(32))
export const schemaHash = toHex(rng.bytes(32))
export const epochKeys = new Map<number, Uint8Array>([[1, rng.bytes(32)], [2, rng.bytes(32)]])
export const NUM_PARAMS = 16

export function weights (n = NUM_PARAMS, seed = 1): Float32Array {
  const r = createRng(seed)
  return Float32Array.from({ length: n }, () => r.normal())
}

export function fields (over: Partial<UpdateFields> = {}): UpdateFields {
  return {
    networkId, manifestVersion: 2, keyEpoch: 1, schemaHash, round: 10, seq: 1, exampleCount: 100,
    pushSumWeight: 0.25, numParams: NUM_PARAMS, parents: [], ...over
  }
}

export function seal (over: Partial<UpdateFields> = {}, options: { from?: Identity, codec?: CodecSpec, w?: Float32Array, key?: Uint8Array } = {}) {
  const f = fields(over)
  const w = options.w ?? weights(f.numParams, f.seq)
  return sealUpdate(f, createEncoder(options.codec ?? { name: 'float32' }).encode(w), {
    signer: createSigner(options.from ?? alice),
    epochKey: options.key ?? epochKeys.get(f.keyEpoch) ?? epochKeys.get(1)!
  })
}

export function validator (over: Partial<ValidatorOptions> = {}, replay: ReplayGuard = createMemoryReplayGuard()) {
  const members = new Set([alice, bob].map((i) => toHex(i.signPublicKey)))
  return createValidator({
    networkId,
    schemaHash,
    numParams: NUM_PARAMS,
    membership: { isMember: (k) => members.has(k), epochKey: (e) => epochKeys.get(e) ?? null },
    replay,
    maxBytes: 1 << 20,
    roundWindow: { past: 3, future: 1 },
    normBound: 100,
    ...over
  })
}

/** Replaces the signature after the header was edited in place (so only later checks can catch the edit). */
export function resign (bytes: Uint8Array, signer: Identity = alice): Uint8Array {
  const hl = (bytes[0] << 8) | bytes[1]
  const out = new Uint8Array(bytes)
  if (2 + hl + 64 > out.length) return out // header length field was mangled: nothing sensible to re-sign
  out.set(sign(signedMessage(out.subarray(2, 2 + hl)), signer.signSecretKey), 2 + hl)
  return out
}

/** Re-hashes the ciphertext into the header and re-signs (after the ciphertext was edited). */
export function rehashAndResign (bytes: Uint8Array, payloadHashOffset: number, signer: Identity = alice): Uint8Array {
  const hl = (bytes[0] << 8) | bytes[1]
  const out = new Uint8Array(bytes)
  out.set(blake3(out.subarray(2 + hl + 64)), 2 + payloadHashOffset)
  return resign(out, signer)
}
