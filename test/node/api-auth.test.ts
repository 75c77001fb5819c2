import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startApiServer, ensureApiToken, readApiToken, clientApiToken, apiTokenPath, allowedHosts, getJson, pageRoutes, type Route } from '../../node/api/index.js'

const routes: Route[] = [
  { method: 'GET', path: '/health', handler: () => ({ text: 'ok', contentType: 'text/plain' }) },
  getJson('/status', () => ({ round: 3, dataFile: '/secret/data.csv' })),
  getJson('/peers', () => ({ connections: [] })),
  getJson('/model', () => ({ weights: 'AAAA' })),
  { method: 'GET', path: '/metrics', handler: () => ({ text: 'murmur_x 1\n', contentType: 'text/plain; version=0.0.4' }) },
  getJson('/log', () => []),
  { method: 'POST', path: '/manifest', handler: () => ({ status: 200, json: { adopted: true } }) },
  ...pageRoutes({ store: { size: () => ({ diskBytes: 0, log: { first: 0, anchorHash: '', bytes: 0, firstReceivedAt: null, count: 0, retention: { maxBytes: 1, maxAgeMs: 1, minEntries: 1 } }, metricsRows: 0, evidence: 0, evidenceDropped: 0 }) } })
]

/** One raw request (Host header as given, which fetch cannot set). */
async function call (port: number, path: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number, body: string, headers: Record<string, unknown> }> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, timeout: 5000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body, headers: res.headers }) })
    })
    req.on('timeout', () => { req.destroy(new Error(`${path}: timed out`)) })
    req.on('error', reject)
    req.end()
  })
}

describe('API token and Host check', () => {
  it('loopback with a token: 401 without it on every data route; /health, /metrics and the page stay open', async () => {
    const api = await startApiServer({ listen: '127.0.0.1:0', token: 'a-token-of-at-least-16', routes })
    const host = `127.0.0.1:${api.port}`
    try {
      for (const path of ['/status', '/peers', '/model', '/log']) {
        const r = await call(api.port, path, { host })
        assert.equal(r.status, 401, `${path} without the token: ${r.body}`)
        assert.ok(!r.body.includes('/secret'), `${path}: nothing leaks in a 401`)
        const wrong = await call(api.port, path, { host, authorization: 'Bearer a-token-of-at-least-17' })
        assert.equal(wrong.status, 401, `${path} with a wrong token`)
        const ok = await call(api.port, path, { host, authorization: 'Bearer a-token-of-at-least-16' })
        assert.equal(ok.status, 200, `${path} with the token: ${ok.body}`)
      }
      assert.equal((await call(api.port, '/manifest', { host }, 'POST')).status, 401, 'POST /manifest needs the token')
      assert.equal((await call(api.port, '/health', { host })).status, 200, '/health is open')
      const metrics = await call(api.port, '/metrics', { host })
      assert.equal(metrics.status, 200, '/metrics is open')
      assert.equal(metrics.body, 'murmur_x 1\n', '/metrics body')
      const page = await call(api.port, '/', { host })
      assert.equal(page.status, 200, 'the page shell is open (it holds no data)')
      assert.match(String(page.headers['content-type']), /text\/html/, 'the page is HTML')
      assert.match(String(page.headers['content-security-policy']), /connect-src 'self'/, 'the page may only call its own origin')
      assert.ok(!page.body.includes('a-token-of-at-least-16'), 'the page does not carry the token')
    } finally { await api.close() }
  })

  it('a foreign Host (DNS rebinding) gets 403, on open routes too; localhost names with the bound port pass', async () => {
    const api = await startApiServer({ listen: '127.0.0.1:0', token: 'a-token-of-at-least-16', allowedHosts: ['murmur.internal'], routes })
    const auth = { authorization: 'Bearer a-token-of-at-least-16' }
    try {
      for (const host of [`evil.example:${api.port}`, 'evil.example', `127.0.0.1:${api.port + 1}`, `localhost.evil.example:${api.port}`]) {
        const r = await call(api.port, '/status', { host, ...auth })
        assert.equal(r.status, 403, `Host "${host}" is refused: ${r.body}`)
        assert.equal((await call(api.port, '/health', { host })).status, 403, `Host "${host}" is refused on /health too`)
      }
      for (const host of [`127.0.0.1:${api.port}`, `localhost:${api.port}`, `LOCALHOST:${api.port}`, `[::1]:${api.port}`, `murmur.internal:${api.port}`]) {
        const r = await call(api.port, '/status', { host, ...auth })
        assert.equal(r.status, 200, `Host "${host}" passes: ${r.body}`)
      }
    } finally { await api.close() }
    assert.equal(allowedHosts('127.0.0.1', 80, ['*']), null, '* turns the Host check off')
    assert.ok(allowedHosts('0.0.0.0', 80, [])?.has('127.0.0.1:80'), 'a wildcard bind accepts loopback')
    assert.ok(allowedHosts('::1', 80, ['fe80::1', 'h:81'])?.has('[fe80::1]:80'), 'an IPv6 allow-list entry gets brackets and the port')
    assert.ok(allowedHosts('::1', 80, ['h:81'])?.has('h:81'), 'an entry with a port keeps it')
  })

  it('the datadir token: created once with mode 0600, read back, and what a client sends', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'murmur-token-'))
    const saved = process.env.MURMUR_API_TOKEN
    try {
      delete process.env.MURMUR_API_TOKEN
      assert.equal(await readApiToken(dir), undefined, 'no token before')
      assert.equal(await clientApiToken({ datadir: dir }), undefined, 'a client sends none before')
      const t = await ensureApiToken(dir)
      assert.match(t, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url')
      assert.equal((await stat(apiTokenPath(dir))).mode & 0o777, 0o600, 'the token file is mode 0600')
      assert.equal(await ensureApiToken(dir), t, 'the second start keeps the token')
      assert.equal(await clientApiToken({ datadir: dir }), t, 'a client reads it from the datadir')
      process.env.MURMUR_API_TOKEN = 'from-the-environment-x'
      assert.equal(await clientApiToken({ datadir: dir }), 'from-the-environment-x', 'env beats the file')
      assert.equal(await clientApiToken({ token: 'given-on-the-command-line', datadir: dir }), 'given-on-the-command-line', '--token beats env')
      await writeFile(apiTokenPath(dir), 'not a token <script>\n')
      await assert.rejects(readApiToken(dir), (err: Error) => err.name === 'ApiTokenError' && err.message.includes(apiTokenPath(dir)), 'a malformed token file is an error naming it')
    } finally {
      if (saved == null) delete process.env.MURMUR_API_TOKEN; else process.env.MURMUR_API_TOKEN = saved
      await rm(dir, { recursive: true, force: true })
    }
  })
})
