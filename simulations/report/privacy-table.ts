/** The report's privacy section: the budget, the attack with and without privacy, and every peer's spent and remaining epsilon. */
import type { Results } from '../results.js'
import { escapeHtml } from './assets.js'
import { fmt } from './tables.js'

export function privacyTable (r: Results): string {
  const p = r.privacy
  // a results.json of another shape under `privacy` (e.g. the older perRound-only section) gets no table
  if (p == null || !Array.isArray(p.perPeer)) return ''
  const attack = p.attackPairs === 0
    ? ''
    : `<p>Membership inference (loss threshold), ${p.attackPairs} attacks: every honest-but-curious member on the last model it received from each neighbour: mean AUC <b>${fmt(p.attackAuc)}</b>` +
      (p.attackAucWithoutPrivacy != null ? `; the same run without privacy: AUC <b>${fmt(p.attackAucWithoutPrivacy)}</b>, ${escapeHtml(r.metric.name)} ${fmt(p.metricWithoutPrivacy)} (with privacy ${fmt(r.decentralized.mean)})` : '') + '. 0.5 is chance.</p>' +
      // results.json written before the likelihood-ratio attack have no liraAuc
      (p.liraAuc != null ? `<p id="privacy-lira">Likelihood-ratio attack (offline LiRA; references: the models each member received from its other neighbours): mean AUC <b>${fmt(p.liraAuc)}</b>` +
        (p.liraAucWithoutPrivacy != null ? `; without privacy <b>${fmt(p.liraAucWithoutPrivacy)}</b>` : '') + '.</p>' : '')
  const rows = p.perPeer.map((x) => `<tr><td>${x.index}</td><td>${fmt(x.spent)}</td><td>${fmt(x.remaining)}</td><td>${x.steps}</td><td>${fmt(x.sampleRate, 3)}</td><td>${x.exhausted ? 'spent: not sending' : 'sending'}</td></tr>`).join('')
  return `<h2 id="privacy-summary">Differential privacy</h2>
<p>Budget per peer: epsilon ${fmt(p.budget)} at delta ${fmt(p.delta)}; DP-SGD clip ${fmt(p.clip)}, noise multiplier ${fmt(p.noiseMultiplier)}. Largest spent: ${fmt(p.epsilon)}; ${p.exhaustedPeers} of ${p.perPeer.length} peers out of budget.</p>
${attack}
<table id="privacy-peers"><tr><th>peer</th><th>epsilon spent</th><th>remaining</th><th>DP-SGD steps</th><th>sampling rate</th><th>state</th></tr>${rows}</table>`
}
