// Limits per peer on the update stream: open streams (BUSY), message rate (RATE_LIMITED), read timeout, and the
// largest message derived from the model. The memory test runs the receiver in its own process and measures it
// while one member holds 64 half-sent streams (issue #14: 16 such streams took a daemon from 470 MB to 1,493 MB).
import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'
import * as lp from 'it-length-prefixed'
import type { Stream } from '@libp2p/interface'
import {
  createLibp2pTransport, createMemoryTransports, peerIdFromPeerKey, PeerLimits, updateMessageLimit, UPDATE_PROTOCOL, type Libp2pTransport
} from '../../node/transport/index.js'
import { FRAME_VERSION } from '../../node/transport/update-stream.js'
import { ENVELOPE_OVERHEAD, MAX_HEADER_BYTES } from '../../protocol/messages/index.js'
import { createRng } from '../../protocol/rng.js'

const rng = createRng(1403).fork('streams')
const MiB = 1024 * 1024

function header (total: number): Uint8Array {
  const h = new Uint8Array(8)
  h[0] = FRAME_VERSION
  new DataView(h.buffer).setUint32(4, total, false)
  return h
}

/** Opens an update stream to `to` and sends the header and `chunks` 1 MiB frames of a `declared`-byte message, then stalls. */
async function halfSend (from: Libp2pTransport, to: string, declared: number, chunks: number): Promise<Stream> {
  const stream = await from.libp2p.dialProtocol(peerIdFromPeerKey(to), UPDATE_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
  const frames = [header(declared), ...Array.from({ length: chunks }, () => new Uint8Array(MiB).fill(7))]
  for (const f of frames) if (!stream.send(lp.encode.single(f))) await stream.onDrain({ signal: AbortSignal.timeout(10_000) })
  return stream
}

async function until (cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

describe('per-peer limits on the update stream', () => {
  const open: Libp2pTransport[] = []
  after(async () => { await Promise.all(open.map(async (t) => { await t.stop() })) })

  it('derives the largest message from the model size and codec', () => {
    const fixed = MAX_HEADER_BYTES + ENVELOPE_OVERHEAD
    assert.equal(updateMessageLimit(727), fixed + 4 * 727, 'float32: 4 bytes a parameter plus the largest header')
    assert.ok(updateMessageLimit(727) < 4096, `a 2.9 KB model needs under 4 KiB, not 64 MiB (${updateMessageLimit(727)})`)
    assert.equal(updateMessageLimit(1000, 'float16'), fixed + 4000, 'never below float32: members may not share the network codec')
    assert.equal(updateMessageLimit(1000, 'int8:1'), fixed + 5000, 'int8 with one scale per value is larger than float32')
    assert.equal(updateMessageLimit(1000, { name: 'topk', k: 1000 }), fixed + 8000, 'top-k of everything: index and value per parameter')
    assert.throws(() => updateMessageLimit(0), { name: 'RangeError' }, 'no model has zero parameters')
    assert.throws(() => updateMessageLimit(10, 'zstd'), { name: 'CodecSpecError' }, 'an unknown codec is named')
  })

  it('PeerLimits: BUSY past the open-stream cap, RATE_LIMITED past the bucket, refilled by the clock', () => {
    let now = 1_000_000
    const l = new PeerLimits({ maxStreamsPerPeer: 2, updatesPerSecond: 2, burst: 3, now: () => now })
    assert.equal(l.admit('a'), null, 'first stream admitted')
    assert.equal(l.admit('a'), null, 'second stream admitted')
    assert.equal(l.admit('a'), 'BUSY', 'third concurrent stream is BUSY')
    assert.equal(l.admit('b'), null, 'another peer has its own limits')
    l.release('a')
    assert.equal(l.admit('a'), null, 'a released slot is reusable (third token)')
    l.release('a'); l.release('a')
    assert.equal(l.admit('a'), 'RATE_LIMITED', 'the burst of 3 is spent')
    now += 500
    assert.equal(l.admit('a'), null, '500 ms at 2/s refills one token')
    assert.equal(l.openStreams('a'), 1, 'one stream open')
    assert.throws(() => new PeerLimits({ maxStreamsPerPeer: 0 }), { name: 'RangeError' }, 'limits must be positive')
  })

  it('refuses a peer over its rate with RATE_LIMITED, counted; aborts a stalled stream after the read timeout', async () => {
    const [a, b] = await createMemoryTransports([rng.bytes(32), rng.bytes(32)], 'streams-rate', {
      init: { updatesPerSecond: 0.001, burst: 2, readTimeoutMs: 300, targetPeers: 0 }
    })
    open.push(a, b)
    b.onMessage(async () => null)
    assert.equal(await a.sendWithVerdict(b.self, new Uint8Array(10)), null, 'first message within the burst')
    assert.equal(await a.sendWithVerdict(b.self, new Uint8Array(10)), null, 'second message within the burst')
    assert.equal(await a.sendWithVerdict(b.self, new Uint8Array(10)), 'RATE_LIMITED', 'the third gets the named verdict')
    assert.equal(b.stats.refusedByReason.RATE_LIMITED, 1, 'the refusal is counted under its name')

    const [c, d] = await createMemoryTransports([rng.bytes(32), rng.bytes(32)], 'streams-timeout', { init: { readTimeoutMs: 300, targetPeers: 0 } })
    open.push(c, d)
    d.onMessage(async () => null)
    const stalled = await halfSend(c, d.self, 4 * MiB, 1)
    await until(() => d.stats.limits.readTimeouts === 1, 'the read timeout')
    await until(() => stalled.status !== 'open', 'the sender to see its stream closed', 5000)
    assert.equal(d.peerLimits.openStreams(c.self), 0, 'the timed-out stream no longer counts against the peer')
  })

  it('64 half-sent streams from one member: the receiver grows by less than 64 MiB and lets go after the read timeout', async () => {
    const readTimeoutMs = 2500
    const receiver = spawnReceiver({ maxMessageBytes: 16 * MiB, readTimeoutMs })
    try {
      const { addr, self } = await receiver.next() as { addr: string, self: string }
      const sender = await createLibp2pTransport({ seed: rng.bytes(32), networkId: 'limits-test', listen: ['/ip4/127.0.0.1/tcp/0'], targetPeers: 0 })
      open.push(sender)
      await sender.start()
      await sender.dial(addr)
      const base = await receiver.mem()
      const results = await Promise.allSettled(Array.from({ length: 64 }, async () => await halfSend(sender, self, 16 * MiB, 2)))
      const streams = results.flatMap((r) => r.status === 'fulfilled' ? [r.value] : [])
      // the highest of several samples while the streams stall (data may still be arriving at the first)
      let peak = await receiver.mem()
      for (let i = 0; i < 6; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250))
        const m = await receiver.mem()
        if (m.rss > peak.rss) peak = m
      }
      const growth = peak.rss - base.rss
      console.log(`# 64 half-sent streams (16 MiB declared, 2 MiB sent each): ${streams.length} opened, receiver RSS ${mb(base.rss)} -> ${mb(peak.rss)} MiB ` +
        `(+${mb(growth)}), array buffers ${mb(base.arrayBuffers)} -> ${mb(peak.arrayBuffers)} MiB, refused ${JSON.stringify(peak.stats.refusedByReason)}`)
      assert.ok(growth < 64 * MiB, `RSS grew by ${mb(growth)} MiB`)
      await new Promise((resolve) => setTimeout(resolve, readTimeoutMs))
      const later = await receiver.mem()
      console.log(`# after the read timeout: RSS ${mb(later.rss)} MiB, array buffers ${mb(later.arrayBuffers)} MiB, read timeouts ${later.stats.limits.readTimeouts}`)
      assert.ok(later.stats.limits.readTimeouts >= 1, 'the admitted streams timed out')
      assert.ok(later.arrayBuffers - base.arrayBuffers < 8 * MiB, `buffers released (${mb(later.arrayBuffers - base.arrayBuffers)} MiB still held)`)
      assert.ok(streams.every((s) => s.status !== 'open'), `every stream closed (${streams.filter((s) => s.status === 'open').length} open)`)
    } finally {
      receiver.stop()
    }
  })
})

const mb = (n: number): string => (n / MiB).toFixed(1)

interface Mem { rss: number, arrayBuffers: number, stats: Libp2pTransport['stats'] }

function spawnReceiver (init: Record<string, number>): { next: () => Promise<unknown>, mem: () => Promise<Mem>, stop: () => void } {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--import', './node/polyfills.ts',
    'test/node/fixtures/update-receiver.ts', JSON.stringify({ seed: Buffer.from(rng.bytes(32)).toString('hex'), init })], { stdio: 'pipe' })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const next = async (): Promise<unknown> => {
    let timer: NodeJS.Timeout | undefined
    const silent = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`receiver silent: ${stderr.slice(-500)}`)) }, 30_000) })
    const r = await Promise.race([lines.next(), silent]).finally(() => { clearTimeout(timer) })
    if (r.done === true) throw new Error(`receiver exited: ${stderr.slice(-500)}`)
    return JSON.parse(r.value)
  }
  return {
    next,
    mem: async () => { child.stdin.write('mem\n'); return await next() as Mem },
    stop: () => { child.kill('SIGKILL') }
  }
}
