// The operator page at `/` against a running 3-daemon testnet, in headless Chromium: it asks for the token once,
// shows the daemon's state within 5 s, updates as rounds pass, draws every chart, logs no error and makes no
// request beyond its own API. MURMUR_SCREENSHOTS=1 writes docs/images/operator.png.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { partitionDataset, createTestNetwork } from '../../node/testnet.js'
import { spawnDaemon, waitFor, REPO_ROOT, type DaemonProcess } from '../../node/processes.js'
import { readApiToken } from '../../node/api/index.js'
import { defaultDataDir } from '../../learning/index.js'
import { browserSkip, launchChromium, watchedPage, canvases, blankCanvases } from './browser.js'

const digitsFile = join(defaultDataDir(), 'sklearn-digits.csv.gz')
const skip = browserSkip() || (existsSync(digitsFile) ? false : `shared dataset missing: ${digitsFile}`)

/** Polls an element's text from the test side (the page's CSP forbids string evaluation inside it). */
async function waitText (page: import('playwright-core').Page, id: string, ok: (text: string) => boolean, timeoutMs: number): Promise<string> {
  const end = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < end) {
    last = (await page.textContent(`#${id}`)) ?? ''
    if (ok(last)) return last
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`#${id} never matched in ${timeoutMs} ms (last text "${last}")`)
}

describe('operator page against a running 3-daemon testnet', { timeout: 180_000, skip }, () => {
  let dir: string
  let browser: Browser
  const daemons: DaemonProcess[] = []

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'murmur-operator-'))
    const data = await partitionDataset('digits', 3, join(dir, 'data'), 5)
    const net = await createTestNetwork({ dir, peers: 3, name: 'operator', model: { type: 'softmax' }, datasetSpec: data.spec, rule: { rule: 'epidemic', fanout: 2, maxStalenessRounds: 1000 } })
    const common = { network: net.network, roundIntervalMs: 400, localSteps: 2, evaluateEvery: 1 }
    const first = await spawnDaemon({ ...common, datadir: net.datadirs[0], data: data.partitions[0] })
    daemons.push(first)
    daemons.push(...await Promise.all([1, 2].map(async (i) => await spawnDaemon({ ...common, datadir: net.datadirs[i], data: data.partitions[i], bootstrap: [first.addresses[0]] }))))
    await waitFor('peer 0 to have a neighbour and a round', async () => await first.get('/status'), (s) => s.neighbours.length >= 1 && s.round >= 1, { timeoutMs: 60_000 })
    browser = await launchChromium()
  })

  after(async () => {
    await browser?.close()
    for (const d of daemons) await d.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('asks for the token once, shows the state within 5 s and updates as rounds pass', async () => {
    const d = daemons[0]
    const token = await readApiToken(d.datadir)
    assert.ok(token != null, 'the daemon wrote its token into the datadir')
    const { page, errors } = await watchedPage(browser, [d.apiUrl])
    try {
      await page.goto(d.apiUrl + '/', { waitUntil: 'load' })
      await page.waitForSelector('#login:not(.hidden)', { timeout: 5000 })
      // a wrong token is refused and asked again
      await page.fill('#token', 'not-the-token-0123456789')
      await page.click('#login button')
      await waitText(page, 'error', (t) => t.includes('refused'), 5000)
      const opened = Date.now()
      await page.fill('#token', token)
      await page.click('#login button')
      await page.waitForSelector('#main:not(.hidden)', { timeout: 5000 })
      await waitText(page, 'round', (t) => /^\d+$/.test(t), 5000)
      assert.ok(Date.now() - opened < 5000, `state shown ${Date.now() - opened} ms after the token`)
      const status = await d.get('/status')
      assert.equal(await page.textContent('#peer'), status.peerId, 'the page shows this peer')
      assert.match(await page.textContent('#manifest') ?? '', new RegExp(`^v${String(status.network.version)} / 3$`), 'manifest version and members')
      assert.match(await page.textContent('#database') ?? '', /\d.*(B|KiB|MiB)/, 'the database size')
      const round0 = Number(await page.textContent('#round'))
      await waitText(page, 'round', (t) => Number(t) >= round0 + 2, 30_000)
      // enough samples for rounds per minute (5 s apart) and a metric history to draw
      await waitText(page, 'rpm', (t) => /^\d/.test(t), 20_000)
      await waitText(page, 'health', (t) => t === 'ok', 10_000)
      const list = await canvases(page)
      assert.deepEqual(list.map((c) => c.id), ['chart-metric', 'chart-rpm', 'chart-peers', 'chart-refused'], 'the page\'s charts')
      assert.deepEqual(blankCanvases(list), [], 'every canvas is drawn with data')
      if (process.env.MURMUR_SCREENSHOTS === '1') { mkdirSync(join(REPO_ROOT, 'docs', 'images'), { recursive: true }); await page.screenshot({ path: join(REPO_ROOT, 'docs', 'images', 'operator.png'), fullPage: true }) }
      // the token is asked once: a reload opens straight onto the state
      await page.reload({ waitUntil: 'load' })
      await page.waitForSelector('#main:not(.hidden)', { timeout: 5000 })
      assert.deepEqual(errors.filter((e) => !/401 \(Unauthorized\)/.test(e)), [], 'no error besides the refused wrong token')
      // the wrong token's one poll: at most one 401 per API call it makes
      assert.ok(errors.length >= 1 && errors.length <= 4, `the wrong token's poll shows its 401s, nothing more: ${errors.join('; ')}`)
    } finally { await page.close() }
  })
})
