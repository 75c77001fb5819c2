// The built-in `privacy` scenario at a small size (issue 17): DP-SGD peers with a per-peer accountant, every
// honest peer a curious member attacking every neighbour it heard from, the same run without privacy beside
// it; results.json, the summary's `privacy` keys, the goals and the report's privacy section.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { loadScenario, parseScenario } from '../../simulations/scenario.js'
import { runScenario } from '../../simulations/run.js'
import { summaryOf, renderTable } from '../../simulations/results.js'
import { renderReport } from '../../simulations/report/index.js'
import { defaultDataDir } from '../../learning/index.js'

const adult = join(defaultDataDir(), 'adult.data.gz')
const skip = existsSync(adult) ? false : `shared dataset missing: ${adult}`

test('privacy scenario (6 peers, 2 rounds): budgets, attacks with and without privacy, summary, goals, report', { skip, timeout: 120_000 }, async () => {
  const scenario = await loadScenario('privacy', { peers: 6, rounds: 2, localSteps: 4, baselines: { centralized: false } })
  assert.equal(scenario.privacy?.steps, 8, 'the noise is derived for rounds x localSteps steps')
  const results = await runScenario(scenario, { workers: 0 })
  const p = results.privacy
  assert.ok(p != null, 'results carry a privacy section')
  assert.equal(p.budget, 8, 'the budget is the scenario\'s epsilon')
  assert.equal(p.perPeer.length, 6, 'every honest peer reports its privacy')
  for (const x of p.perPeer) {
    assert.ok(x.spent > 0 && x.spent <= 8, `peer ${x.index} spent ${x.spent}, within 8`)
    assert.ok(Math.abs(x.spent + x.remaining - 8) < 1e-3, `peer ${x.index}: spent + remaining = budget`)
    assert.equal(x.steps, 8, `peer ${x.index} took every planned step`)
  }
  assert.equal(p.perRound.length, 2, 'the largest epsilon after each round')
  assert.ok(p.perRound[1].epsilon > p.perRound[0].epsilon, 'spending grows round by round')
  assert.equal(p.epsilon, Math.max(...p.perPeer.map((x) => x.spent)), 'epsilon is the largest any peer spent')
  assert.ok(p.attackPairs >= 6, `every member attacked the neighbours it heard from: ${p.attackPairs} attacks`)
  assert.ok(new Set(p.attacks.map((a) => a.target)).size >= 4, 'most peers were attacked by someone')
  for (const a of p.attacks) {
    assert.notEqual(a.attacker, a.target, 'a member attacks a neighbour, not itself')
    assert.equal(a.members, 50, 'the neighbour\'s 50 training rows are the members')
    assert.equal(a.nonMembers, 50, 'as many test rows are the non-members')
  }
  assert.ok(p.attackAuc != null && p.attackAuc > 0 && p.attackAuc < 1, `attack AUC ${p.attackAuc}`)
  assert.ok(p.attackAucWithoutPrivacy != null, 'the run without privacy was attacked too')
  assert.ok(p.metricWithoutPrivacy != null && p.metricWithoutPrivacy > 0.5, `metric without privacy ${p.metricWithoutPrivacy}`)
  assert.ok(p.metricsWithoutPrivacy.accuracy > 0.5 && p.metricsWithoutPrivacy.auc === p.metricWithoutPrivacy, `every metric of the run without privacy (${JSON.stringify(p.metricsWithoutPrivacy)})`)
  assert.ok(p.attacksWithoutPrivacy.length > 0, 'the run without privacy was attacked by the same members')
  const withRefs = p.attacks.filter((a) => a.references > 0)
  assert.ok(withRefs.length > 0 && withRefs.every((a) => a.liraAuc != null && a.liraAuc >= 0 && a.liraAuc <= 1), 'members that heard from other neighbours ran the likelihood-ratio attack with them as references')
  assert.ok(p.attacks.every((a) => (a.references === 0) === (a.liraAuc == null)), 'and only those')
  assert.ok(p.liraAuc != null && p.liraAucWithoutPrivacy != null, `the likelihood-ratio AUC with (${p.liraAuc}) and without privacy (${p.liraAucWithoutPrivacy})`)

  const summary = summaryOf(results)
  assert.deepEqual(Object.keys(summary.privacy ?? {}), ['epsilon', 'delta', 'attackAuc', 'attackAucWithoutPrivacy', 'metricWithoutPrivacy'], 'the summary\'s privacy keys')
  assert.equal(summary.privacy?.delta, 1e-5, 'delta of the budget')
  const goals = results.details.goals.map((g) => g.goal)
  for (const g of ['largest epsilon any peer spent', 'membership-inference AUC with privacy', 'membership-inference AUC without privacy', 'cost of privacy in accuracy']) {
    assert.ok(goals.includes(g), `goal '${g}' checked: ${goals.join('; ')}`)
  }
  assert.equal(results.details.goals.find((g) => g.goal === 'largest epsilon any peer spent')?.pass, true, 'epsilon within 8')
  assert.match(renderTable(results), /membership inference \(loss threshold, \d+ attacks/, 'the table shows the attack')
  assert.match(renderTable(results), /membership inference \(likelihood ratio/, 'and the likelihood-ratio attack')
  const html = await renderReport(results)
  assert.match(html, /id="privacy-peers"/, 'the report has the per-peer privacy table')
  assert.match(html, /id="section-privacy"/, 'and the privacy-spent chart')
  assert.match(html, /id="privacy-lira"/, 'and the likelihood-ratio attack')
})

test('a scenario privacy block is validated, and a target epsilon gets the planned steps', () => {
  const base = { peers: 4, rounds: 3, localSteps: 5, dataset: 'none', model: 'none' }
  assert.throws(() => parseScenario({ ...base, privacy: { epsilon: 4, clip: -1 } }, 'p.yaml'), (e: Error) => e.name === 'ScenarioError' && /privacy\.clip/.test(e.message) && /p\.yaml/.test(e.message), 'a bad clip names the file and field')
  assert.throws(() => parseScenario({ ...base, privacy: { epsilon: 4, sigma: 1 } }, 'p.yaml'), (e: Error) => e.name === 'ScenarioError' && /privacy/.test(e.message), 'an unknown field is refused')
  assert.equal(parseScenario({ ...base, privacy: { epsilon: 4 } }).privacy?.steps, 15, 'steps = rounds x localSteps')
  assert.equal(parseScenario({ ...base, privacy: { epsilon: 4, noiseMultiplier: 1.1 } }).privacy?.steps, undefined, 'an explicit noise multiplier needs no steps')
  assert.equal(parseScenario(base).privacy, null, 'no block: no privacy')
  // the exact GLM releases its statistics once a phase: a target epsilon lasts the phases begun in the rounds
  assert.equal(parseScenario({ ...base, rounds: 15, rule: { rule: 'glm-newton', phases: [3, 5] }, privacy: { epsilon: 4 } }).privacy?.steps, 4, 'glm-newton: steps = phases begun within 15 rounds (3 + 5 + 5 + 2)')
  assert.throws(() => parseScenario({ ...base, rule: { rule: 'glm-newton' }, privacy: { epsilon: 4 }, membershipInference: {} }, 'p.yaml'),
    (e: Error) => e.name === 'ScenarioError' && /membershipInference/.test(e.message) && /p\.yaml/.test(e.message), 'the loss-threshold attack on statistics is refused, not run on the wrong vector')
})
