/**
 * Network manifests: what defines a network, who may change it (k of n admins), who is a member, and the
 * key epochs whose group keys are sealed to every member.
 *
 * Signatures: each admin signs `MANIFEST_DOMAIN || canonicalJson(manifest without "signatures")`.
 * Version 1 needs `threshold` signatures of its own admins; version v+1 needs `threshold` signatures of
 * version v's admins (so a change to the admin set is approved by the admins before it).
 * Each epoch record is also signed by the admin who made it (`EPOCH_DOMAIN || canonicalJson(record without
 * "signature")`) and carries the epoch's 32-byte key sealed to each member's box key (crypto
 * `sealKeyToMember`: NaCl box from an ephemeral key).
 */
import { z } from 'zod'
import {
  type Identity, sign, verify, toHex, fromHex, fromHexOrNull, randomBytes as cryptoRandomBytes,
  sealKeyToMember, boxPublicKeyFromSignPublicKey, sha256,
  DEFAULT_PASSPHRASE_KDF, type PassphraseKdf, bytesEqual, SEALED_KEY_BYTES, PASSPHRASE_KDF_LIMITS
} from '../../crypto/index.js'
import { canonicalJson } from './canonical-json.js'
import { ManifestFormatError, ManifestSignatureError, StaleManifestError, MembershipChangeError } from './errors.js'

export const MANIFEST_FORMAT = 'murmur-network/1'
export const MANIFEST_DOMAIN = 'murmur/manifest/v1\0'
export const EPOCH_DOMAIN = 'murmur/epoch/v1\0'
export const OPEN_EPOCH_DOMAIN = 'murmur/open-epoch/v1\0'
/** Printed by the daemon on every start of an open network. */
export const OPEN_NETWORK_WARNING = 'WARNING: this is an OPEN network: its updates are encrypted with a key derived from a ' +
  'passphrase, so anyone holding the passphrase can read (and, if the passphrase leaks, anyone can send) its updates. ' +
  'Use a closed network (member list) for data that must stay within a consortium.'

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters')
const hex128 = z.string().regex(/^[0-9a-f]{128}$/, 'must be 128 lowercase hex characters')
const json: z.ZodType<unknown> = z.unknown()

const memberSchema = z.object({ signKey: hex64, boxKey: hex64, name: z.string().max(200).optional() }).strict()
const sealedHex = z.string().regex(new RegExp(`^[0-9a-f]{${2 * SEALED_KEY_BYTES}}$`),
  `must be ${2 * SEALED_KEY_BYTES} hex characters (${SEALED_KEY_BYTES}-byte sealed key)`)
const sealedSchema = z.object({ member: hex64, sealed: sealedHex }).strict()
const epochSchema = z.object({
  epoch: z.number().int().min(1).max(0xffffffff),
  manifestVersion: z.number().int().min(1).max(0xffffffff),
  createdBy: hex64,
  keys: z.array(sealedSchema).max(100_000),
  signature: hex128
}).strict()
const openSchema = z.object({
  kdf: z.literal('scrypt'),
  salt: z.string().regex(/^[0-9a-f]{32,128}$/, 'must be 32..128 hex characters'),
  N: z.number().int().min(PASSPHRASE_KDF_LIMITS.minN).max(PASSPHRASE_KDF_LIMITS.maxN),
  r: z.number().int().min(1).max(PASSPHRASE_KDF_LIMITS.maxR),
  p: z.number().int().min(1).max(PASSPHRASE_KDF_LIMITS.maxP)
}).strict()
const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  id: hex64,
  name: z.string().min(1).max(200),
  version: z.number().int().min(1).max(0xffffffff),
  model: json,
  dataset: z.object({ spec: json, schemaHash: hex64 }).strict(),
  rule: z.object({ name: z.string().min(1).max(100), params: z.record(z.string(), json) }).strict(),
  privacy: json.optional(),
  admins: z.array(hex64).min(1).max(100),
  threshold: z.number().int().min(1).max(100),
  members: z.array(memberSchema).max(100_000),
  open: openSchema.nullable(),
  epochs: z.array(epochSchema).max(10_000),
  signatures: z.array(z.object({ key: hex64, signature: hex128 }).strict()).max(100)
}).strict()

