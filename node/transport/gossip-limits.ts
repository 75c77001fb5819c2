/**
 * Counting gossipsub frames over its inbound size bound (`maxInboundDataLength`). gossipsub's length-prefixed
 * decoder throws on such a frame, ends that peer's read stream and only logs it; its documented seam for
 * observing this is `handlePeerReadStreamError`, which this wraps once per instance.
 */
import type { PeerId } from '@libp2p/interface'

type Hooked = ((err: Error, peerId: PeerId) => void) & { murmurCounted?: boolean }

/** Calls `onOversized(peer)` for every inbound gossipsub frame over the bound (idempotent per instance). */
export function countOversizedGossip (pubsub: object, onOversized: (peerId: PeerId) => void): boolean {
  const target = pubsub as { handlePeerReadStreamError?: Hooked }
  const original = target.handlePeerReadStreamError
  if (typeof original !== 'function' || original.murmurCounted === true) return false
  const counted: Hooked = (err, peerId) => {
    if (err?.name === 'InvalidDataLengthError') onOversized(peerId)
    original.call(pubsub, err, peerId)
  }
  counted.murmurCounted = true
  target.handlePeerReadStreamError = counted
  return true
}
