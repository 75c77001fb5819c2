/**
 * The simulator's prediction beside the daemons' figures for `partition-heal`: the same scenario (dataset, split
 * of the data, model, rule, round window, local steps) with the same members on each side, split for as many
 * rounds as the daemons were, and healed the way daemons heal: each link comes back when a connection keeper
 * redials it (simulations/redial.ts), with the keeper's timers converted to rounds at the daemons' measured pace
 * (milliseconds per round over the split; the harness's nominal round interval is a floor of it). Both sides are
 * stated in rounds after the heal:
 *
 * - `roundsToReconnect`: until every member has a link across the healed split (the daemons: connected across and
 *   merging, as the fault waits for);
 * - `roundsToSpreadBack`: until the metric spread across members (best minus worst, held-out rows) is back within
 *   the fault's tolerance of its value before the split;
 * - `roundsToConsensusBack`: until the consensus distance (RMS distance of the models from their mean) is under
 *   CONSENSUS_BACK_FACTOR times its value before the split.
 *
 * Both recoveries are looked for from the round every member is linked across again, as the fault does (the
 * daemons then check every 5 rounds, so their figures are upper bounds at that step).
 */
import type { Scenario } from '../../simulations/scenario.js'
import type { RedialSpec } from '../../simulations/redial.js'
import { PREDICTION_MAX_ROUND } from './prediction.js'

/** The longest split simulated (rounds): past it, the split is cut short and the prediction says so. */
export const PARTITION_PREDICTION_MAX_SPLIT = 4000

/** Rounds simulated after the heal beyond the slowest possible redial (for the spread to settle). */
export const PARTITION_PREDICTION_SETTLE_ROUNDS = 60

/** Consensus distance counts as back under this factor of its value before the split (the scenario goal's). */
export const CONSENSUS_BACK_FACTOR = 1.5

/** How far above its pre-split value the spread may be and count as back (the fault's rule, both sides). */
export function spreadTolerance (before: number | null): number {
  return Math.max(0.01, (before ?? 0) * 0.5)
}

export interface PartitionHealInit {
  scenario: Scenario
  peers: number
  windowRounds: number
  localSteps: number
  /** The members on each side (the daemons' halves). */
  halves: [number[], number[]]
  /** The network's round when the links were cut, and the rounds the daemons ran until the heal. */
  cutRound: number
  splitRounds: number
  /** Milliseconds per daemon round over the split (measured). */
  msPerRound: number
}

/** The simulator's run for a split: where it starts and ends, how long after it runs, the keeper's timers in rounds. */
export interface PartitionHealPlan {
  fromRound: number
  toRound: number
  rounds: number
  redial: RedialSpec
  /** The split was longer than PARTITION_PREDICTION_MAX_SPLIT and is cut to it. */
  splitCapped: boolean
}

export interface PartitionHealSimulated {
  splitAtRound: number
  splitRounds: number
  msPerRound: number
  redial: RedialSpec
  roundsToReconnect: number | null
  roundsToSpreadBack: number | null
  roundsToConsensusBack: number | null
  spreadBefore: number | null
  spreadAtHeal: number | null
  consensusBefore: number | null
  seconds: number
  notes: string[]
}

export interface PartitionHealPrediction {
  simulator: PartitionHealSimulated | { error: string }
  daemons: { splitRounds: number, msPerRound: number, roundsToReconnect: number, roundsToSpreadBack: number | null, roundsToConsensusBack: number | null, consensusBefore: number | null }
}

const round3 = (x: number): number => Number(x.toFixed(3))

/**
 * The simulator's rounds for a daemons' split (pure): it starts at the daemons' cut round (capped as the catch-up
 * prediction's join, at least two windows), lasts as many rounds as theirs, and runs on past the heal for the
 * slowest redial plus a settling margin. The keeper's timers are in rounds at the daemons' pace.
 */
export async function partitionHealPlan (init: Pick<PartitionHealInit, 'windowRounds' | 'cutRound' | 'splitRounds' | 'msPerRound'>): Promise<PartitionHealPlan> {
  const { redialInRounds, worstRedialRounds } = await import('../../simulations/redial.js')
  const fromRound = Math.max(2 * init.windowRounds, Math.min(init.cutRound, PREDICTION_MAX_ROUND))
  const split = Math.max(1, Math.min(Math.round(init.splitRounds), PARTITION_PREDICTION_MAX_SPLIT))
  const r = redialInRounds(init.msPerRound)
  const redial: RedialSpec = { checkRounds: round3(r.checkRounds), dialTimeoutRounds: round3(r.dialTimeoutRounds), backoffBaseRounds: round3(r.backoffBaseRounds), backoffMaxRounds: round3(r.backoffMaxRounds), jitter: r.jitter }
  const toRound = fromRound + split
  return { fromRound, toRound, rounds: toRound + Math.ceil(worstRedialRounds(redial)) + PARTITION_PREDICTION_SETTLE_ROUNDS, redial, splitCapped: split < Math.round(init.splitRounds) }
}

/** Per-round figures the recovery is read from (the simulator's perRound). */
export interface RoundFigures { round: number, spread: number | null, consensusDistance: number | null }

/**
 * Rounds after `healRound` until the spread is within tolerance of its value in the round before `splitRound`,
 * and until the consensus distance is under CONSENSUS_BACK_FACTOR times its value then, looking from round
 * `searchFrom` on (null: never in the run).
 */
