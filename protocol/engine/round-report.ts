/**
 * A round's report (what the engine emits as 'round') and the figures of it that go into the store's metrics
 * history, from the round's counters.
 */
import type { RoundCounters } from './counters.js'
import type { RoundReport } from './types.js'

export interface Trained { steps: number, loss: number, examples: number, trainMs: number }

export function roundReport (round: number, rule: RoundReport['rule'], trained: Trained, a: RoundCounters, pushSumWeight: number, evaluation: RoundReport['evaluation']): RoundReport {
  const consensus = a.distCount > 0 ? a.distSum / a.distCount : null
  return {
    round,
    rule,
    steps: trained.steps,
    loss: trained.loss,
    examples: trained.examples,
    trainMs: trained.trainMs,
    bytesSent: a.bytesSent,
    bytesReceived: a.bytesReceived,
    updatesSent: a.updatesSent,
    updatesMerged: a.updatesMerged,
    sendFailures: a.sendFailures,
    refused: a.refused,
    bounded: a.bounded,
    consensusDistance: consensus,
    relativeConsensusDistance: consensus != null && a.ownNorm > 0 ? consensus / (a.ownNorm / a.distCount) : null,
    pushSumWeight,
    ...(evaluation != null ? { evaluation } : {})
  }
}

/** The report's figures as one flat record (refusals, clips and evaluation metrics under prefixed names). */
export function reportValues (report: RoundReport): Record<string, number> {
  const values: Record<string, number> = {
    loss: report.loss, bytesSent: report.bytesSent, bytesReceived: report.bytesReceived,
    updatesSent: report.updatesSent, updatesMerged: report.updatesMerged, pushSumWeight: report.pushSumWeight
  }
  if (report.consensusDistance != null) values.consensusDistance = report.consensusDistance
  for (const [k, v] of Object.entries(report.refused)) values[`refused.${k}`] = v
  for (const [k, v] of Object.entries(report.bounded)) values[`bounded.${k}`] = v
  for (const [k, v] of Object.entries(report.evaluation ?? {})) values[`eval.${k}`] = v
  return values
}
