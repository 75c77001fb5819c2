/**
 * Update envelopes: the signed, encrypted unit a peer sends. See `envelope.ts` for the layout and
 * docs/security.md for the full table.
 *
 * @example
 * ```ts
 * import { sealUpdate, createValidator, createMemoryReplayGuard } from './protocol/messages/index.js'
 * import { createEncoder } from './protocol/codecs/index.js'
 * const { bytes, id } = sealUpdate(
 *   { networkId, manifestVersion: 1, keyEpoch: 1, schemaHash, round: 3, seq: 17, exampleCount: 500,
 *     pushSumWeight: 0.5, numParams: w.length, parents: [] },
 *   createEncoder({ name: 'float16' }).encode(w),
 *   { signer, epochKey })
 * const validator = createValidator({ networkId, schemaHash, numParams: w.length, membership: keyring,
 *   replay: createMemoryReplayGuard(), maxBytes: 64 << 20, roundWindow: { past: 5, future: 2 } })
 * const r = validator.validate(bytes, { round: 3 })
 * if (r.ok) { merge(r.weights); replay.commit(r.header.sender, r.header.seq, r.id) } else count(r.reason)
 * ```
 */
export * from './constants.js'
export { InvalidUpdateFieldError } from './errors.js'
export { type UpdateHeader, encodeHeader, decodeHeader, headerLength, payloadHashOffset } from './header.js'
export {
  type UpdateFields, type SealOptions, type SealedUpdate, type ParsedEnvelope, type ParseResult,
  type SignatureCheck, sealUpdate, parseEnvelope, signedMessage, headerBinding, headerToJson, verifyEnvelopeSignature,
  verifyHeaderSignature, signedPayloadHash
} from './envelope.js'
export {
  type MembershipView, type ValidatorOptions, type ValidationContext, type ValidationResult, type Validator,
  createValidator
} from './validator.js'
export {
  type ReplayGuard, type ReplayMark, type ReplayCheck, type MemoryReplayGuardInit, createMemoryReplayGuard
} from './replay.js'
