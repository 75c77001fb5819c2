/**
 * Live manifest changes: checking a candidate manifest version that arrives from the network or an operator
 * against the version a peer holds, cheapest check first, with a named refusal reason (the update refusals'
 * `RefusalReason` enum), and the small announcement that carries it on gossipsub.
 *
 * @example
 * ```ts
 * const r = checkManifestUpdate(current, bytes, { maxBytes: MANIFEST_MAX_BYTES })
 * if (r.ok) adopt(r.manifest)                        // same network, strictly higher version, k-of-n signed
 * else metrics.increment('murmur_manifest_refused_total', { reason: r.reason })
 * ```
 */
import { RefusalReason } from '../interfaces.js'
import { canonicalJson } from './canonical-json.js'
import { parseManifest, sameManifest, verifyManifest, manifestHash, type NetworkManifest } from './manifest.js'

/** Largest manifest accepted from an operator (API) or a file. */
export const MANIFEST_MAX_BYTES = 4 * 1024 * 1024
/** Largest manifest announcement on gossipsub (the announce topic's bound is 64 KiB). */
export const MANIFEST_ANNOUNCE_MAX_BYTES = 60 * 1024
export const MANIFEST_ANNOUNCEMENT_TYPE = 'murmur-manifest/1'
/** A manifest too large to announce is announced by this notice; receivers fetch it from the sender. */
export const MANIFEST_NOTICE_TYPE = 'murmur-manifest-notice/1'

export type ManifestRefusal =
  | typeof RefusalReason.OVERSIZED
  | typeof RefusalReason.MALFORMED
  | typeof RefusalReason.WRONG_NETWORK
  | typeof RefusalReason.STALE_MANIFEST
  | typeof RefusalReason.BAD_SIGNATURE

export type ManifestCheck =
  | { ok: true, manifest: NetworkManifest }
  | {
    ok: false
    reason: ManifestRefusal
    detail: string
    version?: number
    /**
     * Set for a candidate with the version number this peer holds: true when it is the very same manifest (an
     * echo or a re-announcement: nothing to count), false when admins signed two different manifests under one
     * version number (worth an operator's attention).
     */
    same?: boolean
  }

export interface CheckManifestOptions {
  /** Largest input accepted (default MANIFEST_MAX_BYTES). */
  maxBytes?: number
}

const dec = new TextDecoder('utf-8', { fatal: true })

function refuse (reason: ManifestRefusal, detail: string, version?: number): ManifestCheck {
  return version != null ? { ok: false, reason, detail, version } : { ok: false, reason, detail }
}

/** JSON text of bytes or a string, bounded before decoding. */
function boundedJson (input: Uint8Array | string | unknown, maxBytes: number): { ok: true, value: unknown } | { ok: false, check: ManifestCheck } {
  if (input instanceof Uint8Array || typeof input === 'string') {
    const size = typeof input === 'string' ? input.length : input.length
    if (size > maxBytes) return { ok: false, check: refuse('OVERSIZED', `manifest of ${size} bytes exceeds ${maxBytes}`) }
    let text: string
    try { text = typeof input === 'string' ? input : dec.decode(input) } catch {
      return { ok: false, check: refuse('MALFORMED', 'manifest is not UTF-8') }
    }
    try { return { ok: true, value: JSON.parse(text) } } catch (err) {
      return { ok: false, check: refuse('MALFORMED', `manifest is not JSON: ${(err as Error).message.slice(0, 120)}`) }
    }
  }
  return { ok: true, value: input }
}

/**
 * Checks a candidate manifest (bytes, JSON text or a parsed object) as a change on top of `current`, cheapest
 * first: size (OVERSIZED), JSON (MALFORMED), network id (WRONG_NETWORK), version strictly higher
 * (STALE_MANIFEST; an older version or a replay is ignored, not an error), full schema (MALFORMED), then the
 * manifest's consistency and `current.threshold` valid signatures of `current.admins` (BAD_SIGNATURE). A
 * manifest correctly signed by the admins of a version this peer has not seen (it skipped an admin change) is
 * STALE_MANIFEST too: the sender is honest, this peer is behind. The next version (current + 1) has no unseen
 * version before it, so one signed by its own admins but not by the current ones is a self-made admin set:
 * BAD_SIGNATURE. Never throws.
 */