export function recoveryRounds (perRound: readonly RoundFigures[], splitRound: number, healRound: number, searchFrom = healRound): { spreadBefore: number | null, spreadAtHeal: number | null, consensusBefore: number | null, spread: number | null, consensus: number | null } {
  const at = (r: number): RoundFigures | undefined => perRound.find((x) => x.round === r)
  const before = at(splitRound - 1)
  const spreadBefore = before?.spread ?? null
  const cdBefore = before?.consensusDistance ?? null
  const after = perRound.filter((x) => x.round >= searchFrom)
  const spreadBack = spreadBefore == null ? undefined : after.find((x) => x.spread != null && x.spread <= spreadBefore + spreadTolerance(spreadBefore))
  const cdBack = cdBefore == null ? undefined : after.find((x) => x.consensusDistance != null && x.consensusDistance <= CONSENSUS_BACK_FACTOR * cdBefore)
  return {
    spreadBefore,
    spreadAtHeal: at(healRound - 1)?.spread ?? null,
    consensusBefore: cdBefore,
    spread: spreadBack == null ? null : spreadBack.round - healRound,
    consensus: cdBack == null ? null : cdBack.round - healRound
  }
}

/** Runs the simulator's version of the daemons' split; resolves with its figures or with the reason it could not run. */
export async function simulatePartitionHeal (init: PartitionHealInit): Promise<PartitionHealPrediction['simulator']> {
  const started = Date.now()
  try {
    const { parseScenario } = await import('../../simulations/scenario.js')
    const { runScenario } = await import('../../simulations/run.js')
    const { planNetwork } = await import('../../simulations/network-plan.js')
    const plan = await partitionHealPlan(init)
    const s = init.scenario
    const scenario = parseScenario({
      ...s,
      name: `${s.name}-partition-heal`,
      peers: init.peers,
      rounds: plan.rounds,
      localSteps: init.localSteps,
      rule: { ...s.rule, maxStalenessRounds: init.windowRounds },
      network: { ...s.network, churn: { rate: 0, downRounds: 1, fromRound: 1 }, lateJoin: undefined, partitions: [{ fromRound: plan.fromRound, toRound: plan.toRound, groups: 2, assign: 'contiguous' }], redial: plan.redial },
      evaluation: { ...s.evaluation, every: 1 },
      baselines: { centralized: false, localOnly: false, fedavg: false },
      variants: [],
      goals: {}
    }, '(fault prediction)')
    // the simulator's sides must be the daemons' (contiguous halves: peers 0..ceil(n/2)-1 and the rest)
    const network = planNetwork(scenario)
    const groups = Array.from(network.partitions.groups(0))
    const sides = [0, 1].map((g) => groups.flatMap((x, i) => x === g ? [i] : []))
    if (JSON.stringify(sides) !== JSON.stringify(init.halves)) throw new Error(`the simulator's halves ${JSON.stringify(sides)} are not the daemons' ${JSON.stringify(init.halves)}`)
    // every peer's first round with a link across the healed split (to a neighbour, in a fixed topology)
    const linked = (a: number, b: number): boolean => network.topology.dynamic || network.topology.neighbours(a, plan.toRound).includes(b)
    const reconnect = sides.flat().map((a) => Math.min(...sides.flat()
      .filter((b) => groups[b] !== groups[a] && linked(a, b))
      .map((b) => network.partitions.linkBackRound(0, a, b) ?? Infinity)))
    const worst = Math.max(...reconnect)
    const r = await runScenario(scenario, { workers: 0, variants: false })
    const rec = recoveryRounds(r.details.perRound, plan.fromRound, plan.toRound, Number.isFinite(worst) ? worst : plan.toRound)
    const notes = [
      `links come back when a keeper redials them: the daemon's timers (check ${plan.redial.checkRounds}, dial timeout ${plan.redial.dialTimeoutRounds}, backoff ${plan.redial.backoffBaseRounds} to ${plan.redial.backoffMaxRounds} rounds) at ${round3(init.msPerRound)} ms per round`,
      'a dial across the cut hangs until libp2p\'s 6 s per-address timeout (the keeper\'s own bound is 10 s); the heal closes hanging dials, which count as failed',
      'the simulator does not model a connection\'s set-up time or gossip mesh repair: a link is usable from the first round after its keeper\'s dial'
    ]
    if (plan.splitCapped) notes.push(`the daemons' split of ${Math.round(init.splitRounds)} rounds is cut to ${PARTITION_PREDICTION_MAX_SPLIT}: the keepers' backoff at the heal may differ`)
    return {
      splitAtRound: plan.fromRound,
      splitRounds: plan.toRound - plan.fromRound,
      msPerRound: round3(init.msPerRound),
      redial: plan.redial,
      roundsToReconnect: Number.isFinite(worst) ? worst - plan.toRound : null,
      roundsToSpreadBack: rec.spread,
      roundsToConsensusBack: rec.consensus,
      spreadBefore: rec.spreadBefore == null ? null : Number(rec.spreadBefore.toFixed(4)),
      spreadAtHeal: rec.spreadAtHeal == null ? null : Number(rec.spreadAtHeal.toFixed(4)),
      consensusBefore: rec.consensusBefore,
      seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
      notes
    }
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0].slice(0, 300) }
  }
}

/** One line for the CLI's table. */
export function partitionPredictionLine (p: PartitionHealPrediction): string {
  const d = p.daemons
  const daemons = `daemons reconnect ${d.roundsToReconnect} round(s), spread back ${d.roundsToSpreadBack ?? 'never'}, consensus back ${d.roundsToConsensusBack ?? 'never'} (split ${d.splitRounds} rounds, ${d.msPerRound} ms/round)`
  if ('error' in p.simulator) return `  prediction      simulator failed (${p.simulator.error}); ${daemons}`
  const s = p.simulator
  return `  prediction      simulator reconnect ${s.roundsToReconnect ?? 'never'} round(s), spread back ${s.roundsToSpreadBack ?? 'never'}, consensus back ${s.roundsToConsensusBack ?? 'never'} (split ${s.splitRounds} rounds from round ${s.splitAtRound}); ${daemons}`
}
