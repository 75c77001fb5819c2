// report.html and the operator page, opened in headless Chromium: no console error, no page error, no request
// leaving the page, and every canvas drawn by a chart with data.
// Reports: (1) a fixture run (the simulator's light test peers) extended with every chart kind the report
// knows, regions and the sections other issues add, and hostile strings in every text field; (2) two real
// small runs (default, fremtpl-regions); (3) with MURMUR_BROWSER_ALL_SCENARIOS=1, every built-in scenario at a
// small size. MURMUR_SCREENSHOTS=1 writes docs/images/report.png and docs/images/operator.png.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser } from 'playwright-core'
import { parseScenario, loadScenario } from '../../simulations/scenario.js'
import { runScenario } from '../../simulations/run.js'
import { renderReport, CHARTS } from '../../simulations/report.js'
import type { Results } from '../../simulations/results.js'
import { REPO_ROOT } from '../../node/processes.js'
import { browserSkip, launchChromium, watchedPage, canvases, blankCanvases } from './browser.js'

const factoryModule = new URL('../simulations/fixtures/averaging-peers.ts', import.meta.url).href
const SCREENSHOTS = process.env.MURMUR_SCREENSHOTS === '1'
const HOSTILE = 'it\'s "quoted" </script><script>window.__pwned=1</script> <!-- \u2028\u2029 \\ ${x} `tick`'

/** A fixture with every chart's data: light peers, a variant, an attack, a partition, regions and the extras. */
async function fixtureResults (): Promise<Results> {
  const scenario = parseScenario({
    name: `fixture ${HOSTILE}`,
    description: `100 peers, the region's test rows ${HOSTILE}`,
    peers: 12,
    rounds: 5,
    dataset: 'none',
    model: 'none',
    network: { partitions: [{ fromRound: 1, toRound: 3 }] },
    adversaries: { fraction: 0.25, attack: { kind: 'sign-flip', scale: 1000 } },
    variants: [{ name: `no-attack ${HOSTILE}`, adversaries: { fraction: 0 } }],
    goals: { minRatioToCentralized: 0.1 }
  })
  const r = await runScenario(scenario, { workers: 0, factoryModule })
  const region = (name: string, small: boolean, dec: number, local: number) => ({
    region: name, peers: 2, policies: 100, exposure: 50.5, testPolicies: 40, small, decentralized: dec, localOnly: local,
    improvement: (dec - local) / local, sharedDecentralized: dec, sharedLocalOnly: local, sharedImprovement: (dec - local) / local
  })
  const group = { regions: ['a'], decentralized: 0.8, localOnly: 0.6, improvement: 0.33, worstRegion: 'a', worstImprovement: 0.1, sharedDecentralized: 0.8, sharedLocalOnly: 0.6, sharedImprovement: 0.33, sharedWorstRegion: 'a', sharedWorstImprovement: 0.1 }
  const rounds = r.details.perRound.map((p) => p.round)
  return {
    ...r,
    regions: { column: `Region ${HOSTILE}`, metric: `accuracy ${HOSTILE}`, higherIsBetter: true, evaluatedOn: 'region-test-rows', smallRule: HOSTILE, regions: [region(`R'1 ${HOSTILE}`, true, 0.7, 0.5), region('R2', false, 0.9, 0.8)], small: group, all: group },
    faults: { perRound: rounds.map((round) => ({ round, peersDown: round === 2 ? 3 : 0, mean: 0.5 + round / 10 })) },
    personal: { perPeer: r.details.perPeer.map((p, i) => ({ index: p.index, personal: 0.6 + i / 100, network: 0.55 + i / 90 })) },
    privacy: { perRound: rounds.map((round) => ({ round, epsilon: 0.3 * (round + 1) })), budget: 2 }
  } as unknown as Results
}

