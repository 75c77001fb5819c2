/**
 * The operator page served at `/`: one self-contained HTML page (Chart.js's UMD build and page-client.js
 * inlined; no network access beyond this API). It holds no data: it asks for the API token once (kept in the
 * browser's localStorage for this origin; `#token=...` in the address also works), then polls the API
 * (/status, /peers, /metrics/history, /database) every 2 seconds and draws: this peer's metric over rounds,
 * neighbours and connections, refusals by reason, rounds per minute, database size, health and its reasons,
 * manifest version and members.
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

export interface Page { headers: Record<string, string>, body: string }

/** Scripts and styles inline only, requests to this origin only. */
const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const STYLE = `body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem auto;max-width:1200px;color:#1d232a;padding:0 1rem}
h1{font-size:1.4rem;margin:0 0 .2rem} h2{font-size:1.05rem;margin:1.2rem 0 .4rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.sub{color:#566;margin:0 0 .8rem} .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.6rem}
.card{border:1px solid #e3e3e3;border-radius:6px;padding:.5rem .7rem} .card .k{color:#566;font-size:.8rem} .card .v{font-size:1.25rem;font-weight:600}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:0 1.5rem} .chart{position:relative;height:260px}
#health.ok{color:#137333} #health.bad{color:#b3261e} #reasons{margin:.2rem 0 0 1rem;color:#b3261e}
table{border-collapse:collapse;font-size:.85rem} td,th{padding:.2rem .6rem;border-bottom:1px solid #eee;text-align:left}
#login{border:1px solid #ccc;border-radius:6px;padding:1rem;max-width:460px} #login input{width:100%;margin:.4rem 0;padding:.3rem}
.hidden{display:none} #error{color:#b3261e} code{background:#f3f3f3;padding:0 .2rem}`

const BODY = `<h1>Murmur peer <span id="peer">…</span></h1>
<p class="sub" id="network">connecting…</p>
<form id="login" class="hidden"><b>API token</b><p class="sub">From <code>&lt;datadir&gt;/api-token</code> on the daemon's machine. Kept in this browser for this address.</p>
<input id="token" type="password" autocomplete="off" aria-label="API token"><button type="submit">Open</button></form>
<p id="error"></p>
<div id="main" class="hidden">
<div class="cards">
<div class="card"><div class="k">health</div><div class="v" id="health">…</div></div>
<div class="card"><div class="k">round</div><div class="v" id="round">…</div></div>
<div class="card"><div class="k">rounds per minute</div><div class="v" id="rpm">…</div></div>
<div class="card"><div class="k">metric</div><div class="v" id="metric">…</div></div>
<div class="card"><div class="k">neighbours / connections</div><div class="v" id="neighbours">…</div></div>
<div class="card"><div class="k">refused updates</div><div class="v" id="refused">…</div></div>
<div class="card"><div class="k">database</div><div class="v" id="database">…</div></div>
<div class="card"><div class="k">manifest version / members</div><div class="v" id="manifest">…</div></div>
</div>
<ul id="reasons"></ul>
<div class="grid">
<section><h2>Metric over rounds</h2><div class="chart"><canvas id="chart-metric"></canvas></div></section>
<section><h2>Rounds per minute</h2><div class="chart"><canvas id="chart-rpm"></canvas></div></section>
<section><h2>Neighbours and connections</h2><div class="chart"><canvas id="chart-peers"></canvas></div></section>
<section><h2>Refused updates by reason</h2><div class="chart"><canvas id="chart-refused"></canvas></div></section>
</div>
<h2>Connections</h2><table><thead><tr><th></th><th>peer</th><th>direction</th><th>address</th></tr></thead><tbody id="connections"></tbody></table>
<p class="sub" id="updated"></p>
</div>`

let page: Promise<Page> | null = null

export async function operatorPage (): Promise<Page> {
  page ??= (async () => {
    const chartPath = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js')
    const [lib, client] = await Promise.all([readFile(chartPath, 'utf8'), readFile(new URL('./page-client.js', import.meta.url), 'utf8')])
    const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<title>Murmur peer</title>
<style>
${STYLE}
</style></head><body>
${BODY}
<script>${lib}</script>
<script>${client}</script>
</body></html>
`
    return {
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': CSP, 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff' },
      body
    }
  })()
  return await page
}

