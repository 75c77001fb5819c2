/**
 * Manifest changes: each returns version+1 of a manifest, signed by the admin making it (k-of-n admins: the
 * others add their signatures with `signManifest`). Membership changes keep or rotate the key epochs.
 */
import {
  type Identity, sign, toHex, fromHex, fromHexOrNull, randomBytes as cryptoRandomBytes, sealKeyToMember
} from '../../crypto/index.js'
import { MembershipChangeError } from './errors.js'
import { epochSigningBytes, makeEpoch, signManifest, type Member, type NetworkManifest } from './manifest.js'
import { openEpochKey } from './keyring.js'

function nextVersion (m: NetworkManifest): NetworkManifest {
  const copy = structuredClone(m)
  copy.version = m.version + 1
  copy.signatures = []
  return copy
}

function requireAdmin (m: NetworkManifest, admin: Identity): void {
  if (!m.admins.includes(toHex(admin.signPublicKey))) throw new MembershipChangeError('this identity is not an admin of the network')
}

/** Version+1 with a member added; the current epoch's key is sealed to them. Signed by `admin`. */
export function addMember (m: NetworkManifest, member: Member, admin: Identity, randomBytes = cryptoRandomBytes): NetworkManifest {
  requireAdmin(m, admin)
  if (m.open != null) throw new MembershipChangeError('an open network has no member list')
  if (m.members.some((x) => x.signKey === member.signKey)) throw new MembershipChangeError(`${member.signKey} is already a member`)
  const next = nextVersion(m)
  next.members.push(member)
  const current = next.epochs[next.epochs.length - 1]
  const key = openEpochKey(m, current.epoch, admin)
  current.keys.push({ member: member.signKey, sealed: toHex(sealKeyToMember(key, fromHex(member.boxKey, 32), randomBytes)) })
  current.createdBy = toHex(admin.signPublicKey)
  current.signature = toHex(sign(epochSigningBytes(current), admin.signSecretKey))
  return signManifest(next, admin)
}

/** Version+1 with a member removed and a NEW key epoch sealed only to the remaining members. */
export function removeMember (m: NetworkManifest, signKey: string, admin: Identity, randomBytes = cryptoRandomBytes): NetworkManifest {
  requireAdmin(m, admin)
  const key = signKey.toLowerCase()
  if (!m.members.some((x) => x.signKey === key)) throw new MembershipChangeError(`${key} is not a member`)
  if (m.admins.includes(key)) {
    if (m.admins.length === 1) throw new MembershipChangeError('cannot remove the last admin')
    if (m.admins.length - 1 < m.threshold) throw new MembershipChangeError(`removing admin ${key} would leave fewer admins than the threshold ${m.threshold}`)
  }
  const next = nextVersion(m)
  next.members = next.members.filter((x) => x.signKey !== key)
  next.admins = next.admins.filter((a) => a !== key)
  return rotate(next, admin, randomBytes)
}

function rotate (next: NetworkManifest, admin: Identity, randomBytes: (n: number) => Uint8Array): NetworkManifest {
  const epoch = next.epochs[next.epochs.length - 1].epoch + 1
  next.epochs.push(makeEpoch(epoch, next.version, randomBytes(32), next.members, admin, randomBytes))
  return signManifest(next, admin)
}

/** Version+1 with a fresh key epoch for the current members (e.g. a key suspected leaked). */
export function rotateEpoch (m: NetworkManifest, admin: Identity, randomBytes = cryptoRandomBytes): NetworkManifest {
  requireAdmin(m, admin)
  if (m.open != null) throw new MembershipChangeError('an open network has no key epochs')
  return rotate(nextVersion(m), admin, randomBytes)
}

/** Version+1 making an existing member an admin. */
export function addAdmin (m: NetworkManifest, signKey: string, admin: Identity): NetworkManifest {
  requireAdmin(m, admin)
  const key = signKey.toLowerCase()
  if (m.admins.includes(key)) throw new MembershipChangeError(`${key} is already an admin`)
  if (m.open == null && !m.members.some((x) => x.signKey === key)) throw new MembershipChangeError(`${key} must be a member before becoming an admin`)
  if (fromHexOrNull(key, 32) == null) throw new MembershipChangeError('admin key must be 64 hex characters')
  const next = nextVersion(m)
  next.admins.push(key)
  return signManifest(next, admin)
}

/** Version+1 with a new threshold (k of n admins). */
export function setThreshold (m: NetworkManifest, threshold: number, admin: Identity): NetworkManifest {
  requireAdmin(m, admin)
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > m.admins.length) {
    throw new MembershipChangeError(`threshold must be 1..${m.admins.length} (the number of admins)`)
  }
  const next = nextVersion(m)
  next.threshold = threshold
  return signManifest(next, admin)
}

/** Version+1 with rule parameters merged in (null deletes a parameter). */
export function setRuleParams (m: NetworkManifest, params: Record<string, unknown>, admin: Identity, ruleName?: string): NetworkManifest {
  requireAdmin(m, admin)
  const next = nextVersion(m)
  if (ruleName != null) next.rule.name = ruleName
  for (const [k, v] of Object.entries(params)) {
    if (v === null) delete next.rule.params[k]
    else next.rule.params[k] = v
  }
  return signManifest(next, admin)
}