describe('report.html in Chromium', { timeout: 600_000, skip: browserSkip() }, () => {
  let browser: Browser
  let dir: string
  before(async () => { browser = await launchChromium(); dir = mkdtempSync(join(tmpdir(), 'murmur-report-browser-')) })
  after(async () => { await browser?.close(); rmSync(dir, { recursive: true, force: true }) })

  /** Writes the report, opens it, and checks errors and canvases; returns the page's visible text. */
  async function check (name: string, results: Results, expectCharts?: string[], screenshot?: string): Promise<string> {
    const file = join(dir, `${name}.html`)
    writeFileSync(file, await renderReport(results))
    const { page, errors } = await watchedPage(browser)
    try {
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' })
      const list = await canvases(page)
      assert.deepEqual(errors, [], `${name}: the page logs no error`)
      for (const id of ['metric', 'consensus', 'bytes', 'refused']) assert.ok(list.some((c) => c.id === id), `${name}: the ${id} chart is always there, got ${list.map((c) => c.id).join(' ')}`)
      assert.deepEqual(blankCanvases(list), [], `${name}: every canvas is drawn with data`)
      if (expectCharts != null) assert.deepEqual(list.map((c) => c.id), expectCharts, `${name}: the charts drawn`)
      assert.equal(await page.evaluate('window.__pwned'), undefined, `${name}: no string in the data ran as script`)
      if (screenshot != null) { mkdirSync(join(REPO_ROOT, 'docs', 'images'), { recursive: true }); await page.screenshot({ path: screenshot, fullPage: true }) }
      return await page.evaluate('document.body.innerText') as string
    } finally { await page.close() }
  }

  it('a fixture with every chart kind and hostile strings everywhere renders every chart', async () => {
    const results = await fixtureResults()
    const text = await check('fixture', results, CHARTS.map((c) => c.id))
    assert.ok(text.includes(`R'1 ${HOSTILE.replace(/\u2028|\u2029/g, '')}`.slice(0, 40)), 'the region name shows as text')
    assert.ok(text.includes('12 peers (the scenario\'s 100)'), 'the header states the run\'s peer count, not the description\'s')
    // without the extra sections, their charts are absent (no empty canvas)
    const plain = { ...results, regions: null, faults: undefined, personal: undefined, privacy: undefined } as unknown as Results
    await check('fixture-plain', plain, ['metric', 'variants', 'consensus', 'bytes', 'refused', 'peers'])
  })

  it('real small runs: default and fremtpl-regions (regions chart)', async () => {
    const shared = join(REPO_ROOT, '..', 'shared', 'datasets')
    if (!existsSync(shared)) { process.stderr.write(`skipping the real runs: ${shared} is missing\n`); return }
    const def = await runScenario(await loadScenario('default', { peers: 6, rounds: 2 }), { workers: 0 })
    const text = await check('default', def, undefined, SCREENSHOTS ? join(REPO_ROOT, 'docs', 'images', 'report.png') : undefined)
    assert.match(text, /6 peers \(the scenario's 100\)/, 'the header describes the 6-peer run')
    const fre = await runScenario(await loadScenario('fremtpl-regions', { peers: 22, rounds: 2 }), { workers: 0, variants: false })
    const list = await check('fremtpl-regions', fre)
    assert.match(list, /By Region/, 'the regions section is there')
  })

  it('every built-in scenario at a small size (MURMUR_BROWSER_ALL_SCENARIOS=1)', { skip: process.env.MURMUR_BROWSER_ALL_SCENARIOS === '1' ? false : 'set MURMUR_BROWSER_ALL_SCENARIOS=1 (about a minute)' }, async () => {
    // by-key partitions need a peer per key value
    const peers: Record<string, number> = { 'adult-countries': 42, 'fremtpl-regions': 22 }
    const names = readdirSync(join(REPO_ROOT, 'simulations', 'scenarios')).filter((f) => /\.ya?ml$/.test(f)).map((f) => f.replace(/\.ya?ml$/, ''))
    for (const name of names) {
      const results = await runScenario(await loadScenario(name, { peers: peers[name] ?? 6, rounds: 2 }), { workers: 0, variants: name !== 'scale' })
      await check(`scenario-${name}`, results)
    }
  })
})
