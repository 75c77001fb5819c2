/**
 * PeerKey (lowercase hex of the 32-byte ed25519 public key) to and from libp2p PeerIds. The same key signs
 * updates and identifies the libp2p node, so transport identity and provenance are one thing.
 */
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import type { PeerKey } from '../../protocol/interfaces.js'

export class InvalidPeerKeyError extends Error {
  static override name = 'InvalidPeerKeyError'
  override name = 'InvalidPeerKeyError'
}

export function peerIdFromPeerKey (key: PeerKey): PeerId {
  if (!/^[0-9a-f]{64}$/.test(key)) throw new InvalidPeerKeyError(`peer key must be 64 lowercase hex characters, got "${key.slice(0, 80)}"`)
  return peerIdFromPublicKey(publicKeyFromRaw(Buffer.from(key, 'hex')))
}

/** Returns the PeerKey of an Ed25519 PeerId, or null for any other key type. */
export function peerKeyFromPeerId (peerId: PeerId): PeerKey | null {
  if (peerId.type !== 'Ed25519' || peerId.publicKey == null) return null
  return Buffer.from(peerId.publicKey.raw).toString('hex')
}

export function peerKeyFromPeerIdString (id: string): PeerKey | null {
  try { return peerKeyFromPeerId(peerIdFromString(id)) } catch { return null }
}
