// The store's privacy repository (bucket 0x0c): the accountant committed survives a reopen, a record of another
// network is not used, and a damaged record is refused by name, never read as "nothing spent".
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { Bucket, LevelStore, key, utf8 } from '../../node/store/index.js'
import { savedPrivacy } from '../../node/privacy.js'
import { RdpAccountant } from '../../learning/privacy/index.js'

test('privacy accountant: committed, reopened, tied to its network, damaged records refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-store-privacy-'))
  const silent = pino({ level: 'silent' })
  try {
    const acc = new RdpAccountant()
    acc.step(0.1, 1.1, 40)
    let store = await LevelStore.open(join(dir, 'db'))
    assert.equal(await store.privacyRecord(), undefined, 'a new store holds no accountant')
    await store.commit({ privacy: { version: 1, networkId: 'a'.repeat(64), accountant: acc.toJSON(), at: 1 } })
    await store.close()
    store = await LevelStore.open(join(dir, 'db'))
    const back = await savedPrivacy(store, 'a'.repeat(64), silent)
    assert.ok(back != null, 'the accountant is read back after a reopen')
    assert.equal(RdpAccountant.fromJSON(back).spent(1e-5).epsilon, acc.spent(1e-5).epsilon, 'with the same epsilon spent')
    assert.equal(await savedPrivacy(store, 'b'.repeat(64), silent), undefined, 'not used for another network')
    await store.db.put(key(Bucket.PRIVACY, utf8('accountant')), utf8(JSON.stringify({ version: 1, networkId: 'a'.repeat(64), at: 1, accountant: { version: 1, orders: [2], entries: [{ q: 7, noiseMultiplier: 1, steps: 1 }] } })))
    await assert.rejects(store.privacyRecord(), (e: Error) => e.name === 'AccountantStateError' && /entries\.0/.test(e.message), 'a damaged accountant names its field')
    await store.db.put(key(Bucket.PRIVACY, utf8('accountant')), utf8('{not json'))
    await assert.rejects(store.privacyRecord(), (e: Error) => e.name === 'CorruptRecordError', 'a record that is not JSON is corrupt')
    await store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
