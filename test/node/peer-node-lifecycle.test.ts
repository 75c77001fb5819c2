/**
 * PeerNode's life: init -> starting -> running -> stopping -> closed, and the rollback of a half-started node (an
 * API port already in use leaves no libp2p listener, no open LevelDB, no running service behind: the same datadir
 * and libp2p port start again at once).
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { PeerNode, PeerNodeStatus, type PeerNodeInit } from '../../node/peer-node.js'
import { LevelStore } from '../../node/store/index.js'
import { DB_DIR } from '../../node/constants.js'
import { partitionDataset, createTestNetwork } from '../../node/testnet.js'
import { defaultDataDir } from '../../learning/index.js'

const digitsFile = join(defaultDataDir(), 'sklearn-digits.csv.gz')
const skip = existsSync(digitsFile) ? false : `shared dataset missing: ${digitsFile}`
const silent = pino({ level: 'silent' })

async function listen (): Promise<Server> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', () => { resolve() }) })
  return server
}

async function freePort (): Promise<number> {
  const s = await listen()
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((resolve) => { s.close(() => { resolve() }) })
  return port
}

describe('PeerNode lifecycle', { timeout: 120_000, skip }, () => {
  let dir: string
  let base: PeerNodeInit

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'murmur-lifecycle-'))
    const data = await partitionDataset('digits', 2, join(dir, 'data'), 5)
    const net = await createTestNetwork({ dir, peers: 2, name: 'life', model: { type: 'softmax' }, datasetSpec: data.spec, rule: { rule: 'epidemic', fanout: 1 } })
    base = { datadir: net.datadirs[0], network: net.network, data: data.partitions[0], roundIntervalMs: 200, localSteps: 1, evaluateEveryRounds: 100, watchNetworkMs: 0 }
  })

  after(() => { rmSync(dir, { recursive: true, force: true }) })

  it('an API port in use: start throws, and closes libp2p, the services and the store it had opened', async () => {
    const blocker = await listen()
    const busy = (blocker.address() as AddressInfo).port
    const p2pPort = await freePort()
    const listenAddr = [`/ip4/127.0.0.1/tcp/${p2pPort}`]
    try {
      const node = await PeerNode.init({ ...base, listen: listenAddr, api: `127.0.0.1:${busy}` }, { logger: silent })
      assert.equal(node.status, PeerNodeStatus.init, 'a node that was only built is in init')
      await assert.rejects(node.start(), { name: 'ApiConfigError' }, 'the busy API port fails the start with a named error')
      assert.equal(node.status, PeerNodeStatus.closed, 'a failed start ends closed')
      assert.equal(node.transport.libp2p.status, 'stopped', 'libp2p was stopped again')
      assert.equal(node.services.manifestSync.isRunning, false, 'the manifest-sync service was stopped again')
      assert.equal(node.api, null, 'no API server is left')
      await assert.rejects(node.start(), { name: 'PeerNodeStateError' }, 'a closed node does not start again')
    } finally {
      await new Promise<void>((resolve) => { blocker.close(() => { resolve() }) })
    }
    // the database lock was released ...
    const store = await LevelStore.open(join(base.datadir ?? '', DB_DIR))
    await store.close()
    // ... and the whole node starts on the same datadir and the same libp2p port
    const again = await PeerNode.init({ ...base, listen: listenAddr, api: '127.0.0.1:0' }, { logger: silent })
    try {
      await again.start()
      assert.equal(again.status, PeerNodeStatus.running, 'the restarted node runs')
      assert.ok(again.addresses().some((a) => a.includes(`/tcp/${p2pPort}/`) || a.endsWith(`/tcp/${p2pPort}`)), `listening on ${p2pPort} again: ${again.addresses().join(' ')}`)
      const res = await fetch(`${again.api?.url ?? ''}/health`)
      assert.equal(await res.text(), 'ok', 'its API answers')
    } finally {
      await again.close()
    }
    assert.equal(again.status, PeerNodeStatus.closed, 'close ends closed')
  })

  it('a failure during init (no such data path) closes the store it had opened', async () => {
    await assert.rejects(PeerNode.init({ ...base, data: join(dir, 'missing.csv'), listen: ['/ip4/127.0.0.1/tcp/0'] }, { logger: silent }),
      { name: 'PeerNodeConfigError', message: /--data .*missing\.csv: no such file/ }, 'the missing data path is named')
    const store = await LevelStore.open(join(base.datadir ?? '', DB_DIR))
    await store.close()
  })

  it('an aborted signal abandons init before anything listens', async () => {
    const controller = new AbortController()
    controller.abort(new Error('operator gave up'))
    await assert.rejects(PeerNode.init({ ...base, listen: ['/ip4/127.0.0.1/tcp/0'] }, { logger: silent, signal: controller.signal }), /operator gave up/, 'the abort reason is thrown')
    const store = await LevelStore.open(join(base.datadir ?? '', DB_DIR))
    await store.close()
  })
})
