/**
 * The long-lived-network faults over real daemons (`murmur testnet --faults`, node/faults/): per fault, whether
 * it met its goal and its recovery time, with the held-out metric's spread across members before and after.
 * --quick runs lost-db, round-jump and partition-heal only.
 */
import type { BenchModule, BenchValue } from '../bench.js'
import { runFaults } from '../../node/faults/index.js'

export const name = 'faults'

export const run: BenchModule['run'] = async ({ quick }) => {
  const faults = quick ? ['lost-db', 'round-jump', 'partition-heal'] : ['late-join', 'return', 'lost-db', 'partition-heal', 'kill-9', 'restart-all', 'round-jump', 'disk-full']
  const r = await runFaults({ faults, peers: 4 })
  const out: Record<string, BenchValue> = { peers: 4, windowRounds: Number(r.windowRounds), allPassed: r.passed === true, wallSeconds: Number(r.wallSeconds) }
  for (const f of r.faults) {
    out[`${f.name}.passed`] = f.passed
    out[`${f.name}.recoverySeconds`] = f.recoverySeconds
    out[`${f.name}.spreadBefore`] = f.spread.before
    out[`${f.name}.spreadAfter`] = f.spread.after
  }
  return out
}