export type Member = z.infer<typeof memberSchema>
export type SealedEpochKey = z.infer<typeof sealedSchema>
export type EpochRecord = z.infer<typeof epochSchema>
export type OpenNetworkParams = z.infer<typeof openSchema>
export interface NetworkManifest {
  format: typeof MANIFEST_FORMAT
  /** 64 hex: 32 random bytes chosen at creation; goes into every update header. */
  id: string
  name: string
  version: number
  /** Model spec, opaque to this module (the learning layer reads it). */
  model: unknown
  /** Dataset spec (opaque) and the schema hash updates must carry. */
  dataset: { spec: unknown, schemaHash: string }
  /** Averaging rule and its parameters (the engine reads them). */
  rule: { name: string, params: Record<string, unknown> }
  /**
   * Differential privacy every member's local training runs under (DP-SGD with a per-member budget), opaque to
   * this module (learning/specs.ts PrivacySpecSchema validates it). Absent: no privacy, and the signed body is
   * the same as before the field existed.
   */
  privacy?: unknown
  /** Signing keys (hex) of the admins. */
  admins: string[]
  /** Admin signatures a change needs (k of n). */
  threshold: number
  members: Member[]
  /** Non-null for an open network (no member list; key from a passphrase). */
  open: OpenNetworkParams | null
  /** Key epochs, ascending; the last is current. Empty for open networks. */
  epochs: EpochRecord[]
  signatures: Array<{ key: string, signature: string }>
}

const enc = new TextEncoder()

function fieldError (source: string | undefined, issues: z.core.$ZodIssue[]): ManifestFormatError {
  const first = issues[0]
  const path = first.path.length > 0 ? first.path.map(String).join('.') : '(top level)'
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : ''
  return new ManifestFormatError(`${source != null ? source + ': ' : ''}field ${path}: ${first.message}${more}`)
}

/** Parses manifest JSON text or an object; throws ManifestFormatError naming the file and field. */
export function parseManifest (input: string | unknown, source?: string): NetworkManifest {
  let value: unknown = input
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input)
    } catch (err) {
      throw new ManifestFormatError(`${source != null ? source + ': ' : ''}not valid JSON: ${(err as Error).message}`)
    }
  }
  const r = manifestSchema.safeParse(value)
  if (!r.success) throw fieldError(source, r.error.issues)
  return r.data as NetworkManifest
}

/** Pretty JSON for files (`network.json`). */
export function serializeManifest (m: NetworkManifest): string {
  return JSON.stringify(m, null, 2) + '\n'
}

export function manifestSigningBytes (m: NetworkManifest): Uint8Array {
  const { signatures: _s, ...body } = m
  return enc.encode(MANIFEST_DOMAIN + canonicalJson(body))
}

export function epochSigningBytes (e: EpochRecord): Uint8Array {
  const { signature: _s, ...body } = e
  return enc.encode(EPOCH_DOMAIN + canonicalJson(body))
}

/** Hex SHA-256 of the signed body: names a manifest version unambiguously. */
export function manifestHash (m: NetworkManifest): string {
  return toHex(sha256(manifestSigningBytes(m)))
}

/** A member's public keys as one string (`murmur init` prints it; `network add-member` takes it). */
export function memberString (identity: Pick<Identity, 'signPublicKey' | 'boxPublicKey'>): string {
  return `member:${toHex(identity.signPublicKey)}:${toHex(identity.boxPublicKey)}`
}

/**
 * Parses a member string, or a bare signing key (its box key is then the standard ed25519 -> X25519
 * conversion), with an optional explicit box key. Throws MembershipChangeError naming what is wrong.
 */
export function parseMember (text: string, boxKey?: string, name?: string): Member {
  let sign = text.trim().toLowerCase()
  let box = boxKey?.trim().toLowerCase()
  if (sign.startsWith('member:')) {
    const parts = sign.split(':')
    if (parts.length !== 3) throw new MembershipChangeError('member string must be member:<sign key hex>:<box key hex>')
    sign = parts[1]
    if (box != null && box !== parts[2]) throw new MembershipChangeError('--box-key contradicts the member string')
    box = parts[2]
  }
  const signBytes = fromHexOrNull(sign, 32)
  if (signBytes == null) throw new MembershipChangeError('signing key must be 64 hex characters')
  const derived = boxPublicKeyFromSignPublicKey(signBytes)
  if (derived == null) throw new MembershipChangeError('signing key is not a valid ed25519 public key')
  if (box == null) box = toHex(derived)
  if (fromHexOrNull(box, 32) == null) throw new MembershipChangeError('box key must be 64 hex characters')
  return name != null ? { signKey: sign, boxKey: box, name } : { signKey: sign, boxKey: box }
}

