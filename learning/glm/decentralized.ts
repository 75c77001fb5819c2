/**
 * Simulated decentralization, pure: K peers each hold their rows; every round each computes its statistics at
 * the shared coefficients, the statistics travel as Float64Arrays, each is validated on receipt as a network
 * update would be (decodeStats), and they are summed. Here the sum is exact; the network replaces it with
 * push-sum gossip, which yields the average with the peers' total weight, and `GlmStats.scale` turns that back
 * into the sum (statistics are additive, so sum and average carry the same Newton step).
 */
import type { GlmFamily } from './family.js'
import type { GlmDesign } from './design.js'
import { computeStats, decodeStats, GlmStats, type GlmRows } from './stats.js'
import { GlmSolver, type GlmFit, type SolverOptions } from './solver.js'
import { GlmFitError } from './errors.js'

export interface RoundTrace {
  round: number
  /** The coefficients the peers evaluated at this round. */
  beta: Float64Array
  /** The summed deviance at those coefficients. */
  deviance: number
}

export interface DecentralizedRun {
  fit: GlmFit
  trace: RoundTrace[]
  /** Bytes one peer sends per round (its statistics vector). */
  bytesPerPeerRound: number
}

/** Sums statistics vectors received from peers, validating each against the expected family and width. */
export function sumReceived (received: readonly Float64Array[], family: GlmFamily, p: number): GlmStats {
  if (received.length === 0) throw new GlmFitError('no statistics received this round')
  const total = GlmStats.empty(family, p)
  for (const data of received) total.add(decodeStats(data, { family, p }))
  return total
}

/**
 * Runs the rounds to convergence over peers' row sets.
 *
 * @example
 * ```ts
 * const run = simulateDecentralized(design, glmFamily('poisson'), regions.map((r) => r.rows))
 * run.fit.rounds          // communication rounds, the start round included
 * ```
 */
export function simulateDecentralized (design: GlmDesign, family: GlmFamily, peers: readonly GlmRows[], options: SolverOptions = {}): DecentralizedRun {
  if (peers.length === 0) throw new GlmFitError('no peers')
  const solver = new GlmSolver(design, family, options)
  const trace: RoundTrace[] = []
  let more = true
  while (more) {
    const beta = solver.beta.slice()
    const sent = peers.map((rows) => computeStats(design, family, rows, beta, solver.nullIntercept).data.slice())
    const total = sumReceived(sent, family, design.p)
    trace.push({ round: solver.rounds, beta, deviance: total.deviance })
    more = solver.update(total)
  }
  return { fit: solver.result(), trace, bytesPerPeerRound: GlmStats.empty(family, design.p).data.byteLength }
}
