/**
 * One rogue daemon against 3 honest ones (`murmur testnet --attack`, node/attack.ts): the honest peers' mean
 * held-out metric in the clean testnet and under each attack (same seed, same split; the clean run once, shared).
 * The attacks: a model scaled by 1e29, a claimed weight of 1e30, a sign flip x1000. --quick runs the scale attack only.
 */
import type { BenchModule, BenchValue } from '../bench.js'
import { runTestnet } from '../../node/testnet.js'

export const name = 'rogue'

const HONEST = 3
/** As test/e2e/rogue.test.ts: 40 quick rounds (the scenario's 20 x 200 ms take as long and are noisier). */
const ROUNDS = 40
const ROUND_INTERVAL_MS = 100
export const ATTACKS = { scale: 'scale:factor=1e29', weight: 'weight:value=1e30', signFlip: 'sign-flip:scale=1000' } as const

export const run: BenchModule['run'] = async ({ quick }) => {
  const peers = HONEST + 1
  const chosen = Object.entries(ATTACKS).filter(([k]) => !quick || k === 'scale')
  const out: Record<string, BenchValue> = { peers, honestPeers: HONEST, rounds: ROUNDS }
  let clean: Record<string, any> | undefined
  for (const [key, spec] of chosen) {
    const s = await runTestnet({ peers, rounds: ROUNDS, roundIntervalMs: ROUND_INTERVAL_MS, attack: spec, baselines: false, clean }) as Record<string, any>
    clean ??= s.clean as Record<string, any>
    out[`${key}.spec`] = spec
    out[`${key}.mean`] = s.decentralized.mean
    out[`${key}.min`] = s.decentralized.min
    out[`${key}.drop`] = s.decentralized.mean == null || clean.decentralized.mean == null ? null : Number((clean.decentralized.mean - s.decentralized.mean).toFixed(6))
    for (const [reason, n] of Object.entries(s.bounded ?? {})) out[`${key}.bounded.${reason}`] = Number(n)
    out[`${key}.wallSeconds`] = s.wallSeconds
  }
  out['clean.mean'] = clean?.decentralized.mean ?? null
  out['clean.min'] = clean?.decentralized.min ?? null
  out['clean.wallSeconds'] = clean?.wallSeconds ?? null
  return out
}
