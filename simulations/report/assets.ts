/**
 * The files the report inlines: Chart.js's UMD build (from node_modules, so the page needs no network) and the
 * report's own browser script (client.js beside this file). Read once per process.
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

let chartJs: Promise<string> | null = null
let client: Promise<string> | null = null

/** Chart.js's UMD build. chart.js does not export dist/chart.umd.js: it lives beside the main file (dist/chart.cjs). */
export async function loadChartJs (): Promise<string> {
  chartJs ??= readFile(join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js'), 'utf8')
  return await chartJs
}

export async function loadClientScript (): Promise<string> {
  client ??= readFile(new URL('./client.js', import.meta.url), 'utf8')
  return await client
}

/**
 * JSON for a `<script type="application/json">` block: `<` is written as \u003c, so no string in the data can
 * close the block or open a comment; U+2028/U+2029 are escaped too (valid JSON, but kept out of the page's text).
 */
export function jsonForScript (value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
}

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c] as string))
