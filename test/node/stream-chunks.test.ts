// The update stream over real TCP on 127.0.0.1 with the daemon's transport defaults (node/transport/constants.ts):
// a model larger than a chunk arrives byte for byte, and the receiver bounds every frame it reads.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRng } from '../../protocol/rng.js'
// seeded (MURMUR_TEST_SEED, default 1) so that a failure replays; node identities and payloads only, not secrets
const rng = createRng(Number(process.env.MURMUR_TEST_SEED ?? 1))
const randomBytes = (n: number): Uint8Array => rng.bytes(n)
import * as lp from 'it-length-prefixed'
import { createLibp2pTransport, peerIdFromPeerKey, DEFAULT_CHUNK_BYTES, UPDATE_PROTOCOL, type Libp2pTransport } from '../../node/transport/index.js'
import { MAX_CHUNK_BYTES, readVerdict, FRAME_VERSION } from '../../node/transport/update-stream.js'
import { RefusalReason, type Incoming } from '../../protocol/interfaces.js'

const node = async (): Promise<Libp2pTransport> => await createLibp2pTransport({ seed: randomBytes(32), networkId: 'stream-test', listen: ['/ip4/127.0.0.1/tcp/0'], targetPeers: 0 })

function header (total: number): Uint8Array {
  const h = new Uint8Array(8)
  h[0] = FRAME_VERSION
  new DataView(h.buffer).setUint32(4, total, false)
  return h
}

describe('update stream over TCP with the daemon defaults', () => {
  let a: Libp2pTransport
  let b: Libp2pTransport
  const received: Incoming[] = []

  before(async () => {
    a = await node(); b = await node()
    b.onMessage(async (m) => { received.push(m); return null })
    await a.start(); await b.start()
    await a.dial(b.addresses()[0])
  })
  after(async () => { await a.stop(); await b.stop() })

  it('uses the largest chunk a receiver accepts', () => {
    assert.equal(DEFAULT_CHUNK_BYTES, MAX_CHUNK_BYTES)
  })

  it('moves a 16 MiB model (and a partial last chunk) intact and acknowledged', async () => {
    const model = randomBytes(16 * 1024 * 1024 + 3)
    assert.equal(await a.sendWithVerdict(b.self, model), null)
    const got = received.at(-1)
    assert.ok(got != null && got.via === 'direct', 'expected got != null && got.via === \'direct\'')
    assert.equal(got.from, a.self)
    assert.ok(Buffer.from(got.bytes).equals(model), 'expected Buffer.from(got.bytes).equals(model)')
    assert.equal(b.stats.messagesReceived, 1)
  })

  it('refuses a frame over the chunk limit, and a stream shorter than it declared, as MALFORMED', async () => {
    const before = received.length
    const raw = async (frames: Uint8Array[]): Promise<RefusalReason | null> => {
      const stream = await a.libp2p.dialProtocol(peerIdFromPeerKey(b.self), UPDATE_PROTOCOL)
      for (const f of frames) if (!stream.send(lp.encode.single(f))) await stream.onDrain()
      await stream.close()
      return await readVerdict(stream)
    }
    assert.equal(await raw([header(MAX_CHUNK_BYTES + 1), new Uint8Array(MAX_CHUNK_BYTES + 1)]), RefusalReason.MALFORMED)
    assert.equal(await raw([header(1000), new Uint8Array(600)]), RefusalReason.MALFORMED)
    assert.equal(received.length, before, 'the handler never saw a bad stream')
    assert.equal(b.stats.refusedByReason.MALFORMED, 2)
  })
})
