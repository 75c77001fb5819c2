import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, writeFile, rm, chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createIdentityFile, loadIdentity, identityPath } from '../../node/keystore.js'
import { memberString, parseManifest, createKeyring } from '../../protocol/membership/index.js'
import { sealUpdate } from '../../protocol/messages/index.js'
import { createEncoder } from '../../protocol/codecs/index.js'
import { createSigner, toHex } from '../../crypto/index.js'
import { defaultInfluence } from '../../protocol/averaging/params.js'

const bin = new URL('../../bin/murmur.js', import.meta.url).pathname

function murmur (cwd: string, ...args: string[]): { code: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, MURMUR_LOG_LEVEL: 'silent' } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

test('murmur init, network create/add-member/remove-member and update inspect, as a user runs them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'murmur-cli-'))
  try {
    const init = murmur(dir, 'init', '--datadir', 'admin', '--json')
    assert.equal(init.code, 0, init.stderr)
    const printed = JSON.parse(init.stdout)
    assert.match(printed.peerId, /^12D3KooW/)
    const again = murmur(dir, 'init', '--datadir', 'admin')
    assert.equal(again.code, 1)
    assert.match(again.stderr, /IdentityExistsError/)

    const bank = await createIdentityFile(join(dir, 'bank'))
    const created = murmur(dir, 'network', 'create', '--name', 'motor', '--model', '{"kind":"glm"}', '--dataset', '{"columns":["age"]}',
      '--rule', 'push-sum', '--param', 'fanout=2', '--datadir', 'admin', '--out', 'network.json')
    assert.equal(created.code, 0, created.stderr)
    const v1 = parseManifest(await readFile(join(dir, 'network.json'), 'utf8'))
    assert.equal(v1.members[0].signKey, printed.signPublicKey)
    assert.deepEqual(v1.rule.params, { ...defaultInfluence(), fanout: 2 }, 'the default bounds are written out')

    const added = murmur(dir, 'network', 'add-member', 'network.json', '--member', memberString(bank), '--name', 'bank', '--datadir', 'admin')
    assert.equal(added.code, 0, added.stderr)
    const v2 = parseManifest(await readFile(join(dir, 'network.json'), 'utf8'))
    assert.equal(v2.version, 2)
    const badAdd = murmur(dir, 'network', 'add-member', 'network.json', '--key', 'nothex', '--datadir', 'admin')
    assert.equal(badAdd.code, 1)
    assert.equal(await readFile(join(dir, 'network.json'), 'utf8'), JSON.stringify(v2, null, 2) + '\n') // unchanged on error

    // the bank seals an update; the admin inspects it
    const ring = createKeyring(v2, { identity: bank })
    const sealed = sealUpdate({ networkId: v2.id, manifestVersion: 2, keyEpoch: ring.currentEpoch, schemaHash: v2.dataset.schemaHash, round: 1, seq: 1, exampleCount: 10, pushSumWeight: 1, numParams: 3 },
      createEncoder({ name: 'float32' }).encode(new Float32Array([1, 2, 3])), { signer: createSigner(bank), epochKey: ring.epochKey(ring.currentEpoch)! })
    await writeFile(join(dir, 'update.bin'), sealed.bytes)
    const tampered = new Uint8Array(sealed.bytes)
    tampered[2 + ((tampered[0] << 8) | tampered[1]) + 1] ^= 1
    await writeFile(join(dir, 'tampered.hex'), toHex(tampered))
    const ok = murmur(dir, 'update', 'inspect', 'update.bin', '--network', 'network.json', '--datadir', 'admin')
    assert.equal(ok.code, 0, ok.stdout + ok.stderr)
    const okJson = JSON.parse(ok.stdout)
    assert.equal(okJson.valid, true)
    assert.equal(okJson.header.sender, toHex(bank.signPublicKey))
    assert.equal(okJson.id, sealed.id)
    const bad = murmur(dir, 'update', 'inspect', 'tampered.hex', '--network', 'network.json', '--datadir', 'admin')
    assert.equal(bad.code, 3)
    const badJson = JSON.parse(bad.stdout)
    assert.equal(badJson.valid, false)
    assert.equal(badJson.reason, 'BAD_SIGNATURE')
    assert.equal(badJson.header.seq, 1)

    const removed = murmur(dir, 'network', 'remove-member', 'network.json', '--key', toHex(bank.signPublicKey), '--datadir', 'admin')
    assert.equal(removed.code, 0, removed.stderr)
    const v3 = parseManifest(await readFile(join(dir, 'network.json'), 'utf8'))
    assert.equal(v3.version, 3)
    assert.equal(v3.epochs.length, 2)
    assert.throws(() => createKeyring(v3, { identity: bank }), (e: Error) => e.name === 'EpochKeyError')
    const refused = murmur(dir, 'update', 'inspect', 'update.bin', '--network', 'network.json', '--datadir', 'admin')
    assert.equal(refused.code, 3)
    assert.equal(JSON.parse(refused.stdout).reason, 'NOT_A_MEMBER')

    // the admin seals under the new epoch: the removed bank cannot read it (UNKNOWN_EPOCH, exit 3), while an
    // auditor without an identity still checks its provenance (signature only, exit 0)
    const admin = await loadIdentity(join(dir, 'admin'))
    const ring3 = createKeyring(v3, { identity: admin })
    const epoch2 = sealUpdate({ networkId: v3.id, manifestVersion: 3, keyEpoch: ring3.currentEpoch, schemaHash: v3.dataset.schemaHash, round: 2, seq: 1, exampleCount: 10, pushSumWeight: 1, numParams: 3 },
      createEncoder({ name: 'float32' }).encode(new Float32Array([1, 2, 3])), { signer: createSigner(admin), epochKey: ring3.epochKey(ring3.currentEpoch)! })
    await writeFile(join(dir, 'epoch2.bin'), epoch2.bytes)
    const locked = murmur(dir, 'update', 'inspect', 'epoch2.bin', '--network', 'network.json', '--datadir', 'bank')
    assert.equal(locked.code, 3, locked.stdout + locked.stderr)
    assert.equal(JSON.parse(locked.stdout).reason, 'UNKNOWN_EPOCH')
    const audited = murmur(dir, 'update', 'inspect', 'epoch2.bin', '--network', 'network.json', '--datadir', 'no-identity-here')
    assert.equal(audited.code, 0, audited.stdout + audited.stderr)
    assert.match(JSON.parse(audited.stdout).checked, /NOT decrypted/)

    await chmod(identityPath(join(dir, 'admin')), 0o644)
    const perms = murmur(dir, 'network', 'show', 'network.json')
    assert.equal(perms.code, 0)
    const loose = murmur(dir, 'network', 'rotate-key', 'network.json', '--datadir', 'admin')
    assert.equal(loose.code, 1)
    assert.match(loose.stderr, /KeyFilePermissionsError.*chmod 600/)
    assert.ok((await loadIdentity(join(dir, 'bank'))).seed.length === 32, 'expected (await loadIdentity(join(dir, \'bank\'))).seed.length === 32')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('murmur network create --privacy: the block is validated and signed into the manifest, kept by later versions', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'murmur-cli-privacy-'))
  try {
    assert.equal(murmur(dir, 'init', '--datadir', 'admin').code, 0, 'init')
    const base = ['network', 'create', '--name', 'dp', '--model', '{"type":"logistic"}', '--dataset', '{"columns":["age"]}', '--rule', 'epidemic', '--datadir', 'admin']
    const bad = murmur(dir, ...base, '--privacy', '{"epsilon":8,"clip":-1,"noiseMultiplier":1}', '--out', 'bad.json')
    assert.equal(bad.code, 1, 'a bad privacy block is refused')
    assert.match(bad.stderr, /--privacy: .*privacy\.clip/, `the error names the field: ${bad.stderr}`)
    const noNoise = murmur(dir, ...base, '--privacy', '{"epsilon":8}', '--out', 'bad.json')
    assert.match(noNoise.stderr, /privacy\.noiseMultiplier/, 'neither noise nor steps is refused')
    // the exact GLM releases noisy statistics under privacy (learning/glm/private-stats.ts): the block is signed in
    const glm = murmur(dir, ...base.map((a) => a === 'epidemic' ? 'glm-newton' : a), '--privacy', '{"epsilon":4,"noiseMultiplier":1.1}', '--out', 'glm.json')
    assert.equal(glm.code, 0, `privacy with rule glm-newton is accepted: ${glm.stderr}`)
    assert.deepEqual(parseManifest(await readFile(join(dir, 'glm.json'), 'utf8')).privacy, { epsilon: 4, delta: 1e-5, clip: 1, noiseMultiplier: 1.1 }, 'the exact GLM network carries the privacy block')
    const glmParams = parseManifest(await readFile(join(dir, 'glm.json'), 'utf8')).rule.params
    assert.equal(glmParams.clip, 'off', `the exact GLM's manifest keeps its rule's default, clipping off (clipping breaks its sums): ${JSON.stringify(glmParams)}`)
    const ok = murmur(dir, ...base, '--privacy', '{"epsilon":4,"noiseMultiplier":1.1}', '--out', 'network.json')
    assert.equal(ok.code, 0, ok.stderr)
    const m = parseManifest(await readFile(join(dir, 'network.json'), 'utf8'))
    assert.equal((m.rule.params.clip as { multiplier?: number } | undefined)?.multiplier, 1, `epidemic's manifest spells out the default clipping: ${JSON.stringify(m.rule.params)}`)
    assert.deepEqual(m.privacy, { epsilon: 4, delta: 1e-5, clip: 1, noiseMultiplier: 1.1 }, 'defaults written out, as every member will read them')
    const bank = await createIdentityFile(join(dir, 'bank'))
    assert.equal(murmur(dir, 'network', 'add-member', 'network.json', '--member', memberString(bank), '--datadir', 'admin').code, 0, 'add-member')
    const v2 = parseManifest(await readFile(join(dir, 'network.json'), 'utf8'))
    assert.deepEqual(v2.privacy, m.privacy, 'a later version keeps the privacy block')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
