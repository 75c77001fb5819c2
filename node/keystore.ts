/**
 * The peer's identity on disk: `<datadir>/identity.json`, mode 0600, in a directory created 0700.
 * The one secret is the 32-byte ed25519 seed; it is both the update signing key and the libp2p PeerId key,
 * so transport identity and provenance are the same thing. A key file readable by group or others is
 * refused with KeyFilePermissionsError saying how to fix it. With a passphrase the seed is stored encrypted
 * (scrypt + secretbox, key-at-rest.ts); loading it then needs the passphrase (option or MURMUR_KEY_PASSPHRASE).
 *
 * @example
 * ```ts
 * const identity = await loadIdentity(dataDir)            // throws IdentityNotFoundError / KeyFilePermissionsError
 * const privateKey = await libp2pPrivateKey(identity)     // Ed25519PrivateKey for createLibp2p({ privateKey })
 * ```
 */
import { mkdir, open, readFile, stat, link, unlink, rename, chmod } from 'node:fs/promises'
import { join, dirname, basename } from 'node:path'
import { generateIdentity, toHex, fromHexOrNull, bytesEqual, type Identity } from '../crypto/index.js'
import { openSeed, sealSeed, type SealOptions, type SealedSeed } from './key-at-rest.js'

export { IdentityPassphraseError, IdentityPassphraseRequiredError, KEY_PASSPHRASE_ENV } from './key-at-rest.js'

export type { Identity }

export const IDENTITY_FILE = 'identity.json'
export const IDENTITY_FORMAT = 'murmur-identity/1'

export class KeyFilePermissionsError extends Error {
  static override name = 'KeyFilePermissionsError'
  override name = 'KeyFilePermissionsError'
}
export class IdentityExistsError extends Error {
  static override name = 'IdentityExistsError'
  override name = 'IdentityExistsError'
}
export class IdentityNotFoundError extends Error {
  static override name = 'IdentityNotFoundError'
  override name = 'IdentityNotFoundError'
}
export class KeyFileFormatError extends Error {
  static override name = 'KeyFileFormatError'
  override name = 'KeyFileFormatError'
}

/** What identity.json holds. Public keys are stored to detect a corrupted or mismatched seed. */
export interface IdentityFile {
  format: typeof IDENTITY_FORMAT
  /** 64 hex: the ed25519 seed. SECRET. Absent when `encrypted` holds it. */
  seed?: string
  /** The seed sealed under a passphrase (optional encryption at rest). */
  encrypted?: SealedSeed
  signPublicKey: string
  boxPublicKey: string
  createdAt: string
}

export function identityPath (dataDir: string): string {
  return join(dataDir, IDENTITY_FILE)
}

