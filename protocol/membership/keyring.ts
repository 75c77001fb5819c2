/** Keyrings: the epoch group keys of a verified manifest that this peer can open, and its membership view. */
import { type Identity, toHex, fromHex, openSealedKey, deriveKeyFromPassphrase, sha256 } from '../../crypto/index.js'
import { EpochKeyError } from './errors.js'
import { OPEN_EPOCH_DOMAIN, OPEN_NETWORK_WARNING, type NetworkManifest } from './manifest.js'

const enc = new TextEncoder()

/** Opens the group key of a key epoch with a member's identity. Throws EpochKeyError. */
export function openEpochKey (m: NetworkManifest, epoch: number, identity: Identity): Uint8Array {
  const record = m.epochs.find((e) => e.epoch === epoch)
  if (record == null) throw new EpochKeyError(`network has no key epoch ${epoch}`)
  const mine = toHex(identity.signPublicKey)
  const entry = record.keys.find((k) => k.member === mine)
  if (entry == null) throw new EpochKeyError(`key epoch ${epoch} is not sealed to this identity (${mine})`)
  const key = openSealedKey(fromHex(entry.sealed), identity)
  if (key == null || key.length !== 32) throw new EpochKeyError(`key epoch ${epoch}: the sealed key does not open with this identity's box key`)
  return key
}

/** What the validator and the sealer need: membership, epoch keys, the current epoch. */
export interface Keyring {
  readonly manifest: NetworkManifest
  readonly networkId: string
  readonly open: boolean
  /** Key epoch new updates are sealed under. */
  readonly currentEpoch: number
  /** OPEN_NETWORK_WARNING for open networks, else null. */
  readonly warning: string | null
  minManifestVersion: number
  isMember: (sender: string) => boolean
  epochKey: (epoch: number) => Uint8Array | null
}

export interface KeyringInit {
  /** This peer's identity (closed networks: opens the epoch keys sealed to it). */
  identity?: Identity
  /** Open networks: the passphrase. */
  passphrase?: string
  /** Refuse updates made under manifest versions older than this (default 0). */
  minManifestVersion?: number
  /**
   * Closed networks: do not throw when the current epoch is not sealed to `identity` (a member removed by a
   * newer version): the keyring then opens only the older epochs and `epochKey(currentEpoch)` is null.
   */
  allowMissingCurrent?: boolean
}

/**
 * A keyring over a verified manifest. Closed networks: opens every epoch sealed to `identity` (throws
 * EpochKeyError when the current epoch is not). Open networks: derives the key from the passphrase once.
 */
export function createKeyring (m: NetworkManifest, init: KeyringInit = {}): Keyring {
  const members = new Set(m.members.map((x) => x.signKey))
  const keys = new Map<number, Uint8Array>()
  let currentEpoch: number
  if (m.open != null) {
    if (init.passphrase == null) throw new EpochKeyError('an open network needs its passphrase')
    const master = deriveKeyFromPassphrase(init.passphrase, m.open)
    const id = fromHex(m.id, 32)
    currentEpoch = 1
    keys.set(1, sha256(enc.encode(OPEN_EPOCH_DOMAIN), id, master, new Uint8Array([0, 0, 0, 1])))
  } else {
    if (init.identity == null) throw new EpochKeyError('a closed network needs this peer\'s identity to open its keys')
    const identity = init.identity
    currentEpoch = m.epochs[m.epochs.length - 1].epoch
    for (const e of m.epochs) {
      try {
        keys.set(e.epoch, openEpochKey(m, e.epoch, identity))
      } catch (err) {
        if (e.epoch === currentEpoch && init.allowMissingCurrent !== true) throw err
      }
    }
  }
  return {
    manifest: m,
    networkId: m.id,
    open: m.open != null,
    currentEpoch,
    warning: m.open != null ? OPEN_NETWORK_WARNING : null,
    minManifestVersion: init.minManifestVersion ?? 0,
    isMember: (sender) => m.open != null || members.has(sender),
    epochKey: (epoch) => keys.get(epoch) ?? null
  }
}
