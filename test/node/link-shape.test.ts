// The fault harness's link conditions: the proxy's added delay (in order, both ways), real packet loss through
// iptables (root only), and the checks on the numbers.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { LinkProxy } from '../../node/faults/link-proxy.js'
import { checkLinkShape, PacketLoss, parseFaultSpec } from '../../node/faults/index.js'

const exec = promisify(execFile)

/** An echo server on 127.0.0.1 and its port. */
async function echoServer (): Promise<{ server: Server, port: number }> {
  const server = createServer((s) => { s.on('error', () => {}); s.pipe(s) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const a = server.address()
  return { server, port: typeof a === 'object' && a != null ? a.port : 0 }
}

async function dial (port: number): Promise<Socket> {
  return await new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => { resolve(s) })
    s.once('error', reject)
  })
}

/** Sends `payload` and resolves with the bytes echoed back once as many have arrived, and the ms it took. */
async function roundTrip (s: Socket, payload: Buffer): Promise<{ echoed: Buffer, ms: number }> {
  const t0 = performance.now()
  const parts: Buffer[] = []
  let got = 0
  return await new Promise((resolve) => {
    const onData = (b: Buffer): void => {
      parts.push(b)
      got += b.length
      if (got >= payload.length) { s.off('data', onData); resolve({ echoed: Buffer.concat(parts), ms: performance.now() - t0 }) }
    }
    s.on('data', onData)
    s.write(payload)
  })
}

/** A seeded byte pattern (a linear congruential generator), so the echo check compares known bytes. */
function pattern (n: number, seed: number): Buffer {
  const b = Buffer.alloc(n)
  let x = seed >>> 0
  for (let i = 0; i < n; i++) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; b[i] = x >>> 24 }
  return b
}

test('a delayed link adds its RTT to a round trip and keeps every byte in order', async () => {
  const { server, port } = await echoServer()
  const proxy = new LinkProxy(() => port, { delayMs: 60 })
  const proxied = await proxy.start()
  try {
    const s = await dial(proxied)
    const first = await roundTrip(s, Buffer.from('ping'))
    assert.ok(first.ms >= 2 * 60 - 5, `a round trip through a 120 ms RTT link takes at least 120 ms (took ${first.ms.toFixed(1)} ms)`)
    const payload = pattern(3 * 1024 * 1024, 7)
    const big = await roundTrip(s, payload)
    assert.ok(big.echoed.equals(payload), '3 MiB of seeded bytes come back unchanged and in order through both delayed directions')
    s.destroy()
  } finally {
    await proxy.close()
    server.close()
  }
})

test('link conditions are checked: RTT and loss in range, named errors; fault files carry them', () => {
  assert.deepEqual(checkLinkShape({ rttMs: 100, loss: 0.02 }), { rttMs: 100, loss: 0.02 }, 'a WAN-like link is accepted')
  assert.deepEqual(checkLinkShape({}), { rttMs: 0, loss: 0 }, 'none given: a plain link')
  assert.throws(() => checkLinkShape({ loss: 0.9 }), (e: Error) => e.name === 'LinkShapeError' && /--link-loss/.test(e.message), 'loss above 0.5 names the flag')
  assert.throws(() => checkLinkShape({ rttMs: Number.NaN }), (e: Error) => e.name === 'LinkShapeError' && /--link-rtt/.test(e.message), 'a non-number RTT names the flag')
  assert.deepEqual(parseFaultSpec('faults: [partition-heal]\nrttMs: 100\nloss: 0.02\n', 'f.yaml'), { faults: ['partition-heal'], rttMs: 100, loss: 0.02 }, 'a fault file gives rttMs and loss')
  assert.throws(() => parseFaultSpec('faults: [lost-db]\nloss: 2\n', 'f.yaml'), (e: Error) => e.name === 'FaultSpecError' && /field loss/.test(e.message), 'a file\'s loss out of range names the field')
})

test('packet loss drops every n-th packet of the proxy\'s connections, TCP still delivers, the chain is removed', async (t) => {
  const why = await PacketLoss.unavailable()
  if (why != null) { t.skip(why); return }
  const { server, port } = await echoServer()
  const proxy = new LinkProxy(() => port)
  const proxied = await proxy.start()
  const loss = await PacketLoss.start([proxied], 0.05)
  try {
    assert.equal(loss.every, 20, '5% loss is every 20th packet')
    const s = await dial(proxied)
    const payload = pattern(512 * 1024, 11)
    for (let i = 0; i < 4; i++) {
      const r = await roundTrip(s, payload.subarray(i * 131072, (i + 1) * 131072))
      assert.ok(r.echoed.equals(payload.subarray(i * 131072, (i + 1) * 131072)), `chunk ${i} comes back whole despite the loss (TCP retransmits)`)
    }
    s.destroy()
    assert.ok(await loss.dropped() > 0, 'the chain dropped packets of the proxied connection')
  } finally {
    await loss.close()
    await proxy.close()
    server.close()
  }
  await assert.rejects(exec('iptables', ['-w', '-L', loss.chain, '-n']), 'close() removes the chain')
})
