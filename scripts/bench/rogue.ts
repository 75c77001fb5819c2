/**
 * One rogue daemon against 3 honest ones (`murmur testnet --attack`, node/attack.ts): the honest peers' mean
 * held-out metric in the clean testnet and under each attack (same seed, same split; the clean run once per seed,
 * shared), over several data splits (seeds) because one run's figure moves by about a point between runs.
 * The attacks: a model scaled by 1e29, a claimed weight of 1e30, a sign flip x1000. --quick runs the scale attack
 * on one seed only. MURMUR_BENCH_ROGUE_SEEDS=7,11 picks the seeds.
 */
import type { BenchModule, BenchValue } from '../bench.js'
import { runTestnet } from '../../node/testnet.js'

export const name = 'rogue'

const HONEST = 3
/** As test/e2e/rogue.test.ts: 40 quick rounds (the scenario's 20 x 200 ms take as long and are noisier). */
const ROUNDS = 40
const ROUND_INTERVAL_MS = 100
/** The testnet scenario's own seed first, then two more splits. */
const SEEDS = [7, 11, 13]
export const ATTACKS = { scale: 'scale:factor=1e29', weight: 'weight:value=1e30', signFlip: 'sign-flip:scale=1000' } as const

export const run: BenchModule['run'] = async ({ quick }) => {
  const peers = HONEST + 1
  const chosen = Object.entries(ATTACKS).filter(([k]) => !quick || k === 'scale')
  const seeds = process.env.MURMUR_BENCH_ROGUE_SEEDS != null ? process.env.MURMUR_BENCH_ROGUE_SEEDS.split(',').map(Number) : quick ? SEEDS.slice(0, 1) : SEEDS
  const out: Record<string, BenchValue> = { peers, honestPeers: HONEST, rounds: ROUNDS, seeds: seeds.join(',') }
  const drops: Record<string, number[]> = {}
  for (const seed of seeds) {
    let clean: Record<string, any> | undefined
    for (const [key, spec] of chosen) {
      const s = await runTestnet({ peers, rounds: ROUNDS, roundIntervalMs: ROUND_INTERVAL_MS, attack: spec, baselines: false, clean, seed }) as Record<string, any>
      clean ??= s.clean as Record<string, any>
      const at = `seed${seed}.${key}`
      out[`${key}.spec`] = spec
      out[`${at}.mean`] = s.decentralized.mean
      out[`${at}.min`] = s.decentralized.min
      const drop = s.decentralized.mean == null || clean.decentralized.mean == null ? null : Number((clean.decentralized.mean - s.decentralized.mean).toFixed(6))
      out[`${at}.drop`] = drop
      if (drop != null) (drops[key] ??= []).push(drop)
      for (const [reason, n] of Object.entries(s.bounded ?? {})) out[`${at}.bounded.${reason}`] = Number(n)
      out[`${at}.wallSeconds`] = s.wallSeconds
    }
    out[`seed${seed}.clean.mean`] = clean?.decentralized.mean ?? null
    out[`seed${seed}.clean.min`] = clean?.decentralized.min ?? null
  }
  for (const [key, d] of Object.entries(drops)) {
    out[`${key}.maxDrop`] = Number(Math.max(...d).toFixed(6))
    out[`${key}.meanDrop`] = Number((d.reduce((a, b) => a + b, 0) / d.length).toFixed(6))
  }
  return out
}
