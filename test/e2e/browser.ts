// Headless Chromium for the browser tests: Debian's `chromium` (scripts/ensure-chromium.sh installs it), driven by
// playwright-core with executablePath (playwright never downloads a browser here). Every page is watched for
// console errors and page errors, and every request leaving the allowed origins is aborted and counted as an
// error (the pages must work without network access).
import { existsSync } from 'node:fs'
import type { Browser, Page } from 'playwright-core'

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']

/** The Chromium to drive (env MURMUR_CHROMIUM first), or null. */
export function findChromium (): string | null {
  const env = process.env.MURMUR_CHROMIUM
  if (env != null && env !== '') return existsSync(env) ? env : null
  return CANDIDATES.find((p) => existsSync(p)) ?? null
}

/** A skip message when no browser can run here, else false. */
export function browserSkip (): string | false {
  return findChromium() == null ? 'no Chromium found (run scripts/ensure-chromium.sh, or set MURMUR_CHROMIUM)' : false
}

export async function launchChromium (): Promise<Browser> {
  const { chromium } = await import('playwright-core')
  const executablePath = findChromium()
  if (executablePath == null) throw new Error('no Chromium')
  // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start
  return await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
}

export interface WatchedPage { page: Page, errors: string[] }

/** A new page whose console errors, page errors and outside requests land in `errors`. */
export async function watchedPage (browser: Browser, allowedOrigins: string[] = []): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
  const errors: string[] = []
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console error: ${m.text()}`) })
  page.on('pageerror', (e) => { errors.push(`page error: ${e.message}`) })
  await page.route('**/*', async (route) => {
    const url = route.request().url()
    if (url.startsWith('file:') || url.startsWith('data:') || allowedOrigins.some((o) => url.startsWith(o))) { await route.continue(); return }
    errors.push(`outside request: ${url}`)
    await route.abort()
  })
  return { page, errors }
}

export interface CanvasState { id: string, width: number, height: number, painted: number, chart: boolean, points: number }

/** Every canvas on the page: painted (non-transparent) pixels, whether a Chart drew it, and its data points. */
/** Runs in the page (a string: the test's TypeScript has no DOM types). */
const CANVAS_PROBE = `[...document.querySelectorAll('canvas')].map((c) => {
  const ctx = c.getContext('2d')
  let painted = 0
  if (ctx != null && c.width > 0 && c.height > 0) {
    const d = ctx.getImageData(0, 0, c.width, c.height).data
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) painted++
  }
  const chart = window.Chart != null ? window.Chart.getChart(c) : undefined
  const points = chart == null ? 0 : chart.data.datasets.reduce((n, ds) => n + ds.data.filter((v) => v != null && (typeof v !== 'object' || v.y != null)).length, 0)
  return { id: c.id, width: c.width, height: c.height, painted, chart: chart != null, points }
})`

export async function canvases (page: Page): Promise<CanvasState[]> {
  return await page.evaluate(CANVAS_PROBE) as CanvasState[]
}

/** Problems to assert on: canvases that are blank, not charts, or without data. */
export function blankCanvases (list: CanvasState[]): string[] {
  return list.filter((c) => !c.chart || c.painted < 500 || c.points === 0).map((c) => `${c.id}: chart=${String(c.chart)} painted=${c.painted} points=${c.points} (${c.width}x${c.height})`)
}