export function checkManifestUpdate (current: NetworkManifest, input: Uint8Array | string | unknown, options: CheckManifestOptions = {}): ManifestCheck {
  const maxBytes = options.maxBytes ?? MANIFEST_MAX_BYTES
  const parsed = boundedJson(input, maxBytes)
  if (!parsed.ok) return parsed.check
  const value = parsed.value
  if (value == null || typeof value !== 'object' || Array.isArray(value)) return refuse('MALFORMED', 'manifest is not a JSON object')
  const peek = value as { id?: unknown, version?: unknown }
  if (typeof peek.id !== 'string' || typeof peek.version !== 'number' || !Number.isInteger(peek.version)) {
    return refuse('MALFORMED', 'manifest has no id or integer version')
  }
  if (peek.id !== current.id) return refuse('WRONG_NETWORK', `manifest is for network ${peek.id.slice(0, 16)}, not ${current.id.slice(0, 16)}`)
  const version = peek.version
  if (version === current.version) {
    let same = false
    try { same = sameManifest(parseManifest(value), current) } catch {}
    return same
      ? { ok: false, reason: 'STALE_MANIFEST', detail: `version ${version} is already held`, version, same }
      : { ok: false, reason: 'STALE_MANIFEST', detail: `a different manifest under the version number ${version} this peer holds (two versions signed with one number?)`, version, same }
  }
  if (version < current.version) {
    return refuse('STALE_MANIFEST', `version ${version} is not newer than the current version ${current.version}`, version)
  }
  let candidate: NetworkManifest
  try {
    candidate = parseManifest(value)
  } catch (err) {
    return refuse('MALFORMED', (err as Error).message, version)
  }
  try {
    verifyManifest(candidate, current)
  } catch (err) {
    const name = (err as Error).name
    const message = (err as Error).message
    if (name === 'ManifestSignatureError') {
      if (version > current.version + 1 && signedByItsOwnAdmins(candidate)) {
        return refuse('STALE_MANIFEST', `version ${version} is signed by admins of a version between ${current.version} and ${version} that this peer has not seen: ${message}`, version)
      }
      const selfMade = version === current.version + 1 && signedByItsOwnAdmins(candidate)
      return refuse('BAD_SIGNATURE', selfMade ? `version ${version} is signed by its own admins, not by version ${current.version}'s: a self-made admin set (${message})` : message, version)
    }
    if (name === 'StaleManifestError') return refuse('STALE_MANIFEST', message, version)
    return refuse('MALFORMED', message, version)
  }
  return { ok: true, manifest: candidate }
}

function signedByItsOwnAdmins (m: NetworkManifest): boolean {
  try {
    verifyManifest(m, null, { trustVersion: true })
    return true
  } catch {
    return false
  }
}

/** True when `a` and `b` are the same version with different signed content (admins signed two manifests). */
export function conflictingManifests (a: NetworkManifest, b: NetworkManifest): boolean {
  return a.id === b.id && a.version === b.version && !sameManifest(a, b)
}

/** The gossipsub announcement of a manifest version: `{ type, sentAt, manifest }` as compact JSON. */
export function encodeManifestAnnouncement (m: NetworkManifest, sentAt: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ type: MANIFEST_ANNOUNCEMENT_TYPE, sentAt, manifest: JSON.parse(canonicalJson(m)) }))
}

/** The small notice announcing a manifest version too large for gossipsub: `{ type, id, version, hash, sentAt }`. */
export function encodeManifestNotice (m: NetworkManifest, sentAt: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ type: MANIFEST_NOTICE_TYPE, id: m.id, version: m.version, hash: manifestHash(m), sentAt }))
}

/** The announcement for `m`: the manifest itself when it fits `maxBytes`, else a notice. */
export function manifestAnnouncement (m: NetworkManifest, sentAt: number, maxBytes = MANIFEST_ANNOUNCE_MAX_BYTES): { bytes: Uint8Array, notice: boolean } {
  const full = encodeManifestAnnouncement(m, sentAt)
  return full.length <= maxBytes ? { bytes: full, notice: false } : { bytes: encodeManifestNotice(m, sentAt), notice: true }
}

/** What a manifest announcement asks of the receiver. */
export type AnnouncementCheck =
  | ManifestCheck
  /** A notice of a newer version of this network: fetch it from the sender, then `checkManifestUpdate` it. */
  | { ok: false, reason: null, fetch: { version: number, hash: string } }

/**
 * Decodes an announcement (bounded) and checks the manifest it carries with `checkManifestUpdate`; for a
 * notice, checks network and version and answers `fetch`. `sentAt` only makes repeated announcements distinct
 * messages for gossipsub's duplicate filter; it is not trusted. Never throws.
 */
export function checkManifestAnnouncement (current: NetworkManifest, bytes: Uint8Array, options: CheckManifestOptions = {}): AnnouncementCheck {
  const maxBytes = options.maxBytes ?? MANIFEST_ANNOUNCE_MAX_BYTES
  const parsed = boundedJson(bytes, maxBytes)
  if (!parsed.ok) return parsed.check
  const v = parsed.value as { type?: unknown, manifest?: unknown, id?: unknown, version?: unknown, hash?: unknown } | null
  if (v != null && typeof v === 'object' && v.type === MANIFEST_NOTICE_TYPE) {
    if (typeof v.id !== 'string' || typeof v.version !== 'number' || !Number.isInteger(v.version) || v.version < 1 || v.version > 0xffffffff ||
      typeof v.hash !== 'string' || !/^[0-9a-f]{64}$/.test(v.hash)) return refuse('MALFORMED', 'malformed manifest notice')
    if (v.id !== current.id) return refuse('WRONG_NETWORK', `notice for network ${v.id.slice(0, 16)}, not ${current.id.slice(0, 16)}`)
    if (v.version === current.version) {
      const same = v.hash === manifestHash(current)
      return { ok: false, reason: 'STALE_MANIFEST', detail: same ? `version ${v.version} is already held` : `a different manifest under the version number ${v.version} this peer holds`, version: v.version, same }
    }
    if (v.version < current.version) return refuse('STALE_MANIFEST', `version ${v.version} is not newer than the current version ${current.version}`, v.version)
    return { ok: false, reason: null, fetch: { version: v.version, hash: v.hash } }
  }
  if (v == null || typeof v !== 'object' || v.type !== MANIFEST_ANNOUNCEMENT_TYPE || v.manifest == null) {
    return refuse('MALFORMED', `not a ${MANIFEST_ANNOUNCEMENT_TYPE} announcement`)
  }
  return checkManifestUpdate(current, v.manifest, { maxBytes })
}
