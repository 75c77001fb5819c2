// A rogue member among real daemons (`murmur testnet --attack`, `murmur daemon --attack`): the last of 4 daemons
// sends a model scaled by 1e29, or claims a weight of 1e30 for its negated model; the honest peers' held-out
// metric stays within 2 points of the clean run of the same testnet (same seed), because the receivers bound
// every sender's influence (docs/averaging.md, "Bounded influence"). Checked to fail with the bounds off (rule
// params clip 'off', maxWeightRatio and maxExampleCount 1e40, in the testnet's default scenario): honest mean
// 0.872 (scale) and 0.213 (weight) against a clean 0.968.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { runTestnet, resolveTestnetScenario, partitionDataset, createTestNetwork } from '../../node/testnet.js'
import { spawnDaemon, waitFor, MURMUR_BIN, REPO_ROOT } from '../../node/processes.js'
import { defaultDataDir } from '../../learning/index.js'

const digits = join(defaultDataDir(), 'sklearn-digits.csv.gz')
const skip = existsSync(digits) ? false : `shared dataset missing: ${digits}`
const PEERS = 4
/**
 * 40 quick rounds rather than the scenario's 20 x 200 ms: the same wall time, and the honest mean further from its
 * noisy start (at 20 rounds the weight attack's drop ranged 0.9 to 3.2 points over 5 runs, at 40 rounds 1.0 to 2.4 over 9).
 */
const RUN = { peers: PEERS, rounds: 40, roundIntervalMs: 100, baselines: false }
/**
 * Accuracy (as a fraction) the honest mean may lose to one rogue: the 2 points. With plain clipping the
 * weight attack (the negated model at the clamped mass, 2x the receiver's) lost 1.0 to 2.4 points over 9 runs;
 * the redescending clip (a model beyond 4 radii pulls less the farther it is) holds it to -0.2 to 1.6 points
 * over 5 runs (BENCHMARKS.md, "Session 9: rogue member"), 2.5 to 2.8 with plain clipping on the same seeds.
 */
const TOLERANCE = { scale: 0.02, weight: 0.02 } as const

type Summary = Record<string, any>

/** The clean run of the first test, reused by the second (same testnet, same seed). */
let clean: Summary | undefined

function checkAttacked (s: Summary, kind: keyof typeof TOLERANCE): void {
  const tolerance = TOLERANCE[kind]
  assert.equal(s.attack?.kind, kind, `the summary names the attack: ${JSON.stringify(s.attack)}`)
  assert.equal(s.attack.peer, PEERS - 1, 'the rogue is the last daemon, not the bootstrap')
  assert.equal(s.perPeer.length, PEERS, 'perPeer lists every peer, the rogue too')
  assert.deepEqual(s.perPeer.map((p: { rogue?: boolean }) => p.rogue === true), [false, false, false, true], 'perPeer marks the rogue only')
  assert.match(String(s.honestOnly), /honest peers only/, 'the summary says its figures are the honest peers\'')
  assert.deepEqual(s.exitCodes, Array(PEERS).fill(0), `every daemon exits 0: ${JSON.stringify(s.exitCodes)}`)
  assert.equal(typeof s.clean?.decentralized?.mean, 'number', 'the clean summary comes with the attacked one')
  const before = Number(s.clean.decentralized.mean)
  const after = Number(s.decentralized.mean)
  assert.ok(before > 0.8, `the clean testnet learns (honest mean ${before})`)
  assert.ok(after >= before - tolerance, `${kind}: honest mean ${after} within ${tolerance} of the clean ${before}`)
  assert.ok(Number(s.decentralized.min) >= before - 2 * tolerance, `${kind}: worst honest peer ${String(s.decentralized.min)} near the clean mean ${before}`)
  process.stdout.write(`# rogue ${kind}: clean mean ${before} -> attacked mean ${after} (worst ${String(s.decentralized.min)}), bounded ${JSON.stringify(s.bounded)}, ${String(s.wallSeconds)} s\n`)
}

describe('one rogue daemon among 4 (testnet --attack)', { timeout: 240_000, skip }, () => {
  it('scale:factor=1e29: the models it sends are clipped, the honest mean stays within 2 points', async () => {
    const s = await runTestnet({ ...RUN, attack: 'scale:factor=1e29' })
    clean = s.clean as Summary
    checkAttacked(s, 'scale')
    assert.ok(Number((s.bounded as Record<string, number>).CLIPPED ?? 0) > 0, `the honest peers clipped the rogue's models: bounded ${JSON.stringify(s.bounded)}`)
  })

  it('weight:value=1e30: its claimed mass is clamped and its far model redescends, the honest mean stays within 2 points', async () => {
    const s = await runTestnet({ ...RUN, attack: 'weight:value=1e30', clean })
    checkAttacked(s, 'weight')
    const b = s.bounded as Record<string, number>
    assert.ok(Number(b.WEIGHT_CLAMPED ?? 0) + Number(b.EXAMPLES_CLAMPED ?? 0) > 0, `the honest peers clamped the rogue's claims: bounded ${JSON.stringify(b)}`)
  })
})

describe('murmur daemon --attack', { timeout: 120_000, skip }, () => {
  it('refuses an unknown kind by name, naming the field', () => {
    const r = spawnSync(process.execPath, [MURMUR_BIN, 'daemon', '--network', 'none.json', '--data', 'none.csv', '--attack', 'bogus:x=1'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 })
    assert.notEqual(r.status, 0, 'an unknown attack kind stops the daemon')
    assert.match(r.stderr, /DaemonAttackError: --attack: unknown attack kind 'bogus'/, `the error is named and names the field: ${r.stderr.slice(-500)}`)
  })

  it('logs one warning at start that it is an attacker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'murmur-rogue-'))
    try {
      const scenario = await resolveTestnetScenario('testnet', 2)
      const data = await partitionDataset(scenario.dataset, 2, join(dir, 'data'), scenario.seed, scenario.partition)
      const net = await createTestNetwork({ dir, peers: 2, name: 'rogue-warning', model: scenario.model, datasetSpec: data.spec, rule: scenario.rule })
      const lines: string[] = []
      const d = await spawnDaemon({ datadir: net.datadirs[1], network: net.network, data: data.partitions[1], extraArgs: ['--attack', 'sign-flip:scale=1000'], onLog: (l) => { lines.push(l) } })
      try {
        const warnings = (): string[] => lines.filter((l) => /ATTACKER/.test(l))
        await waitFor('the attacker warning', async () => warnings(), (w) => w.length > 0, { timeoutMs: 30_000, intervalMs: 100 })
        const w = JSON.parse(warnings()[0]) as { level: number | string, attack: string, params: Record<string, number> }
        assert.ok(w.level === 40 || w.level === 'warn', `the line is a warning: ${warnings()[0]}`)
        assert.equal(w.attack, 'sign-flip', 'the warning names the attack')
        assert.deepEqual(w.params, { scale: 1000 }, 'the warning gives its parameters')
        await waitFor('the rogue to run 2 rounds', async () => await d.get<{ round: number }>('/status'), (st) => st.round >= 2, { timeoutMs: 60_000, intervalMs: 200 })
        assert.equal(warnings().length, 1, 'one warning, not one per round')
      } finally {
        assert.equal(await d.stop(), 0, 'the rogue daemon stops cleanly on SIGTERM')
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
