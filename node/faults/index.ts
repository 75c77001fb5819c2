/**
 * The fault harness: `murmur testnet --faults NAME[,NAME]` starts real daemons on 127.0.0.1, applies each named
 * fault in turn (builtins.ts), and reports, per fault, whether it met its goal, how long recovery took, and the
 * spread of the held-out metric across the members before and after it.
 *
 * @example
 * ```ts
 * import { runFaults } from './node/faults/index.js'
 *
 * const r = await runFaults({ faults: ['late-join', 'lost-db', 'round-jump'] })
 * for (const f of r.faults) console.log(f.name, f.passed, f.recoverySeconds, f.spread)
 * ```
 */
import { FaultNet, type FaultNetInit } from './harness.js'
import { resolveFaults, type FaultOutcome } from './builtins.js'
import { LinkShapeError, PacketLoss } from './link-shape.js'
import { predictionLine as catchUpLine, type CatchUpPrediction } from './prediction.js'
import { partitionPredictionLine, type PartitionHealPrediction } from './partition-prediction.js'

export * from './constants.js'
export * from './spec.js'
export { simulateCatchUp, PREDICTION_MAX_ROUND, type CatchUpPrediction } from './prediction.js'
export { simulatePartitionHeal, partitionHealPlan, recoveryRounds, spreadTolerance, PARTITION_PREDICTION_MAX_SPLIT, type PartitionHealPrediction } from './partition-prediction.js'
export { checkLinkShape, delayedPipe, LinkShapeError, PacketLoss, type LinkShape } from './link-shape.js'
export { FAULTS, resolveFaults, type Fault, type FaultOutcome } from './builtins.js'
export { FaultNet, type FaultNetInit, type PeerStatus } from './harness.js'

/** The CLI's line for a fault's prediction (catch-up or partition-heal). */
export function predictionLine (p: CatchUpPrediction | PartitionHealPrediction): string {
  return 'splitRounds' in p.daemons ? partitionPredictionLine(p as PartitionHealPrediction) : catchUpLine(p as CatchUpPrediction)
}

export interface FaultResult extends FaultOutcome {
  name: string
  description: string
  /** The primary metric on the held-out rows, across the running members: spread (max - min) and mean. */
  spread: { before: number | null, after: number | null }
  mean: { before: number | null, after: number | null }
  error?: string
}

export interface FaultRunInit extends Omit<FaultNetInit, 'holdBack'> {
  faults: string[]
}

export async function runFaults (init: FaultRunInit): Promise<Record<string, unknown> & { faults: FaultResult[] }> {
  const faults = resolveFaults(init.faults)
  const started = Date.now()
  const peers = init.peers ?? 4
  if (peers < 3) throw new RangeError('--peers must be at least 3 for the fault harness')
  const holdBack = [...new Set(faults.flatMap((f) => f.holdBack?.({ peers }) ?? []))]
  const net = new FaultNet({ ...init, holdBack })
  const results: FaultResult[] = []
  try {
    // a link condition that cannot be applied is an error before anything starts (FaultNet.start checks again)
    if ((init.link?.loss ?? 0) > 0) {
      const why = await PacketLoss.unavailable()
      if (why != null) throw new LinkShapeError(`--link-loss ${String(init.link?.loss)}: ${why}`)
    }
    await net.start()
    const warmUp = Math.max(2, ...faults.map((f) => f.warmUpWindows ?? 0))
    net.say(`warming up: ${warmUp}x the window (${warmUp * net.window} rounds)`)
    await net.runRounds(warmUp * net.window)
    for (const f of faults) {
      net.say(`fault ${f.name}: ${f.description}`)
      const before = await net.evaluate()
      let outcome: FaultOutcome
      let error: string | undefined
      try {
        outcome = await f.run(net)
      } catch (err) {
        error = (err as Error).message
        outcome = { passed: false, recoverySeconds: null, checks: {} }
      } finally {
        // a fault that failed half-way must not leave its cut links to the next one
        net.heal()
      }
      const after = await net.evaluate()
      const r: FaultResult = {
        name: f.name, description: f.description, ...outcome,
        spread: { before: before?.spread ?? null, after: after?.spread ?? null },
        mean: { before: before?.mean ?? null, after: after?.mean ?? null },
        ...(error != null ? { error } : {})
      }
      results.push(r)
      net.say(`fault ${f.name}: ${r.skipped != null ? `skipped (${r.skipped})` : r.passed ? 'passed' : 'FAILED'}${r.recoverySeconds != null ? `, recovered in ${r.recoverySeconds} s` : ''}${error != null ? ` (${error})` : ''}`)
    }
    return {
      transport: 'libp2p-tcp',
      peers,
      windowRounds: net.window,
      link: await net.linkStats(),
      metric: net.metricName,
      faults: results,
      passed: results.every((r) => r.passed),
      wallSeconds: Number(((Date.now() - started) / 1000).toFixed(1))
    }
  } finally {
    await net.close()
  }
}
