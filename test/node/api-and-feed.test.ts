import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startApiServer, apiGet, parseHostPort, getJson, MAX_POST_BODY_BYTES, type Route } from '../../node/api/index.js'
import { DataFeed } from '../../node/data-feed.js'
import { loadDatasetFromSpec, type DatasetSpecInput } from '../../learning/index.js'

const routes: Route[] = [
  getJson('/status', () => ({ round: 3 })),
  { method: 'GET', path: '/metrics', handler: () => ({ text: 'murmur_x 1\n', contentType: 'text/plain; version=0.0.4' }) },
  getJson('/log', (q) => ({ limit: q.get('limit') })),
  getJson('/boom', () => { throw new Error('handler failed on purpose') }),
  { method: 'POST', path: '/echo', handler: ({ body }) => ({ status: 201, json: { bytes: body.length } }) }
]

describe('HTTP API', () => {
  it('serves the routes on loopback', async () => {
    const api = await startApiServer({ listen: '127.0.0.1:0', routes })
    try {
      assert.deepEqual(await apiGet(api.url, '/status'), { round: 3 }, 'a JSON route answers its handler\'s value')
      assert.equal(await apiGet(api.url, '/metrics'), 'murmur_x 1\n', 'a text route answers its text')
      assert.deepEqual(await apiGet(api.url, '/log?limit=7'), { limit: '7' }, 'the handler sees the query')
      await assert.rejects(apiGet(api.url, '/nope'), /HTTP 404.*"routes":\["\/status","\/metrics","\/log","\/boom"\]/, 'an unknown path is 404 and lists the GET routes')
      await assert.rejects(apiGet(api.url, '/boom'), /HTTP 500.*handler failed on purpose/, 'a throwing handler is a 500 with its message')
    } finally { await api.close() }
  })

  it('dispatches by method: POST bodies are bounded, other methods are 405', async () => {
    const api = await startApiServer({ listen: '127.0.0.1:0', routes })
    try {
      const ok = await fetch(`${api.url}/echo`, { method: 'POST', body: new Uint8Array(10) })
      assert.equal(ok.status, 201, 'the POST handler chooses the status')
      assert.deepEqual(await ok.json(), { bytes: 10 }, 'the POST handler gets the whole body')
      const big = await fetch(`${api.url}/echo`, { method: 'POST', body: new Uint8Array(MAX_POST_BODY_BYTES + 1) })
      assert.equal(big.status, 413, 'a body above MAX_POST_BODY_BYTES is refused')
      assert.equal((await fetch(`${api.url}/status`, { method: 'POST', body: '' })).status, 405, 'POST on a GET route is 405')
      assert.equal((await fetch(`${api.url}/echo`, { method: 'DELETE' })).status, 405, 'an unknown method is 405')
      assert.equal((await fetch(`${api.url}/echo`)).status, 404, 'GET on a POST-only path is 404, as before the route table')
    } finally { await api.close() }
  })

  it('refuses to bind beyond loopback without a token, and then requires it', async () => {
    await assert.rejects(startApiServer({ listen: '0.0.0.0:0', routes }), { name: 'ApiConfigError' }, 'no token beyond loopback')
    const api = await startApiServer({ listen: '0.0.0.0:0', token: 's3cret', routes })
    try {
      const url = `http://127.0.0.1:${api.port}`
      await assert.rejects(apiGet(url, '/status'), /HTTP 401/, 'no token: 401')
      await assert.rejects(apiGet(url, '/status', { token: 'wrong!' }), /HTTP 401/, 'wrong token: 401')
      assert.deepEqual(await apiGet(url, '/status', { token: 's3cret' }), { round: 3 }, 'the token opens the route')
    } finally { await api.close() }
    assert.throws(() => parseHostPort('localhost'), { name: 'ApiConfigError' }, 'HOST:PORT is required')
    assert.deepEqual(parseHostPort('[::1]:80'), { host: '::1', port: 80 }, 'IPv6 in brackets')
  })
})

