/**
 * The coordinator's side of a privacy run: gathering each world's privacy reports and attacks, and the same
 * scenario run again without its privacy block (same seed) for the comparison (simulations/privacy.ts).
 */
import { parseScenario, type Scenario } from './scenario.js'
import { Simulation, type DecentralizedResult, type ProgressEvent } from './harness/coordinator.js'
import type { WorldPrivacy } from './privacy.js'
import { decentralizedFigures, finalMetricMeans } from './results.js'

/** Each world's privacy reports and attacks, in peer-index order. */
export async function gatherPrivacy (sim: Simulation): Promise<WorldPrivacy> {
  const parts = await sim.task<WorldPrivacy>('privacy', () => ({}))
  return {
    peers: parts.flatMap((p) => p.peers).sort((a, b) => a.index - b.index),
    membership: parts.flatMap((p) => p.membership).sort((a, b) => a.attacker - b.attacker || a.target - b.target)
  }
}

/** The scenario without its privacy block (same seed, same everything else): the comparison run. */
export function withoutPrivacy (scenario: Scenario): Scenario {
  const { variants: _v, goals: _g, name, ...rest } = scenario
  return { ...parseScenario({ ...rest, privacy: null, variants: [], goals: {} }, `${name}/without-privacy`, name), name: `${name}/without-privacy` }
}

/** Runs the comparison without privacy and attacks it the same way. */
export async function runWithoutPrivacy (scenario: Scenario, options: { metric: { name: string, higherIsBetter: boolean }, workers?: number, factoryModule: string, signal?: AbortSignal, onRound?: (e: ProgressEvent) => void }): Promise<{ run: DecentralizedResult, privacy: WorldPrivacy }> {
  const sim = await Simulation.create(withoutPrivacy(scenario), { workers: options.workers, factoryModule: options.factoryModule })
  try {
    const run = await sim.run({ metric: options.metric, signal: options.signal, onRound: options.onRound })
    return { run, privacy: await gatherPrivacy(sim) }
  } finally {
    await sim.close()
  }
}

/** The comparison run's goal metric, every metric (means over its peers, as the main run's) and attacks. */
export async function comparisonWithoutPrivacy (scenario: Scenario, options: Parameters<typeof runWithoutPrivacy>[1]): Promise<{ metric: number | null, metrics: Record<string, number>, privacy: WorldPrivacy }> {
  const w = await runWithoutPrivacy(scenario, options)
  const { examples: _examples, ...metrics } = finalMetricMeans(w.run)
  return { metric: decentralizedFigures(w.run).decentralized.mean, metrics, privacy: w.privacy }
}
