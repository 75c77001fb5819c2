/**
 * `report.html`: one self-contained page. Chart.js and the report's browser script (client.js) are inlined as
 * files; the data travels as JSON in a `<script type="application/json">` block, so nothing in the results can
 * break the script. The charts are the table in charts.ts (metric per round against the baselines, variants,
 * consensus distance, bytes per peer, refusals by reason, each peer against its local-only model, regions,
 * and the sections other issues add); a chart whose data the results lack is left out.
 *
 * @example
 * ```ts
 * import { renderReport } from './simulations/report/index.js'
 * await writeFile('report.html', await renderReport(results))
 * ```
 */
import type { Results } from '../results.js'
import { CHARTS, type ChartConfig, type ChartDef } from './charts.js'
import { escapeHtml, jsonForScript, loadChartJs, loadClientScript } from './assets.js'
import { personalTable } from './personal-table.js'
import { privacyTable } from './privacy-table.js'
import { goals, header, peerTable, regionTable, summary, variants } from './tables.js'

export { CHARTS, type ChartDef, type ChartConfig } from './charts.js'
export { runDescription } from './tables.js'

/** The charts this report draws: every definition whose data the results hold, with its configuration. */
export function reportCharts (results: Results, defs: ChartDef[] = CHARTS): Array<{ def: ChartDef, config: ChartConfig }> {
  return defs.flatMap((def) => { const config = def.build(results); return config == null ? [] : [{ def, config }] })
}

const STYLE = `body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1d232a;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.sub{color:#566;margin-top:0} table{border-collapse:collapse;margin:.5rem 0} td,th{padding:.25rem .7rem;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left} .pass{color:#137333;font-weight:600} .fail{color:#b3261e;font-weight:600}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:0 1.5rem} .charts>section.wide{grid-column:1/-1}
.chart{position:relative;height:320px} .wide .chart{height:380px}
.note{color:#566;font-size:.9rem} code{background:#f3f3f3;padding:0 .2rem} tr.small td{background:#fff8e1} tr.total td{font-weight:600;border-top:1px solid #ccc}`

export async function renderReport (results: Results): Promise<string> {
  const [lib, client] = await Promise.all([loadChartJs(), loadClientScript()])
  const charts = reportCharts(results)
  const sections = charts.map(({ def }) => `<section class="${def.wide === true ? 'wide' : 'half'}" id="section-${def.id}"><h2>${escapeHtml(def.title(results))}</h2>
<div class="chart"><canvas id="${def.id}"></canvas></div>${def.note != null ? `\n<p class="note">${escapeHtml(def.note(results))}</p>` : ''}</section>`).join('\n')
  const data = jsonForScript({ charts: charts.map(({ def, config }) => ({ id: def.id, config })) })
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Murmur simulation: ${escapeHtml(results.scenario)}</title>
<style>
${STYLE}
</style></head><body>
${header(results)}

${summary(results)}
${goals(results)}
${variants(results)}
${regionTable(results)}
${personalTable(results)}
${privacyTable(results)}
${peerTable(results)}
<div class="charts">
${sections}
</div>
<script type="application/json" id="murmur-data">${data}</script>
<script>${lib}</script>
<script>${client}</script>
</body></html>
`
}