describe('DataFeed (continuous learning)', () => {
  it('delivers appended complete rows once, waits for a partial line, and reads new files in a directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'murmur-feed-'))
    try {
      const file = join(dir, 'a.csv')
      writeFileSync(file, 'x,y\n1,2\n')
      const got: Array<[string[][], string]> = []
      const feed = new DataFeed({ path: file, initialOffsets: new Map([[file, 8]]), onRecords: (r, s) => { got.push([r, s]) } })
      assert.equal(await feed.poll(), 0)
      appendFileSync(file, '3,4\n5,')
      assert.equal(await feed.poll(), 1)
      assert.deepEqual(got[0][0], [['3', '4']])
      appendFileSync(file, '6\n')
      assert.equal(await feed.poll(), 1)
      assert.deepEqual(got[1][0], [['5', '6']])
      assert.equal(await feed.poll(), 0)

      const watched = join(dir, 'incoming')
      const { mkdirSync } = await import('node:fs')
      mkdirSync(watched)
      const seen: string[][] = []
      const dirFeed = new DataFeed({ path: watched, onRecords: (r) => { seen.push(...r) } })
      writeFileSync(join(watched, 'b1.csv'), 'x,y\n7,8\n9,10\n')
      assert.equal(await dirFeed.poll(), 2)
      writeFileSync(join(watched, 'b2.csv'), 'x,y\n11,12\n')
      assert.equal(await dirFeed.poll(), 1)
      assert.deepEqual(seen, [['7', '8'], ['9', '10'], ['11', '12']])
      // a batch the learner refuses (e.g. a bad row) is reported with its source and skipped, never half-applied twice
      const errors: string[] = []
      const bad = new DataFeed({ path: file, onRecords: () => { throw new Error('bad row at line 2') }, onError: (e) => { errors.push(e.message) } })
      assert.equal(await bad.poll(), 0)
      assert.deepEqual(errors, ['bad row at line 2'])
    } finally { rmSync(dir, { recursive: true, force: true }) }
  })

  const spec = (file: string, onBadRow: 'error' | 'skip'): DatasetSpecInput => ({
    name: 'feed', file, testFraction: 0, onBadRow, columns: [{ name: 'y', role: 'label', kind: 'numeric' }, { name: 'x', role: 'numeric', mean: 0, std: 1 }]
  })

  it('names a bad appended row by its file line; skip keeps the good rows of its chunk and counts it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'murmur-feed-'))
    try {
      const file = join(dir, 'd.csv')
      writeFileSync(file, 'y,x\n1,10\n2,20\n')
      const d = await loadDatasetFromSpec(spec(file, 'skip'), { growing: true })
      const feed = new DataFeed({
        path: file, onBadRow: 'skip', initialOffsets: new Map([[file, d.loadedBytes]]),
        onRecords: (r, source, batch) => { d.appendRecords(r, { source, lines: batch.lines, badRows: batch.badRows }) }
      })
      appendFileSync(file, '3,30\n4,"x\ny"\n5,50\n6,')
      assert.equal(await feed.poll(), 3, 'three complete records (one of them bad)')
      assert.deepEqual(Array.from(d.x.subarray(0, d.size)), [10, 20, 30, 50], 'the good rows around the bad one are kept')
      assert.equal(feed.badRows.count, 1, 'one bad row counted on the feed')
      assert.deepEqual(feed.badRows.lines, [6], 'the bad row is named by line 6 of the file, where its quoted field ends')
      appendFileSync(file, '60\n')
      assert.equal(await feed.poll(), 1, 'the partial line, completed')
      assert.equal(d.x[d.size - 1], 60, 'is read whole')
    } finally { rmSync(dir, { recursive: true, force: true }) }
  })

  it('under error, delivers the rows before a bad one, then stops reading that file and names the line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'murmur-feed-'))
    try {
      const file = join(dir, 'd.csv')
      writeFileSync(file, 'y,x\n1,10\n')
      const d = await loadDatasetFromSpec(spec(file, 'error'), { growing: true })
      const errors: string[] = []
      const feed = new DataFeed({
        path: file, onBadRow: 'error', initialOffsets: new Map([[file, d.loadedBytes]]),
        onRecords: (r, source, batch) => { d.appendRecords(r, { source, lines: batch.lines, badRows: batch.badRows }) },
        onError: (e) => { errors.push(e.message) }
      })
      appendFileSync(file, '2,20\n3,abc\n4,40\n')
      assert.equal(await feed.poll(), 1, 'the row before the bad one')
      assert.deepEqual(Array.from(d.x.subarray(0, d.size)), [10, 20], 'no row after it')
      assert.equal(errors.length, 1, 'reported once')
      assert.match(errors[0], /d\.csv: line 4, column x: 'abc' is not a number.*--on-bad-row skip/, 'names the file, line and the way out')
      assert.deepEqual(feed.stopped.map((s) => s.file), [file], 'the file is stopped')
      appendFileSync(file, '5,50\n')
      assert.equal(await feed.poll(), 0, 'nothing more is read from it')
      assert.equal(errors.length, 1, 'and it is not reported again')
    } finally { rmSync(dir, { recursive: true, force: true }) }
  })
})
