import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, stat, chmod, writeFile, readFile, rm, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createIdentityFile, loadIdentity, loadOrCreateIdentity, identityPath, libp2pPrivateKey, peerIdString, writeFileAtomic
} from '../../node/keystore.js'
import { toHex } from '../../crypto/index.js'

/** Runs `fn` in a fresh temporary directory and removes it afterwards, pass or fail. */
async function inTempDir (fn: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'murmur-keystore-'))
  try {
    await fn(root)
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

test('identity files are created owner-only and load back to the same keys', async () => await inTempDir(async (root) => {
  const dir = join(root, 'data')
  const id = await createIdentityFile(dir)
  assert.equal((await stat(dir)).mode & 0o777, 0o700)
  assert.equal((await stat(identityPath(dir))).mode & 0o777, 0o600)
  const loaded = await loadIdentity(dir)
  assert.deepEqual(loaded.signPublicKey, id.signPublicKey)
  assert.deepEqual(loaded.boxSecretKey, id.boxSecretKey)
  await assert.rejects(createIdentityFile(dir), (e: Error) => e.name === 'IdentityExistsError')
  assert.deepEqual((await loadIdentity(dir)).seed, id.seed) // the refused overwrite changed nothing
  assert.deepEqual((await readdir(dir)).sort(), ['identity.json']) // no temp files left behind
  const again = await loadOrCreateIdentity(dir)
  assert.equal(again.created, false)
}))

test('a key file readable by others is refused with a message saying how to fix it', async () => await inTempDir(async (root) => {
  await createIdentityFile(root)
  const path = identityPath(root)
  for (const mode of [0o644, 0o640, 0o604]) {
    await chmod(path, mode)
    await assert.rejects(loadIdentity(root), (e: Error) => e.name === 'KeyFilePermissionsError' && e.message.includes(`chmod 600 ${path}`))
  }
  await chmod(path, 0o600)
  await loadIdentity(root)
  await chmod(path, 0o400)
  await loadIdentity(root)
}))

test('missing, corrupted and mismatched key files get named errors', async () => await inTempDir(async (root) => {
  await assert.rejects(loadIdentity(root), (e: Error) => e.name === 'IdentityNotFoundError' && e.message.includes('murmur init'))
  const path = identityPath(root)
  await writeFile(path, '{oops', { mode: 0o600 })
  await assert.rejects(loadIdentity(root), (e: Error) => e.name === 'KeyFileFormatError')
  const real = await createIdentityFile(join(root, 'other'))
  const text = JSON.parse(await readFile(identityPath(join(root, 'other')), 'utf8'))
  text.signPublicKey = '00'.repeat(32)
  await writeFile(path, JSON.stringify(text), { mode: 0o600 })
  await assert.rejects(loadIdentity(root), (e: Error) => e.name === 'KeyFileFormatError' && e.message.includes('signPublicKey'))
  assert.ok(real.seed.length === 32, 'expected real.seed.length === 32')
}))

test('the same ed25519 key is the libp2p PeerId key', async () => await inTempDir(async (root) => {
  const id = await createIdentityFile(root, { seed: new Uint8Array(32).fill(9) })
  const pk = await libp2pPrivateKey(id)
  assert.equal(toHex(pk.publicKey.raw), toHex(id.signPublicKey))
  const { peerIdFromString } = await import('@libp2p/peer-id')
  const peerId = peerIdFromString(await peerIdString(id))
  assert.equal(toHex(peerId.publicKey!.raw), toHex(id.signPublicKey))
}))

test('writeFileAtomic replaces a file whole or not at all', async () => await inTempDir(async (root) => {
  const path = join(root, 'network.json')
  await writeFileAtomic(path, 'one', { overwrite: true })
  await writeFileAtomic(path, 'two', { overwrite: true })
  assert.equal(await readFile(path, 'utf8'), 'two')
  await assert.rejects(writeFileAtomic(path, 'three'), (e: NodeJS.ErrnoException) => e.code === 'EEXIST')
  assert.equal(await readFile(path, 'utf8'), 'two')
  await assert.rejects(writeFileAtomic(join(root, 'missing', 'x.json'), 'x'))
  assert.deepEqual((await readdir(root)).sort(), ['network.json'])
}))

test('an encrypted identity: no seed on disk, loads with the passphrase (option or env), named errors without or with a wrong one', async () => await inTempDir(async (root) => {
  const dir = join(root, 'enc')
  const seed = new Uint8Array(32).fill(5)
  const id = await createIdentityFile(dir, { seed, passphrase: 'correct horse battery', kdf: { N: 1024 } })
  const text = await readFile(identityPath(dir), 'utf8')
  assert.ok(!text.includes(toHex(seed)), 'the seed is not stored in the clear')
  const file = JSON.parse(text) as { seed?: string, encrypted?: { kdf: string, N: number } }
  assert.equal(file.seed, undefined, 'no seed field')
  assert.equal(file.encrypted?.kdf, 'scrypt', 'scrypt parameters recorded')
  assert.equal(file.encrypted?.N, 1024, 'the cost chosen is recorded')
  assert.equal((await stat(identityPath(dir))).mode & 0o777, 0o600, 'still owner-only')
  const saved = process.env.MURMUR_KEY_PASSPHRASE
  delete process.env.MURMUR_KEY_PASSPHRASE
  try {
    assert.deepEqual((await loadIdentity(dir, { passphrase: 'correct horse battery' })).seed, id.seed, 'the passphrase opens it')
    await assert.rejects(loadIdentity(dir), (e: Error) => e.name === 'IdentityPassphraseRequiredError' && e.message.includes('MURMUR_KEY_PASSPHRASE') && e.message.includes(identityPath(dir)), 'no passphrase: named error naming the file and the variable')
    await assert.rejects(loadIdentity(dir, { passphrase: 'wrong horse battery' }), (e: Error) => e.name === 'IdentityPassphraseError', 'wrong passphrase: named error')
    process.env.MURMUR_KEY_PASSPHRASE = 'correct horse battery'
    assert.deepEqual((await loadIdentity(dir)).signPublicKey, id.signPublicKey, 'the environment variable opens it')
    const tampered = JSON.parse(text) as { encrypted: { box: string } }
    tampered.encrypted.box = (tampered.encrypted.box[0] === '0' ? '1' : '0') + tampered.encrypted.box.slice(1)
    await writeFile(identityPath(dir), JSON.stringify(tampered), { mode: 0o600 })
    await assert.rejects(loadIdentity(dir), (e: Error) => e.name === 'IdentityPassphraseError', 'an altered box does not open')
    tampered.encrypted.box = 'zz'
    await writeFile(identityPath(dir), JSON.stringify(tampered), { mode: 0o600 })
    await assert.rejects(loadIdentity(dir), (e: Error) => e.name === 'KeyFileFormatError' && e.message.includes('field encrypted'), 'a malformed record names the field')
  } finally {
    if (saved == null) delete process.env.MURMUR_KEY_PASSPHRASE
    else process.env.MURMUR_KEY_PASSPHRASE = saved
  }
  await assert.rejects(createIdentityFile(join(root, 'short'), { passphrase: 'short', kdf: { N: 1024 } }), { name: 'RangeError' }, 'a short passphrase is refused')
}))
