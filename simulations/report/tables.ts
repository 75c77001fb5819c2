/** The report's header and tables (server-side HTML; every value from the results goes through escapeHtml). */
import type { Results } from '../results.js'
import { escapeHtml } from './assets.js'
import { extraMetrics, worstPeer } from '../results.js'

export const fmt = (v: number | null | undefined, digits = 4): string => v == null || !Number.isFinite(v) ? '-' : Number(v.toPrecision(digits)).toString()
const pct = (v: number | null): string => v == null || !Number.isFinite(v) ? '-' : `${(v * 100).toFixed(1)}%`
const spec = (v: unknown): string => typeof v === 'string' ? v : JSON.stringify(v)
/** `{ kind: 'dirichlet', alpha: 0.3 }` as `dirichlet alpha=0.3`. */
const labelOf = (o: { kind: string, [k: string]: unknown }): string =>
  [o.kind, ...Object.entries(o).filter(([k]) => k !== 'kind').map(([k, v]) => `${k}=${spec(v)}`)].join(' ')

/**
 * The scenario's description, with a peer count it states ("100 peers, ...") corrected when this run had
 * another number of peers (`--peers 20`): the header describes the run actually made.
 */
export function runDescription (r: Results): string {
  const text = r.description ?? ''
  const m = /(\d[\d,]*)\s+peers\b/.exec(text)
  if (m == null) return text
  const stated = Number(m[1].replace(/,/g, ''))
  if (stated === r.peers) return text
  return text.slice(0, m.index) + `${r.peers} peers (the scenario's ${m[1]})` + text.slice(m.index + m[0].length)
}

export function header (r: Results): string {
  const d = r.details
  const s = d.scenario
  return `<h1>Murmur simulation: ${escapeHtml(r.scenario)}</h1>
<p class="sub" id="description">${escapeHtml(runDescription(r))}</p>
<p class="sub" id="run">This run: ${r.peers} peers, ${r.rounds} rounds, rule <code>${escapeHtml(r.rule)}</code>, topology <code>${escapeHtml(s.topology.kind)}</code>,
dataset <code>${escapeHtml(spec(s.dataset))}</code>, partition <code>${escapeHtml(labelOf(s.partition))}</code>,
model <code>${escapeHtml(spec(s.model))}</code>, seed ${escapeHtml(String(r.seed))}${d.attack != null ? `, attack <code>${escapeHtml(d.attack)}</code>` : ''}.</p>`
}

export function summary (r: Results): string {
  const m = r.metric
  const extra = extraMetrics(r.details.task ?? null, m.name)
  type Fig = { metrics?: Record<string, number>, intervals?: Record<string, [number, number]> }
  const iv = (f: Fig): string => { const i = f.intervals?.[m.name]; return i == null ? '' : `[${fmt(i[0])}, ${fmt(i[1])}]` }
  const more = (f: Fig): string => extra.map((k) => `<td>${fmt(f.metrics?.[k])}</td>`).join('')
  const worst = worstPeer(r)
  const kept = r.signalKept == null
    ? ''
    : `<p class="note" id="signal-kept">Signal kept: the network keeps ${pct(r.signalKept)}${r.signalKeptInterval != null ? ` (95% interval ${pct(r.signalKeptInterval[0])} to ${pct(r.signalKeptInterval[1])})` : ''} of the deviance the centralized model explains.</p>`
  return `<h2>Summary (${escapeHtml(m.name)}, ${m.higherIsBetter ? 'higher' : 'lower'} is better)</h2>
<table><tr><th></th><th>mean</th><th>95% interval</th><th>worst peer</th><th>10th percentile</th><th>consensus distance</th>${extra.map((k) => `<th>${escapeHtml(k)}</th>`).join('')}</tr>
<tr><td>decentralized (honest peers)</td><td>${fmt(r.decentralized.mean)}</td><td>${iv(r.decentralized)}</td><td>${fmt(r.decentralized.min)}</td><td>${fmt(r.decentralized.p10)}</td><td>${fmt(r.decentralized.consensusDistance, 3)}</td>${more(r.decentralized)}</tr>
<tr><td>centralized (pooled data)</td><td>${fmt(r.centralized.value)}</td><td>${iv(r.centralized)}</td><td></td><td></td><td></td>${more(r.centralized)}</tr>
<tr><td>local-only (each peer alone)</td><td>${fmt(r.localOnly.mean)}</td><td>${iv(r.localOnly)}</td><td></td><td></td><td></td>${more(r.localOnly)}</tr>
<tr><td>FedAvg (central server)</td><td>${fmt(r.fedavg.value)}</td><td>${iv(r.fedavg)}</td><td></td><td></td><td></td>${more(r.fedavg)}</tr>
</table>
${kept}<p class="note">Intervals: ${Math.round((r.details.bootstrap?.level ?? 0.95) * 100)}% bootstrap over the test rows (${r.details.bootstrap?.resamples ?? 0} seeded resamples; a mean over peers from ${r.details.bootstrap?.intervalPeers.length ?? 0} of them).${worst != null ? ` Worst peer: ${escapeHtml(worst.name)} (${fmt(worst.value)}).` : ''}
Bytes sent per peer per round: ${fmt(r.bytesPerPeerPerRound)}. Wall time ${r.wallSeconds.toFixed(1)} s, ${r.peerStepsPerSecond.toFixed(0)} peer training steps/s, max RSS ${r.maxRssMiB.toFixed(0)} MiB, ${r.timing.workers} worker thread(s).</p>`
}

