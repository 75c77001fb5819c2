// The connection keeper's split warning on fakes: known peers seen recently, some unreachable. A split is
// suspected (warned once, counted) when half or more of them failed their last two dials while others are
// connected; it ends when every one is reachable again.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConnectionKeeper } from '../../node/services/connection-keeper/connection-keeper.js'
import { PromMetrics } from '../../node/metrics.js'
import { peerIdFromPeerKey } from '../../node/transport/peer-key.js'
import type { KnownPeer } from '../../node/store/index.js'

test('a split is suspected when half the recently seen peers fail two dials while others are connected, once per episode', async () => {
  let now = 1_000_000
  const ids = ['11', '22', '33', '44'].map((b) => peerIdFromPeerKey(b.repeat(32)))
  const known: KnownPeer[] = ids.map((id) => ({ peerId: id.toString(), addrs: ['/ip4/127.0.0.1/tcp/1'], lastSeen: now }))
  const reachable = new Set([ids[0].toString()])
  const connected = new Set([ids[0].toString()])
  const warns: string[] = []
  const infos: string[] = []
  const logger = { warn: (_o: unknown, m?: string) => { warns.push(m ?? '') }, info: (_o: unknown, m?: string) => { infos.push(m ?? '') }, debug: () => {}, error: () => {}, child: () => logger } as never
  const keeper = new ConnectionKeeper({ targetPeers: 8, checkMs: 3_600_000, backoffBaseMs: 1, backoffMaxMs: 1, backoffJitter: 0, now: () => now }, {
    network: {
      connections: () => ids.filter((id) => connected.has(id.toString())).map((id) => ({ remotePeer: id, remoteAddr: '/ip4/127.0.0.1/tcp/1', direction: 'outbound' as const })),
      dial: async (addr: string) => {
        const id = ids.find((x) => addr.endsWith(x.toString()))
        if (id == null || !reachable.has(id.toString())) throw new Error('unreachable')
        connected.add(id.toString())
        return id
      },
      peerAddresses: async () => []
    },
    store: { knownPeers: async () => ({ peers: known, corrupt: [] }), commit: async () => {} },
    engine: { addEventListener: () => {}, removeEventListener: () => {} } as never,
    metrics: new PromMetrics({ strict: true }),
    logger
  })
  await keeper.start()
  try {
    now += 10; await keeper.check()
    assert.equal(keeper.stats.splitEpisodes, 0, 'one failed dial each is not yet a split')
    now += 10; await keeper.check()
    assert.equal(keeper.stats.unreachableKnownPeers, 3, 'three recently seen peers failed two dials')
    assert.equal(keeper.stats.splitEpisodes, 1, 'split suspected')
    assert.equal(warns.filter((w) => w.startsWith('network split suspected')).length, 1, 'warned')
    now += 10; await keeper.check()
    assert.equal(warns.filter((w) => w.startsWith('network split suspected')).length, 1, 'warned once per episode')
    for (const id of ids) reachable.add(id.toString())
    now += 10; await keeper.check()
    assert.equal(keeper.stats.unreachableKnownPeers, 0, 'every peer reachable again')
    assert.ok(infos.some((m) => m.startsWith('the suspected split is over')), 'the end of the episode is logged')
    assert.equal(keeper.stats.splitEpisodes, 1, 'one episode')
  } finally { await keeper.stop() }
})
