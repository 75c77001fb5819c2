/**
 * The fast provider's second choice, where sodium-native does not load: node:crypto's ed25519 (KeyObjects
 * cached per key, in this provider's own bounded caches) and tweetnacl for the Salsa/Curve primitives.
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto'
import { edwardsToMontgomery } from './curve.js'
import { reference } from './reference.js'
import type { NaclPrimitives } from './sodium.js'

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex')
const MAX_CACHED_KEYS = 4096

export function nodePrimitives (): NaclPrimitives {
  const publicKeyCache = new Map<string, KeyObject | null>()
  const privateKeyCache = new WeakMap<Uint8Array, KeyObject>()

  function nodePublicKey (publicKey: Uint8Array): KeyObject | null {
    const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('hex')
    let key = publicKeyCache.get(id)
    if (key === undefined) {
      try {
        key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, publicKey]), format: 'der', type: 'spki' })
      } catch {
        key = null
      }
      if (publicKeyCache.size >= MAX_CACHED_KEYS) publicKeyCache.clear()
      publicKeyCache.set(id, key)
    }
    return key
  }

  function nodePrivateKey (secretKey: Uint8Array): KeyObject {
    let key = privateKeyCache.get(secretKey)
    if (key == null) {
      key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, secretKey.subarray(0, 32)]), format: 'der', type: 'pkcs8' })
      privateKeyCache.set(secretKey, key)
    }
    return key
  }

  return {
    signKeyPairFromSeed (seed) {
      const priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' })
      const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' })
      const publicKey = new Uint8Array(spki.subarray(spki.length - 32))
      const secretKey = new Uint8Array(64)
      secretKey.set(seed, 0)
      secretKey.set(publicKey, 32)
      return { publicKey, secretKey }
    },
    sign: (message, secretKey) => new Uint8Array(nodeSign(null, message, nodePrivateKey(secretKey))),
    verify (message, signature, publicKey) {
      if (signature.length !== 64 || publicKey.length !== 32) return false
      const key = nodePublicKey(publicKey)
      if (key == null) return false
      try {
        return nodeVerify(null, message, key, signature)
      } catch {
        return false
      }
    },
    secretbox: reference.secretbox,
    secretboxInto: reference.secretboxInto,
    secretboxPrefixedInto: reference.secretboxPrefixedInto,
    secretboxOpen: reference.secretboxOpen,
    secretboxOpenInto: reference.secretboxOpenInto,
    boxPublicKey: reference.boxPublicKey,
    boxPublicKeyFromSignPublicKey (publicKey) {
      if (publicKey.length !== 32 || nodePublicKey(publicKey) == null) return null
      return edwardsToMontgomery(publicKey)
    },
    box: reference.box,
    boxOpen: reference.boxOpen
  }
}