export function goals (r: Results): string {
  if (r.details.goals.length === 0) return ''
  const rows = r.details.goals.map((g) => `<tr><td class="${g.pass == null ? '' : g.pass ? 'pass' : 'fail'}">${g.pass == null ? '?' : g.pass ? 'PASS' : 'FAIL'}</td><td>${escapeHtml(g.goal)}</td><td>${escapeHtml(g.target)}</td><td>${escapeHtml(g.measured)}${g.note != null ? `<br><span class="note">${escapeHtml(g.note)}</span>` : ''}</td></tr>`).join('')
  return `<h2>Goals</h2><table><tr><th></th><th>goal</th><th>target</th><th>measured</th></tr>${rows}</table>`
}

export function variants (r: Results): string {
  if (r.details.variants.length === 0) return ''
  const rows = r.details.variants.map((v) => `<tr><td>${escapeHtml(v.name)}</td><td>${escapeHtml(v.rule)}</td><td>${escapeHtml(v.attack ?? 'none')}</td><td>${fmt(v.decentralized.mean)}</td><td>${fmt(v.decentralized.min)}</td><td>${fmt(v.decentralized.p10)}</td><td>${fmt(v.decentralized.consensusDistance, 3)}</td><td>${fmt(v.centralized?.value)}</td></tr>`).join('')
  return `<h2>Variants (same scenario, fields changed)</h2><table><tr><th>variant</th><th>rule</th><th>attack</th><th>mean</th><th>worst</th><th>p10</th><th>consensus</th><th>its centralized</th></tr>${rows}</table>`
}

/** The honest peers, worst first in the goal metric, by name (shard or region), beside their local-only models. */
export function peerTable (r: Results, max = 12): string {
  const hib = r.metric.higherIsBetter
  const list = r.details.perPeer.filter((p) => p.metric != null).sort((a, b) => hib ? (a.metric as number) - (b.metric as number) : (b.metric as number) - (a.metric as number))
  if (list.length === 0) return ''
  const rows = list.slice(0, max).map((p) => `<tr><td>${escapeHtml(p.name)}</td><td>${p.index}</td><td><code>${escapeHtml(p.key)}</code></td><td>${fmt(p.metric)}</td><td>${fmt(p.localOnly)}</td></tr>`).join('')
  return `<h2>Peers, worst first (${Math.min(max, list.length)} of ${list.length})</h2>
<table><tr><th>peer (shard)</th><th>index</th><th>key</th><th>${escapeHtml(r.metric.name)} in the network</th><th>alone (local-only)</th></tr>${rows}</table>`
}

export function regionTable (r: Results): string {
  const reg = r.regions
  if (reg == null) return ''
  type Group = typeof reg.all
  const cells = (g: Group | RegionLike): string => `<td>${fmt(g.decentralized)}</td><td>${fmt(g.localOnly)}</td><td>${pct(g.improvement)}</td><td>${fmt(g.sharedDecentralized)}</td><td>${fmt(g.sharedLocalOnly)}</td><td>${pct(g.sharedImprovement)}</td>`
  const rows = reg.regions.map((x) => `<tr${x.small ? ' class="small"' : ''}><td>${escapeHtml(x.region)}${x.small ? ' *' : ''}</td><td>${x.peers}</td><td>${x.policies}</td><td>${fmt(x.exposure, 5)}</td><td>${x.testPolicies}</td>${cells(x)}</tr>`).join('') +
    ([['small regions (*)', reg.small], ['all regions', reg.all]] as Array<[string, Group]>).map(([name, g]) => `<tr class="total"><td>${escapeHtml(name)}</td><td></td><td></td><td></td><td></td>${cells(g)}</tr>`).join('')
  return `<h2>By ${escapeHtml(reg.column ?? 'partition key')}: in the network vs alone</h2>
<p class="note">${escapeHtml(reg.metric)} of each region's honest peers on the region's own rows of the held-out test split (the policies that region would price), averaged over the region's peers: their final models in the network, and the same peers trained alone on their own shards (the local-only baseline); and the same models on the whole shared test split (all regions' policies). "Better by": relative improvement over alone. * small regions: ${escapeHtml(reg.smallRule)}; totals weighted by test rows (shared split: by peers).</p>
<table><tr><th></th><th></th><th></th><th></th><th></th><th colspan="3" style="text-align:center">on the region's own test rows</th><th colspan="3" style="text-align:center">on the shared test split</th></tr>
<tr><th>region</th><th>peers</th><th>policies</th><th>exposure</th><th>test rows</th><th>network</th><th>alone</th><th>better by</th><th>network</th><th>alone</th><th>better by</th></tr>${rows}</table>`
}

interface RegionLike { decentralized: number | null, localOnly: number | null, improvement: number | null, sharedDecentralized: number | null, sharedLocalOnly: number | null, sharedImprovement: number | null }
