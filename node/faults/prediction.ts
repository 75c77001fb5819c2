/**
 * The simulator's prediction beside the daemons' figures, for the faults where a member catches up (late-join,
 * return, lost-db): the same scenario (dataset, split, model, rule, round window, local steps) run by the
 * simulator with one late joiner at the round the daemons' member came in (capped, so the run stays seconds long),
 * where the same engine code catches up by the same state sync (simulations/harness/catch-up.ts). Both sides are
 * stated in rounds, so an operator can check the simulator against real processes:
 *
 * - `roundsToAdopt`: rounds from joining until the member runs on the network's state (the simulator: until it
 *   adopted; the daemons: until it adopted, merges and runs within the window, as the fault waits for);
 * - `gap`: the member's held-out metric minus the others' mean, right after.
 */
import type { Scenario } from '../../simulations/scenario.js'

/** The latest join round simulated (a late join at 10x a 20-round window is 200 rounds: a few seconds). */
export const PREDICTION_MAX_ROUND = 400

export interface CatchUpPrediction {
  simulator: { atRound: number, roundsToAdopt: number | null, gap: number | null, seconds: number } | { error: string }
  daemons: { roundsToCatchUp: number, gap: number | null }
}

export interface PredictionInit {
  scenario: Scenario
  peers: number
  windowRounds: number
  localSteps: number
  /** The network's round when the daemons' member came in. */
  joinRound: number
}

/** The round the simulator's late joiner joins at for a join at `joinRound` (capped, at least two windows). */
export function predictionRound (windowRounds: number, joinRound: number): number {
  return Math.max(2 * windowRounds, Math.min(joinRound, PREDICTION_MAX_ROUND))
}

/** Runs the simulator's version of a catch-up; resolves with its figures or with the reason it could not run. */
export async function simulateCatchUp (init: PredictionInit): Promise<CatchUpPrediction['simulator']> {
  const started = Date.now()
  try {
    const { parseScenario } = await import('../../simulations/scenario.js')
    const { runScenario } = await import('../../simulations/run.js')
    const atRound = predictionRound(init.windowRounds, init.joinRound)
    const s = init.scenario
    const scenario = parseScenario({
      ...s,
      name: `${s.name}-catch-up`,
      peers: init.peers,
      rounds: atRound + 10,
      localSteps: init.localSteps,
      rule: { ...s.rule, maxStalenessRounds: init.windowRounds },
      network: { ...s.network, churn: { rate: 0, downRounds: 1, fromRound: 1 }, lateJoin: { peers: 1, atRound } },
      evaluation: { every: 1, curveRows: 300 },
      baselines: { centralized: false, localOnly: false, fedavg: false },
      variants: [],
      goals: {}
    }, '(fault prediction)')
    const r = await runScenario(scenario, { workers: 0 })
    const e = r.details.catchUp?.events[0]
    return {
      atRound,
      roundsToAdopt: e == null ? null : e.adoptedAtRound - e.onlineRound + 1,
      gap: e?.metricAfter != null && e.othersMeanAfter != null ? Number((e.metricAfter - e.othersMeanAfter).toFixed(4)) : null,
      seconds: Number(((Date.now() - started) / 1000).toFixed(1))
    }
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0].slice(0, 300) }
  }
}

/** One line for the CLI's table. */
export function predictionLine (p: CatchUpPrediction): string {
  const sim = 'error' in p.simulator
    ? `simulator failed (${p.simulator.error})`
    : `simulator ${p.simulator.roundsToAdopt ?? 'never'} round(s), gap ${fmt(p.simulator.gap)} (joined at round ${p.simulator.atRound})`
  return `  prediction      ${sim}; daemons ${p.daemons.roundsToCatchUp} round(s), gap ${fmt(p.daemons.gap)}`
}

const fmt = (v: number | null): string => v == null ? '-' : (v >= 0 ? '+' : '') + v.toFixed(4)
