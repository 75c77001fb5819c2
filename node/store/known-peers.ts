/**
 * The known-peers repository's records (bucket 0x0b): a peer id and the multiaddrs it was reached at or
 * announced, so that a restarted daemon (even one started without --bootstrap) can redial the network.
 * Addresses come from other peers (identify, peer exchange): every field is bounded on the way in and checked on
 * the way out, and a record that fails the check is reported and skipped, never trusted.
 */
import { CorruptRecordError } from './buckets.js'

export interface KnownPeer {
  /** libp2p peer id (base58btc string). */
  peerId: string
  /** Dialable multiaddrs without the /p2p/ suffix, most useful first. */
  addrs: string[]
  /** When this peer was last seen connected (ms since the epoch). */
  lastSeen: number
}

/** Longest peer id string kept (an Ed25519 peer id is 52 characters). */
export const KNOWN_PEER_ID_MAX_CHARS = 128
/** Addresses kept per peer. */
export const KNOWN_PEER_MAX_ADDRS = 8
/** Longest multiaddr string kept. */
export const KNOWN_PEER_ADDR_MAX_CHARS = 256

/** Bounds a record before it is written: too long an id is refused, extra or overlong addresses are dropped. */
export function boundKnownPeer (p: KnownPeer): KnownPeer {
  if (typeof p.peerId !== 'string' || p.peerId.length === 0 || p.peerId.length > KNOWN_PEER_ID_MAX_CHARS) {
    throw new RangeError(`known peer id must have 1 to ${KNOWN_PEER_ID_MAX_CHARS} characters, got ${String(p.peerId?.length)}`)
  }
  const addrs = [...new Set(p.addrs.filter((a) => typeof a === 'string' && a.startsWith('/') && a.length <= KNOWN_PEER_ADDR_MAX_CHARS))]
  return { peerId: p.peerId, addrs: addrs.slice(0, KNOWN_PEER_MAX_ADDRS), lastSeen: Math.max(0, Math.floor(p.lastSeen)) }
}

export function encodeKnownPeer (p: KnownPeer): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(boundKnownPeer(p)))
}

/** Decodes and checks one stored record; `keyId` is the peer id its key names (it must match the record's). */
export function decodeKnownPeer (keyId: string, value: Uint8Array): KnownPeer {
  let v: unknown
  try { v = JSON.parse(new TextDecoder().decode(value)) } catch { throw new CorruptRecordError(`known peer ${keyId.slice(0, 64)}: not JSON`) }
  const r = v as Partial<KnownPeer>
  if (r == null || typeof r !== 'object' || r.peerId !== keyId) throw new CorruptRecordError(`known peer ${keyId.slice(0, 64)}: peerId does not match its key`)
  if (!Array.isArray(r.addrs) || r.addrs.length > KNOWN_PEER_MAX_ADDRS || !r.addrs.every((a) => typeof a === 'string' && a.startsWith('/') && a.length <= KNOWN_PEER_ADDR_MAX_CHARS)) {
    throw new CorruptRecordError(`known peer ${keyId.slice(0, 64)}: field addrs is not a list of at most ${KNOWN_PEER_MAX_ADDRS} multiaddrs`)
  }
  if (typeof r.lastSeen !== 'number' || !Number.isFinite(r.lastSeen)) throw new CorruptRecordError(`known peer ${keyId.slice(0, 64)}: field lastSeen is not a number`)
  return { peerId: r.peerId, addrs: [...r.addrs], lastSeen: r.lastSeen }
}
