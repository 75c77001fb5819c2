/**
 * Whether a running peer is doing its job, for `/health` (503 with the reasons when not), `/status` and
 * `murmur status`. A reason is a code and a sentence for the operator; the limits are options (tests shorten them).
 *
 *   NOT_A_MEMBER        an adopted manifest no longer lists this peer: it stopped learning
 *   NO_CONNECTIONS      no connection to any peer for longer than the isolation limit
 *   ROUNDS_STALLED      no local round completed for longer than the stall limit (several round intervals)
 *   STORE_NOT_WRITABLE  the last write to the database failed
 *   IDENTITY_IN_USE     another process uses this identity: a member saw both on its connections (instance check)
 */
import type { NodeProgress } from './api/routes/status.js'

export const HealthReasonCode = {
  NOT_A_MEMBER: 'NOT_A_MEMBER',
  NO_CONNECTIONS: 'NO_CONNECTIONS',
  ROUNDS_STALLED: 'ROUNDS_STALLED',
  STORE_NOT_WRITABLE: 'STORE_NOT_WRITABLE',
  IDENTITY_IN_USE: 'IDENTITY_IN_USE'
} as const
export type HealthReasonCode = typeof HealthReasonCode[keyof typeof HealthReasonCode]

export interface HealthReason { code: HealthReasonCode, detail: string }

export interface HealthReport { ok: boolean, reasons: HealthReason[] }

/** Rounds are stalled after this many round intervals without a completed round ... */
export const ROUND_STALL_INTERVALS = 10
/** ... and never sooner than this (training a round may take longer than the pause between rounds). */
export const ROUND_STALL_MIN_MS = 60_000

export function roundStallMs (roundIntervalMs: number): number {
  return Math.max(ROUND_STALL_MIN_MS, ROUND_STALL_INTERVALS * roundIntervalMs)
}

export interface HealthModules {
  manifestSync: { readonly removedAtVersion: number | null }
  keeper: { withoutConnectionsMs: () => number, readonly isolatedLimitMs: number }
  store: { readonly lastCommitError: { message: string, at: number } | null }
  progress: Pick<NodeProgress, 'lastRoundAt'>
  /** The last evidence that another process uses this identity (ms), or null.  */
  identityClashAt: () => number | null
  /** How long after the last evidence the reason stays (ms). */
  identityInUseMs: number
  /** When the node started (ms): rounds count as stalled from here until the first one completes. */
  startedAt: number
  roundStallMs: number
}

export function health (m: HealthModules, nowMs: number = Date.now()): HealthReport {
  const reasons: HealthReason[] = []
  if (m.manifestSync.removedAtVersion != null) {
    reasons.push({ code: HealthReasonCode.NOT_A_MEMBER, detail: `manifest version ${m.manifestSync.removedAtVersion} no longer lists this peer; it stopped learning` })
  }
  const withoutMs = m.keeper.withoutConnectionsMs()
  if (withoutMs > m.keeper.isolatedLimitMs) {
    reasons.push({ code: HealthReasonCode.NO_CONNECTIONS, detail: `no connection to any peer for ${Math.round(withoutMs / 1000)} s (limit ${Math.round(m.keeper.isolatedLimitMs / 1000)} s)` })
  }
  const sinceRoundMs = nowMs - (m.progress.lastRoundAt ?? m.startedAt)
  if (m.manifestSync.removedAtVersion == null && sinceRoundMs > m.roundStallMs) {
    reasons.push({ code: HealthReasonCode.ROUNDS_STALLED, detail: `no local round completed for ${Math.round(sinceRoundMs / 1000)} s (limit ${Math.round(m.roundStallMs / 1000)} s)` })
  }
  const failed = m.store.lastCommitError
  if (failed != null) {
    reasons.push({ code: HealthReasonCode.STORE_NOT_WRITABLE, detail: `the last database write failed ${Math.round((nowMs - failed.at) / 1000)} s ago: ${failed.message.slice(0, 200)}` })
  }
  const clash = m.identityClashAt()
  if (clash != null && nowMs - clash < m.identityInUseMs) {
    reasons.push({ code: HealthReasonCode.IDENTITY_IN_USE, detail: `another process is using this identity (last seen by a member ${Math.round((nowMs - clash) / 1000)} s ago): stop the copy` })
  }
  return { ok: reasons.length === 0, reasons }
}
