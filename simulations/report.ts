/**
 * `report.html`: one self-contained page (chart.js inlined from node_modules, data inlined as JSON) with the
 * metric per round (mean, worst peer, 10th percentile) against the centralized, local-only and FedAvg
 * baselines, consensus distance, bytes per peer, refusals by reason, variants side by side, and per-peer results.
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Results } from './results.js'

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c] as string))
const fmt = (v: number | null | undefined, digits = 4): string => v == null || !Number.isFinite(v) ? '-' : Number(v.toPrecision(digits)).toString()

let chartJs: string | null = null
async function loadChartJs (): Promise<string> {
  if (chartJs == null) {
    const require = createRequire(import.meta.url)
    // chart.js does not export dist/chart.umd.js; it lives next to the package's main file (dist/chart.cjs).
    const path = join(dirname(require.resolve('chart.js')), 'chart.umd.js')
    chartJs = await readFile(path, 'utf8')
  }
  return chartJs
}

export async function renderReport (results: Results): Promise<string> {
  const lib = await loadChartJs()
  const data = JSON.stringify({
    metric: results.metric,
    curve: results.curve,
    perRound: results.details.perRound,
    centralized: results.centralized.value,
    localOnly: results.localOnly.mean,
    fedavg: results.fedavg.value,
    fedavgCurve: results.details.baselines.fedavg.curve,
    refused: results.refused,
    variants: results.details.variants,
    perPeer: results.details.perPeer,
    peers: results.peers,
    regions: results.regions
  }).replace(/</g, '\\u003c')
  const m = results.metric
  const d = results.details
  const goals = d.goals.map((g) => `<tr><td class="${g.pass == null ? '' : g.pass ? 'pass' : 'fail'}">${g.pass == null ? '?' : g.pass ? 'PASS' : 'FAIL'}</td><td>${escapeHtml(g.goal)}</td><td>${escapeHtml(g.target)}</td><td>${escapeHtml(g.measured)}</td></tr>`).join('')
  const variants = d.variants.map((v) => `<tr><td>${escapeHtml(v.name)}</td><td>${escapeHtml(v.rule)}</td><td>${escapeHtml(v.attack ?? 'none')}</td><td>${fmt(v.decentralized.mean)}</td><td>${fmt(v.decentralized.min)}</td><td>${fmt(v.decentralized.p10)}</td><td>${fmt(v.decentralized.consensusDistance, 3)}</td><td>${fmt(v.centralized?.value)}</td></tr>`).join('')
  const pct = (v: number | null): string => v == null || !Number.isFinite(v) ? '-' : `${(v * 100).toFixed(1)}%`
  const reg = results.regions
  const regionRows = reg == null ? '' : reg.regions.map((x) => `<tr${x.small ? ' class="small"' : ''}><td>${escapeHtml(x.region)}${x.small ? ' *' : ''}</td><td>${x.peers}</td><td>${x.policies}</td><td>${fmt(x.exposure, 5)}</td><td>${x.testPolicies}</td><td>${fmt(x.decentralized)}</td><td>${fmt(x.localOnly)}</td><td>${pct(x.improvement)}</td><td>${fmt(x.sharedDecentralized)}</td><td>${fmt(x.sharedLocalOnly)}</td><td>${pct(x.sharedImprovement)}</td></tr>`).join('') +
    [['small regions (*)', reg.small], ['all regions', reg.all] as const].map(([name, g]) => `<tr class="total"><td>${escapeHtml(name as string)}</td><td></td><td></td><td></td><td></td><td>${fmt((g as typeof reg.small).decentralized)}</td><td>${fmt((g as typeof reg.small).localOnly)}</td><td>${pct((g as typeof reg.small).improvement)}</td><td>${fmt((g as typeof reg.small).sharedDecentralized)}</td><td>${fmt((g as typeof reg.small).sharedLocalOnly)}</td><td>${pct((g as typeof reg.small).sharedImprovement)}</td></tr>`).join('')
  const regionSection = reg == null
    ? ''
    : `<h2>By ${escapeHtml(reg.column ?? 'partition key')}: in the network vs alone</h2>
<p class="note">${escapeHtml(reg.metric)} of each region's honest peers on the region's own rows of the held-out test split (the policies that region would price), averaged over the region's peers: their final models in the network, and the same peers trained alone on their own shards (the local-only baseline); and the same models on the whole shared test split (all regions' policies). "Better by": relative improvement over alone. * small regions: ${escapeHtml(reg.smallRule)}; totals weighted by test rows (shared split: by peers).</p>
<table><tr><th></th><th></th><th></th><th></th><th></th><th colspan="3" style="text-align:center">on the region's own test rows</th><th colspan="3" style="text-align:center">on the shared test split</th></tr>
<tr><th>region</th><th>peers</th><th>policies</th><th>exposure</th><th>test rows</th><th>network</th><th>alone</th><th>better by</th><th>network</th><th>alone</th><th>better by</th></tr>${regionRows}</table>
<div class="chart wide"><canvas id="regions"></canvas></div>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Murmur simulation: ${escapeHtml(results.scenario)}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1d232a;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.sub{color:#566;margin-top:0} table{border-collapse:collapse;margin:.5rem 0} td,th{padding:.25rem .7rem;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left} .pass{color:#137333;font-weight:600} .fail{color:#b3261e;font-weight:600}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1.5rem} .chart{position:relative;height:320px} .wide{height:380px}
.note{color:#566;font-size:.9rem} code{background:#f3f3f3;padding:0 .2rem} tr.small td{background:#fff8e1} tr.total td{font-weight:600;border-top:1px solid #ccc}
</style></head><body>
<h1>Murmur simulation: ${escapeHtml(results.scenario)}</h1>
<p class="sub">${escapeHtml(results.description ?? '')}</p>
<p class="sub">${results.peers} peers, ${results.rounds} rounds, rule <code>${escapeHtml(results.rule)}</code>, topology <code>${escapeHtml(d.scenario.topology.kind)}</code>,
dataset <code>${escapeHtml(typeof d.scenario.dataset === 'string' ? d.scenario.dataset : JSON.stringify(d.scenario.dataset))}</code>,
model <code>${escapeHtml(typeof d.scenario.model === 'string' ? d.scenario.model : JSON.stringify(d.scenario.model))}</code>, seed ${escapeHtml(String(results.seed))}${d.attack != null ? `, attack <code>${escapeHtml(d.attack)}</code>` : ''}.</p>

<h2>Summary (${escapeHtml(m.name)}, ${m.higherIsBetter ? 'higher' : 'lower'} is better)</h2>
<table><tr><th></th><th>mean</th><th>worst peer</th><th>10th percentile</th><th>consensus distance</th></tr>
<tr><td>decentralized (honest peers)</td><td>${fmt(results.decentralized.mean)}</td><td>${fmt(results.decentralized.min)}</td><td>${fmt(results.decentralized.p10)}</td><td>${fmt(results.decentralized.consensusDistance, 3)}</td></tr>
<tr><td>centralized (pooled data)</td><td>${fmt(results.centralized.value)}</td><td></td><td></td><td></td></tr>
<tr><td>local-only (each peer alone)</td><td>${fmt(results.localOnly.mean)}</td><td></td><td></td><td></td></tr>
<tr><td>FedAvg (central server)</td><td>${fmt(results.fedavg.value)}</td><td></td><td></td><td></td></tr>
</table>
<p class="note">Bytes sent per peer per round: ${fmt(results.bytesPerPeerPerRound)}. Wall time ${results.wallSeconds.toFixed(1)} s, ${results.peerStepsPerSecond.toFixed(0)} peer training steps/s, max RSS ${results.maxRssMiB.toFixed(0)} MiB, ${results.timing.workers} worker thread(s).</p>
${goals !== '' ? `<h2>Goals</h2><table><tr><th></th><th>goal</th><th>target</th><th>measured</th></tr>${goals}</table>` : ''}
${variants !== '' ? `<h2>Variants (same scenario, fields changed)</h2><table><tr><th>variant</th><th>rule</th><th>attack</th><th>mean</th><th>worst</th><th>p10</th><th>consensus</th><th>its centralized</th></tr>${variants}</table>` : ''}

${regionSection}

<h2>${escapeHtml(m.name)} per round</h2>
<div class="chart wide"><canvas id="metric"></canvas></div>
<p class="note">Every honest peer is evaluated, every round shown, on the same seeded sample of the held-out test split (${d.scenario.evaluation.curveRows} rows; the last round too, so the curve compares across rounds); the summary's final figures and the dashed baselines use the whole test split. "Worst peer" and "10th percentile" count from the bad end.</p>
${d.variants.length > 0 ? '<h2>Variants per round (mean of honest peers)</h2><div class="chart wide"><canvas id="variants"></canvas></div>' : ''}
<div class="grid">
<div><h2>Consensus distance</h2><div class="chart"><canvas id="consensus"></canvas></div>
<p class="note">Root mean square distance of honest peers' models to their average (log scale). Shaded rounds: network partitioned.</p></div>
<div><h2>Bytes per peer</h2><div class="chart"><canvas id="bytes"></canvas></div>
<p class="note">Bytes sent per peer in each round, and messages lost or undeliverable.</p></div>
<div><h2>Refused updates by reason</h2><div class="chart"><canvas id="refused"></canvas></div>
<p class="note">Every refused update has a named reason (validation, replay, equivocation, round window...).</p></div>
<div><h2>Each peer against its local-only model</h2><div class="chart"><canvas id="peers"></canvas></div>
<p class="note">Points above the diagonal: the peer did better in the network than alone${m.higherIsBetter ? '' : ' (axes inverted: lower is better)'}.</p></div>
</div>
<script>${lib}</script>
<script>
const D = ${data};
const C = ['#1a73e8','#d93025','#f9ab00','#188038','#9334e6','#e8710a','#12b5cb','#5f6368'];
const rounds = D.perRound.map(r => r.round + 1);
const hl = (label, v, color) => ({ label, data: rounds.map(() => v), borderColor: color, borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 });
const byRound = (pts) => { const m = new Map(pts.map(p => [p.round, p])); return D.perRound.map(r => m.get(r.round)); };
const curve = byRound(D.curve);
const metricSets = [
  { label: 'decentralized mean', data: curve.map(p => p ? p.mean : null), borderColor: C[0], spanGaps: true },
  { label: 'worst peer', data: curve.map(p => p ? p.min : null), borderColor: C[1], spanGaps: true },
  { label: '10th percentile', data: curve.map(p => p ? p.p10 : null), borderColor: C[2], spanGaps: true }
];
if (D.centralized != null) metricSets.push(hl('centralized', D.centralized, C[3]));
if (D.localOnly != null) metricSets.push(hl('local-only mean', D.localOnly, C[7]));
if (D.fedavgCurve && D.fedavgCurve.length > 0) { const f = new Map(D.fedavgCurve.map(p => [p.round, p.value])); metricSets.push({ label: 'FedAvg', data: D.perRound.map(r => f.has(r.round) ? f.get(r.round) : null), borderColor: C[4], borderDash: [2, 2], spanGaps: true, pointRadius: 0 }); }
else if (D.fedavg != null) metricSets.push(hl('FedAvg', D.fedavg, C[4]));
const common = { responsive: true, maintainAspectRatio: false, animation: false, interaction: { mode: 'index', intersect: false }, scales: { x: { title: { display: true, text: 'round' } } } };
new Chart(document.getElementById('metric'), { type: 'line', data: { labels: rounds, datasets: metricSets }, options: { ...common, scales: { ...common.scales, y: { title: { display: true, text: D.metric.name } } } } });
if (D.variants.length > 0) {
  const sets = [{ label: 'this run', data: curve.map(p => p ? p.mean : null), borderColor: C[0], spanGaps: true }];
  D.variants.forEach((v, i) => { const c = byRound(v.curve); sets.push({ label: v.name, data: c.map(p => p ? p.mean : null), borderColor: C[(i + 1) % C.length], spanGaps: true }); });
  if (D.centralized != null) sets.push(hl('centralized', D.centralized, C[3]));
  new Chart(document.getElementById('variants'), { type: 'line', data: { labels: rounds, datasets: sets }, options: { ...common, scales: { ...common.scales, y: { title: { display: true, text: D.metric.name } } } } });
}
const consSets = [{ label: 'consensus distance', data: D.perRound.map(r => r.consensusDistance), borderColor: C[0], spanGaps: true }];
D.variants.forEach((v, i) => consSets.push({ label: v.name, data: v.consensus, borderColor: C[(i + 1) % C.length], spanGaps: true }));
const partitioned = { id: 'shade', beforeDraw(chart) { const { ctx, chartArea: a, scales: { x } } = chart; ctx.save(); ctx.fillStyle = 'rgba(217,48,37,0.08)'; D.perRound.forEach((r, i) => { if (r.partitioned) { const x0 = x.getPixelForValue(i - 0.5), x1 = x.getPixelForValue(i + 0.5); ctx.fillRect(x0, a.top, x1 - x0, a.bottom - a.top); } }); ctx.restore(); } };
new Chart(document.getElementById('consensus'), { type: 'line', data: { labels: rounds, datasets: consSets }, options: { ...common, scales: { ...common.scales, y: { type: 'logarithmic' } } }, plugins: [partitioned] });
new Chart(document.getElementById('bytes'), { type: 'bar', data: { labels: rounds, datasets: [
  { label: 'bytes sent per peer', data: D.perRound.map(r => r.bytesSent / D.peers), backgroundColor: C[0], yAxisID: 'y' },
  { label: 'messages lost + undeliverable', type: 'line', data: D.perRound.map(r => r.messagesLost + r.messagesUnreachable + r.messagesDropped), borderColor: C[1], yAxisID: 'y1' } ] },
  options: { ...common, scales: { ...common.scales, y: { position: 'left' }, y1: { position: 'right', grid: { drawOnChartArea: false } } } } });
const reasons = Object.keys(D.refused);
new Chart(document.getElementById('refused'), { type: 'bar', data: { labels: reasons.length > 0 ? reasons : ['none'], datasets: [{ label: 'refused updates', data: reasons.length > 0 ? reasons.map(k => D.refused[k]) : [0], backgroundColor: C[1] }] }, options: { ...common, indexAxis: 'y', scales: {} } });
const pts = D.perPeer.filter(p => p.metric != null && p.localOnly != null).map(p => ({ x: p.localOnly, y: p.metric }));
const all = pts.flatMap(p => [p.x, p.y]); const lo = Math.min(...all), hi = Math.max(...all);
new Chart(document.getElementById('peers'), { type: 'scatter', data: { datasets: [
  { label: 'peer (x: alone, y: in the network)', data: pts, backgroundColor: C[0] },
  { label: 'equal', type: 'line', data: [{ x: lo, y: lo }, { x: hi, y: hi }], borderColor: C[7], borderDash: [4, 4], pointRadius: 0 } ] },
  options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { x: { reverse: !D.metric.higherIsBetter, title: { display: true, text: 'local-only ' + D.metric.name } }, y: { reverse: !D.metric.higherIsBetter, title: { display: true, text: 'decentralized ' + D.metric.name } } } } });
if (D.regions != null) {
  const R = D.regions.regions;
  new Chart(document.getElementById('regions'), { type: 'bar', data: { labels: R.map(r => r.region + (r.small ? ' *' : '')), datasets: [
    { label: 'in the network', data: R.map(r => r.decentralized), backgroundColor: C[0] },
    { label: 'alone (local-only)', data: R.map(r => r.localOnly), backgroundColor: C[7] } ] },
    options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { title: { display: true, text: D.regions.metric + ' on the region\'s test rows' } } } } });
}
</script>
</body></html>
`
}
