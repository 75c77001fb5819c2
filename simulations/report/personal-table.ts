/** The report's personal-models tables (results.json `personal`, simulations/personal.ts): per region and per peer. */
import type { Results } from '../results.js'
import { ONE_SE_TEXT, cannotTell, type PersonalReport } from '../personal.js'
import { escapeHtml } from './assets.js'
import { fmt } from './tables.js'

type Three = PersonalReport['all']['own']
const three = (t: Three): string => `<td>${fmt(t.network)}</td><td>${fmt(t.personal)}</td><td>${fmt(t.localOnly)}</td>`
const pm = (d: { mean: number, halfWidth: number } | null): string => d == null ? '-' : `${fmt(d.mean, 3)} ± ${fmt(d.halfWidth, 2)}`

export function personalTable (r: Results): string {
  const p = r.personal
  if (p == null || !Array.isArray(p.perPeer) || p.all == null) return ''
  const head = (first: string, extraTop = '', extra = ''): string => `<tr><th></th><th></th><th colspan="3" style="text-align:center">on own rows (${escapeHtml(p.ownRows)})</th><th colspan="3" style="text-align:center">on the shared test split</th>${extraTop}</tr>
<tr><th>${first}</th><th>z</th><th>network</th><th>personal</th><th>local-only</th><th>network</th><th>personal</th><th>local-only</th>${extra}</tr>`
  const total = `<tr class="total"><td>all peers</td><td>${fmt(p.all.meanZ, 2)}</td>${three(p.all.own)}${three(p.all.shared)}</tr>`
  const regions = p.perRegion == null
    ? ''
    : `<h3>By region (means over the region's peers)</h3><table>${head('region (peers)')}${p.perRegion.map((g) => `<tr><td>${escapeHtml(g.region)} (${g.peers})</td><td>${fmt(g.meanZ, 2)}</td>${three(g.own)}${three(g.shared)}</tr>`).join('')}${total}</table>`
  const peers = p.perPeer.map((x) => `<tr><td>${x.index}${x.region != null ? ` ${escapeHtml(x.region)}` : ''}</td><td>${fmt(x.z, 2)}</td>${three(x.own)}${three(x.shared)}<td>${pm(x.own.vsNetwork)}</td><td>${pm(x.own.vsLocalOnly)}</td><td>${x.validation.rows}</td></tr>`).join('')
  return `<h2>Personal models: every peer on its own rows</h2>
<p class="note">${escapeHtml(p.metric)} of each honest peer's network model, personal model and local-only model. Personal: the ${escapeHtml(p.selection.blend)} (1 - z) network + z local-only, z in 0, 0.1, ..., 1: ${p.selection.rule === 'min' ? 'the best' : ONE_SE_TEXT} ${escapeHtml(p.selection.loss)} on the peer's own validation rows (${Math.round(p.selection.validationFraction * 100)}% of its shard, held out of all training). ${p.all.atNetwork} peers kept the network model (z 0)${escapeHtml(cannotTell(p))}, ${p.all.atLocal} their local-only model (z 1). "vs": personal minus the other on own rows (positive: personal better) with its paired 95% interval${p.metric === 'auc' || p.metric === 'gini' ? ' (DeLong\'s for AUC and Gini)' : ''}.</p>
${regions}
<details><summary>Per peer (${p.perPeer.length})</summary><table>${head('peer', '<th colspan="3"></th>', '<th>vs network</th><th>vs local-only</th><th>validation rows</th>')}${peers}</table></details>`
}
