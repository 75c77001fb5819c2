/** The manifest a starting daemon uses: its `--network` file reconciled with the versions stored in the datadir. */
import { readFile } from 'node:fs/promises'
import { parseManifest, verifyManifest, sameManifest, type NetworkManifest } from '../../../protocol/membership/index.js'
import { PeerNodeConfigError } from '../../errors.js'
import type { LevelStore } from '../../store/index.js'
import type { Logger } from '../../logger.js'

/**
 * Reads the network file and reconciles it with the manifest stored in the database: a first sight trusts the
 * operator's file (it must be consistent and signed by its admins), a newer file version must follow from the
 * stored one, an older one is ignored (warned), and two different manifests under one version are an error.
 */
export async function loadManifest (path: string, store: Pick<LevelStore, 'latestManifest'> | null, log?: Logger): Promise<{ manifest: NetworkManifest, changed: boolean }> {
  let text: string
  try { text = await readFile(path, 'utf8') } catch (err) {
    throw new PeerNodeConfigError(`cannot read the network file ${path}: ${(err as Error).message}`)
  }
  const fromFile = parseManifest(text, path)
  const storedRaw = store != null ? await store.latestManifest() : undefined
  const stored = storedRaw != null ? parseManifest(new TextDecoder().decode(storedRaw.bytes), `${path} (stored version ${storedRaw.version})`) : null
  if (stored == null) {
    verifyManifest(fromFile, null, { trustVersion: true })
    return { manifest: fromFile, changed: true }
  }
  if (stored.id !== fromFile.id) throw new PeerNodeConfigError(`${path} is network ${fromFile.id.slice(0, 16)}…, but this datadir belongs to network ${stored.id.slice(0, 16)}…`)
  if (fromFile.version > stored.version) {
    verifyManifest(fromFile, stored)
    return { manifest: fromFile, changed: true }
  }
  if (fromFile.version === stored.version && !sameManifest(fromFile, stored)) {
    throw new PeerNodeConfigError(`${path}: version ${fromFile.version} differs from the version ${stored.version} stored in the datadir (two different manifests with one version number)`)
  }
  if (fromFile.version < stored.version) log?.warn({ file: fromFile.version, stored: stored.version }, `${path} is older than the manifest stored in the datadir; using the stored version`)
  return { manifest: stored, changed: false }
}
