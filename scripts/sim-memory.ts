/**
 * Peak RSS of one simulation in a fresh process: what the simulate benchmark's memory per peer is made of (runs in
 * one process would hide the slope: memory a larger run left behind is not given back).
 *
 *   node --import tsx --import ./node/polyfills.ts scripts/sim-memory.ts PEERS [ROUNDS] [MODEL]
 *
 * Runs the default scenario at PEERS peers (no baselines, 2 worker threads) and prints one JSON line:
 * `{ "peers", "rounds", "model", "maxRssMiB" }` (the process's peak resident set, worker threads included).
 */
import { loadScenario } from '../simulations/scenario.js'
import { Simulation } from '../simulations/harness/coordinator.js'

const [peersArg, roundsArg = '3', model] = process.argv.slice(2)
const peers = Number(peersArg)
const rounds = Number(roundsArg)
if (!Number.isInteger(peers) || peers < 2 || !Number.isInteger(rounds) || rounds < 1) {
  console.error('usage: scripts/sim-memory.ts PEERS [ROUNDS] [MODEL]   (PEERS >= 2, ROUNDS >= 1)')
  process.exit(2)
}
const scenario = await loadScenario('default', {
  peers,
  rounds,
  evaluation: { every: 100_000, curveRows: 100 },
  baselines: { centralized: false, localOnly: false, fedavg: false },
  variants: [],
  ...(model != null ? { model } : {})
})
const sim = await Simulation.create(scenario, { workers: 2 })
try {
  await sim.run()
} finally {
  await sim.close()
}
// resourceUsage().maxRSS is in KiB and covers the whole process (every thread) over its life
console.log(JSON.stringify({ peers, rounds, model: model ?? 'default', maxRssMiB: process.resourceUsage().maxRSS / 1024 }))