function memberOf (identity: Identity, name?: string): Member {
  return { signKey: toHex(identity.signPublicKey), boxKey: toHex(identity.boxPublicKey), ...(name != null ? { name } : {}) }
}

/** A signed key epoch sealing `key` to each member (used by createNetwork and the changes in ./changes.ts). */
export function makeEpoch (epoch: number, manifestVersion: number, key: Uint8Array, members: Member[], admin: Identity,
  randomBytes: (n: number) => Uint8Array): EpochRecord {
  const record: EpochRecord = {
    epoch,
    manifestVersion,
    createdBy: toHex(admin.signPublicKey),
    keys: members.map((m) => ({ member: m.signKey, sealed: toHex(sealKeyToMember(key, fromHex(m.boxKey, 32), randomBytes)) })),
    signature: ''
  }
  record.signature = toHex(sign(epochSigningBytes(record), admin.signSecretKey))
  return record
}

export interface CreateNetworkInit {
  name: string
  model: unknown
  dataset: { spec: unknown, schemaHash?: string }
  rule: { name: string, params?: Record<string, unknown> }
  /** The network's `privacy` block (see NetworkManifest.privacy). */
  privacy?: unknown
  /** The creator: first admin and first member. */
  creator: Identity
  creatorName?: string
  threshold?: number
  /** An open network: no member list; the key is derived from this passphrase (scrypt). */
  open?: { passphrase: string, N?: number, r?: number, p?: number }
  randomBytes?: (n: number) => Uint8Array
}

/** A new network at version 1, signed by its creator, with key epoch 1 (closed networks). */
export function createNetwork (init: CreateNetworkInit): NetworkManifest {
  const rnd = init.randomBytes ?? cryptoRandomBytes
  const threshold = init.threshold ?? 1
  if (threshold !== 1) throw new MembershipChangeError(`threshold ${threshold} needs ${threshold} admins; create with threshold 1, add admins, then raise it`)
  const creator = memberOf(init.creator, init.creatorName)
  const m: NetworkManifest = {
    format: MANIFEST_FORMAT,
    id: toHex(rnd(32)),
    name: init.name,
    version: 1,
    model: init.model,
    dataset: { spec: init.dataset.spec, schemaHash: init.dataset.schemaHash ?? toHex(sha256(enc.encode(canonicalJson(init.dataset.spec ?? null)))) },
    rule: { name: init.rule.name, params: init.rule.params ?? {} },
    ...(init.privacy != null ? { privacy: init.privacy } : {}),
    admins: [creator.signKey],
    threshold,
    members: init.open != null ? [] : [creator],
    open: null,
    epochs: [],
    signatures: []
  }
  if (init.open != null) {
    if (init.open.passphrase.length < 8) throw new MembershipChangeError('open network passphrase must be at least 8 characters')
    m.open = { ...DEFAULT_PASSPHRASE_KDF, ...pick(init.open), salt: toHex(rnd(16)) }
  } else {
    m.epochs.push(makeEpoch(1, 1, rnd(32), m.members, init.creator, rnd))
  }
  parseManifest(m)
  return signManifest(m, init.creator)
}

function pick (o: { N?: number, r?: number, p?: number }): Partial<PassphraseKdf> {
  const out: Partial<PassphraseKdf> = {}
  if (o.N != null) out.N = o.N
  if (o.r != null) out.r = o.r
  if (o.p != null) out.p = o.p
  return out
}

/** Adds (or replaces) this admin's signature. Throws MembershipChangeError when the identity is not an admin. */
export function signManifest (m: NetworkManifest, admin: Identity): NetworkManifest {
  const key = toHex(admin.signPublicKey)
  const signature = toHex(sign(manifestSigningBytes(m), admin.signSecretKey))
  return { ...m, signatures: [...m.signatures.filter((s) => s.key !== key), { key, signature }] }
}

function countValid (m: NetworkManifest, admins: string[]): { valid: number, bad: string[] } {
  const message = manifestSigningBytes(m)
  const seen = new Set<string>()
  const bad: string[] = []
  for (const s of m.signatures) {
    if (!admins.includes(s.key) || seen.has(s.key)) continue
    if (verify(message, fromHex(s.signature, 64), fromHex(s.key, 32))) seen.add(s.key)
    else bad.push(s.key)
  }
  return { valid: seen.size, bad }
}