/** Writes `text` to `path` atomically with `mode` (temp file, fsync, then link (no clobber) or rename). */
export async function writeFileAtomic (path: string, text: string, options: { mode?: number, overwrite?: boolean } = {}): Promise<void> {
  const mode = options.mode ?? 0o644
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`)
  const fh = await open(tmp, 'wx', mode)
  try {
    await fh.writeFile(text)
    await fh.sync()
  } finally {
    await fh.close()
  }
  try {
    await chmod(tmp, mode)
    if (options.overwrite === true) {
      await rename(tmp, path)
      return
    }
    await link(tmp, path)
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw err
  }
  await unlink(tmp)
}

/** Creates a new identity in `dataDir` (directory 0700, file 0600). Refuses to overwrite one. */
export async function createIdentityFile (dataDir: string, options: { seed?: Uint8Array, passphrase?: string, kdf?: SealOptions } = {}): Promise<Identity> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const path = identityPath(dataDir)
  const identity = generateIdentity(options.seed)
  const file: IdentityFile = {
    format: IDENTITY_FORMAT,
    ...(options.passphrase != null ? { encrypted: sealSeed(identity.seed, options.passphrase, options.kdf) } : { seed: toHex(identity.seed) }),
    signPublicKey: toHex(identity.signPublicKey),
    boxPublicKey: toHex(identity.boxPublicKey),
    createdAt: new Date().toISOString()
  }
  try {
    await writeFileAtomic(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new IdentityExistsError(`${path} already exists: refusing to overwrite an identity (move it away first if you really mean to replace it)`)
    }
    throw err
  }
  return identity
}

/**
 * Loads the identity in `dataDir`. Throws IdentityNotFoundError, KeyFilePermissionsError or KeyFileFormatError;
 * for an encrypted one IdentityPassphraseRequiredError (no passphrase: option or MURMUR_KEY_PASSPHRASE) or
 * IdentityPassphraseError (wrong passphrase).
 */
export async function loadIdentity (dataDir: string, options: { passphrase?: string } = {}): Promise<Identity> {
  const path = identityPath(dataDir)
  let info
  try {
    info = await stat(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new IdentityNotFoundError(`no identity at ${path}: run \`murmur init --datadir ${dataDir}\` first`)
    }
    throw err
  }
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    throw new KeyFilePermissionsError(`${path} is accessible by group or others (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}); ` +
      `it holds this peer's secret key. Fix it with: chmod 600 ${path}`)
  }
  let parsed: Partial<IdentityFile>
  try {
    parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<IdentityFile>
  } catch (err) {
    throw new KeyFileFormatError(`${path}: not valid JSON (${(err as Error).message})`)
  }
  if (parsed == null || typeof parsed !== 'object' || parsed.format !== IDENTITY_FORMAT) throw new KeyFileFormatError(`${path}: field format must be "${IDENTITY_FORMAT}"`)
  let seed: Uint8Array | null
  if (parsed.encrypted != null) {
    try {
      seed = openSeed(parsed.encrypted, path, options.passphrase)
    } catch (err) {
      if ((err as Error).name === 'TypeError') throw new KeyFileFormatError((err as Error).message)
      throw err
    }
  } else {
    seed = fromHexOrNull(String(parsed.seed), 32)
  }
  if (seed == null) throw new KeyFileFormatError(`${path}: field seed must be 64 hex characters`)
  const identity = generateIdentity(seed)
  if (parsed.signPublicKey != null && !bytesEqual(fromHexOrNull(String(parsed.signPublicKey), 32) ?? new Uint8Array(0), identity.signPublicKey)) {
    throw new KeyFileFormatError(`${path}: field signPublicKey does not match the seed (file corrupted?)`)
  }
  if (parsed.boxPublicKey != null && !bytesEqual(fromHexOrNull(String(parsed.boxPublicKey), 32) ?? new Uint8Array(0), identity.boxPublicKey)) {
    throw new KeyFileFormatError(`${path}: field boxPublicKey does not match the seed (file corrupted?)`)
  }
  return identity
}

/** Loads the identity, creating one first when there is none. */
export async function loadOrCreateIdentity (dataDir: string): Promise<{ identity: Identity, created: boolean }> {
  try {
    return { identity: await loadIdentity(dataDir), created: false }
  } catch (err) {
    if ((err as Error).name !== 'IdentityNotFoundError') throw err
  }
  try {
    return { identity: await createIdentityFile(dataDir), created: true }
  } catch (err) {
    if ((err as Error).name === 'IdentityExistsError') return { identity: await loadIdentity(dataDir), created: false }
    throw err
  }
}

/** The 32-byte seed for `generateKeyPairFromSeed('Ed25519', seed)` (@libp2p/crypto). */
export function libp2pSeed (identity: Identity): Uint8Array {
  return new Uint8Array(identity.seed)
}

/** The libp2p private key of this identity (same ed25519 key as the update signer). */
export async function libp2pPrivateKey (identity: Identity): Promise<import('@libp2p/interface').Ed25519PrivateKey> {
  const { generateKeyPairFromSeed } = await import('@libp2p/crypto/keys')
  return await generateKeyPairFromSeed('Ed25519', libp2pSeed(identity))
}

/** The PeerId string (12D3KooW...) of this identity. */
export async function peerIdString (identity: Identity): Promise<string> {
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
  return peerIdFromPrivateKey(await libp2pPrivateKey(identity)).toString()
}
