import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRng } from '../../protocol/rng.js'
// seeded (MURMUR_TEST_SEED, default 1) so that a failure replays; node identities and payloads only, not secrets
const rng = createRng(Number(process.env.MURMUR_TEST_SEED ?? 1))
const randomBytes = (n: number): Uint8Array => rng.bytes(n)
import { createLibp2pTransport, createMemoryTransports, waitForNeighbours, peerIdFromPeerKey, peerKeyFromPeerId, type Libp2pTransport } from '../../node/transport/index.js'
import { RefusalReason, type Incoming } from '../../protocol/interfaces.js'

const seeds = (n: number): Uint8Array[] => Array.from({ length: n }, () => randomBytes(32))

async function until (cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('libp2p transport over the memory transport', () => {
  const all: Libp2pTransport[] = []
  after(async () => { await Promise.all(all.map(async (t) => { await t.stop() })) })

  it('maps PeerKeys to PeerIds and back', async () => {
    const [t] = await createMemoryTransports(seeds(1), 'net-keys')
    all.push(t)
    assert.equal(peerKeyFromPeerId(peerIdFromPeerKey(t.self)), t.self)
    assert.equal(peerIdFromPeerKey(t.self).toString(), t.libp2p.peerId.toString())
    assert.throws(() => peerIdFromPeerKey('zz'), { name: 'InvalidPeerKeyError' })
  })

  it('sends a 5 MiB message on the update stream and returns the verdict; announces through gossipsub', async () => {
    const ts = await createMemoryTransports(seeds(3), 'net-a')
    all.push(...ts)
    const received: Incoming[][] = ts.map(() => [])
    ts.forEach((t, i) => t.onMessage(async (m) => {
      received[i].push(m)
      return m.bytes[0] === 0xff ? RefusalReason.BAD_SIGNATURE : null
    }))
    await waitForNeighbours(ts, 2)
    const big = randomBytes(5 * 1024 * 1024 + 17)
    assert.equal(await ts[0].sendWithVerdict(ts[1].self, big), null)
    const got = received[1].find((m) => m.via === 'direct')
    assert.ok(got != null, 'expected got != null')
    assert.equal(got.from, ts[0].self)
    assert.ok(Buffer.from(got.bytes).equals(big), 'expected Buffer.from(got.bytes).equals(big)')

    const bad = new Uint8Array([0xff, 1, 2])
    assert.equal(await ts[2].sendWithVerdict(ts[0].self, bad), RefusalReason.BAD_SIGNATURE)
    assert.equal(ts[0].stats.refusedByReason.BAD_SIGNATURE, 1)
    await assert.rejects(ts[2].sendAcknowledged(ts[0].self, bad), { name: 'RemoteRefusedError' })

    await ts[0].announce(new Uint8Array([1, 2, 3, 4]))
    await until(() => received[1].some((m) => m.via === 'announce') && received[2].some((m) => m.via === 'announce'), 'announcement')
    await assert.rejects(ts[0].announce(new Uint8Array(ts[0].maxAnnounceBytes + 1)), { name: 'MessageTooLargeError' })
  })

  it('refuses a message larger than the receiver limit before allocating', async () => {
    const [a, b] = await createMemoryTransports(seeds(2), 'net-b', { init: { maxMessageBytes: 1024 * 1024 } })
    all.push(a, b)
    let calls = 0
    b.onMessage(async () => { calls++; return null })
    // the sender's own limit is the same; raise it on the sender to test the receiver's check
    ;(a as unknown as { maxMessageBytes: number }).maxMessageBytes = 8 * 1024 * 1024
    assert.equal(await a.sendWithVerdict(b.self, new Uint8Array(2 * 1024 * 1024)), RefusalReason.OVERSIZED)
    assert.equal(calls, 0)
  })

  it('gossip validator verdicts: a rejected announcement is not delivered onward, an accepted one is', async () => {
    const ts = await createMemoryTransports(seeds(3), 'net-c')
    all.push(...ts)
    const seen = ts.map(() => [] as number[])
    ts.forEach((t, i) => t.onMessage(async (m) => { seen[i].push(m.bytes[0]); return m.bytes[0] === 9 ? RefusalReason.NOT_A_MEMBER : null }))
    await waitForNeighbours(ts, 2)
    await ts[1].announce(new Uint8Array([9, 0]))
    await ts[1].announce(new Uint8Array([7, 0]))
    await until(() => seen[0].includes(7) && seen[2].includes(7), 'accepted announcement')
    assert.ok(ts[0].stats.refusedByReason.NOT_A_MEMBER === 1 || ts[2].stats.refusedByReason.NOT_A_MEMBER === 1, 'expected ts[0].stats.refusedByReason.NOT_A_MEMBER === 1 || ts[2].stats.refusedByReason.NOT_A_MEM...')
  })

  it('the connection gater refuses a non-member of a closed network', async () => {
    const memberSeeds = seeds(2)
    const outsider = randomBytes(32)
    const members = new Set<string>()
    const membership = { isMember: (k: string) => members.has(k) }
    const [a, b] = await createMemoryTransports(memberSeeds, 'net-d', { membership: { isMember: null } })
    all.push(a, b)
    members.add(a.self); members.add(b.self)
    const closed = await createLibp2pTransport({ seed: randomBytes(32), networkId: 'net-d', transport: 'memory', listen: [`/memory/gater-${process.pid}`], membership, targetPeers: 0 })
    all.push(closed)
    await closed.start()
    members.add(closed.self)
    const stranger = await createLibp2pTransport({ seed: outsider, networkId: 'net-d', transport: 'memory', listen: [`/memory/stranger-${process.pid}`], targetPeers: 0 })
    all.push(stranger)
    await stranger.start()
    await assert.rejects(stranger.dial(closed.addresses()[0]))
    await assert.rejects(closed.dial(stranger.addresses()[0]))
    assert.equal(closed.connectedPeers().length, 0)
    const peer = await a.dial(closed.addresses()[0])
    assert.equal(peer, closed.self)
  })
})