/**
 * Checks a manifest's internal consistency and signatures. Without `previous` it must be version 1
 * self-signed by `threshold` of its admins, or (when `trustVersion` is set) any version signed by its own
 * admins. With `previous`, it must be the same network at a higher version, signed by `previous.threshold`
 * of `previous.admins`. Throws ManifestFormatError / ManifestSignatureError / StaleManifestError.
 */
export function verifyManifest (m: NetworkManifest, previous?: NetworkManifest | null, options: { trustVersion?: boolean } = {}): void {
  parseManifest(m)
  if (new Set(m.admins).size !== m.admins.length) throw new ManifestFormatError('field admins: duplicate admin')
  if (m.threshold > m.admins.length) throw new ManifestFormatError(`field threshold: ${m.threshold} exceeds the ${m.admins.length} admins`)
  const keys = new Set<string>()
  for (const [i, mem] of m.members.entries()) {
    if (keys.has(mem.signKey)) throw new ManifestFormatError(`field members.${i}.signKey: duplicate member`)
    keys.add(mem.signKey)
  }
  if (m.open == null) {
    for (const a of m.admins) if (!keys.has(a)) throw new ManifestFormatError(`field admins: admin ${a} is not a member`)
    if (m.epochs.length === 0) throw new ManifestFormatError('field epochs: a closed network needs at least one key epoch')
    let prev = 0
    for (const [i, e] of m.epochs.entries()) {
      if (e.epoch <= prev) throw new ManifestFormatError(`field epochs.${i}.epoch: epochs must ascend`)
      prev = e.epoch
      if (!verify(epochSigningBytes(e), fromHex(e.signature, 64), fromHex(e.createdBy, 32))) {
        throw new ManifestSignatureError(`field epochs.${i}.signature: epoch ${e.epoch} record signature does not verify`)
      }
    }
    const current = m.epochs[m.epochs.length - 1]
    const sealedFor = new Set(current.keys.map((k) => k.member))
    for (const mem of m.members) {
      if (!sealedFor.has(mem.signKey)) throw new ManifestFormatError(`field epochs.${m.epochs.length - 1}.keys: current epoch is not sealed to member ${mem.signKey}`)
    }
  } else if (m.members.length > 0 || m.epochs.length > 0) {
    throw new ManifestFormatError('field open: an open network has no members and no key epochs')
  }
  if (previous != null) {
    if (previous.id !== m.id) throw new StaleManifestError(`manifest is for network ${m.id}, not ${previous.id}`)
    if (m.version <= previous.version) throw new StaleManifestError(`manifest version ${m.version} is not newer than ${previous.version}`)
    const { valid, bad } = countValid(m, previous.admins)
    if (valid < previous.threshold) {
      throw new ManifestSignatureError(`version ${m.version} has ${valid} valid signature(s) of version ${previous.version}'s admins; ${previous.threshold} needed${bad.length > 0 ? ` (bad: ${bad.join(', ')})` : ''}`)
    }
    return
  }
  if (m.version !== 1 && options.trustVersion !== true) throw new StaleManifestError(`version ${m.version} can only be accepted on top of version ${m.version - 1}`)
  const { valid, bad } = countValid(m, m.admins)
  if (valid < m.threshold) {
    throw new ManifestSignatureError(`version ${m.version} has ${valid} valid admin signature(s); ${m.threshold} needed${bad.length > 0 ? ` (bad: ${bad.join(', ')})` : ''}`)
  }
}

/** Accepts `candidate` on top of `current` (or as genesis when current is null); returns it or throws. */
export function acceptManifest (current: NetworkManifest | null, candidate: NetworkManifest): NetworkManifest {
  verifyManifest(candidate, current)
  return candidate
}

/** True when two manifests are byte-identical in their signed body. */
export function sameManifest (a: NetworkManifest, b: NetworkManifest): boolean {
  return bytesEqual(manifestSigningBytes(a), manifestSigningBytes(b))
}

/** Whether a signing key (hex) may send updates on this network (open networks: everyone). */
export function isMember (m: NetworkManifest, signKey: string): boolean {
  return m.open != null || m.members.some((x) => x.signKey === signKey.toLowerCase())
}
