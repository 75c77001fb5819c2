/**
 * Restart: checking a stored checkpoint against the learner, and re-buffering what a buffering rule had
 * accepted but not merged before the checkpoint (so an acknowledged update is not lost in a crash).
 */
import type { AbortOptions, Learner } from '../interfaces.js'
import { createMemoryReplayGuard } from '../messages/replay.js'
import { CheckpointMismatchError } from './errors.js'
import type { AveragingRule } from './rules/types.js'
import type { Checkpoint, Store, UpdateLogEntry } from './store.js'
import type { EngineLogger, Envelopes } from './types.js'

/** Throws CheckpointMismatchError when the checkpoint belongs to another model. */
export function checkCheckpoint (cp: Checkpoint, learner: Learner): void {
  if (cp.schemaHash !== learner.schemaHash) {
    throw new CheckpointMismatchError(`checkpoint schema ${cp.schemaHash} differs from the learner's ${learner.schemaHash}`)
  }
  if (cp.weights.length !== learner.numParams) {
    throw new CheckpointMismatchError(`checkpoint has ${cp.weights.length} weights, the learner ${learner.numParams}`)
  }
}

export interface RecoveryInput {
  store: Store
  envelopes: Envelopes
  learner: Learner
  rule: AveragingRule
  round: number
  replayWindow: number
  logger?: EngineLogger
}

/**
 * The updates accepted at or after `savedAt` (the time the buffer was last taken) and not merged are opened
 * again from the update log and handed to the rule's `rebuffer`. Needs `logEnvelopeBytes`. Returns how many.
 */
export async function recoverBuffered (input: RecoveryInput, savedAt: number, options: AbortOptions): Promise<number> {
  const pending: UpdateLogEntry[] = []
  for await (const e of input.store.updateLog({ since: savedAt, reverse: true, limit: 10_000 }, options)) {
    // inclusive: an update received in the same millisecond as the buffer was taken may not be in the model
    if (e.receivedAt < savedAt) break
    if (e.verdict === 'accepted' && !e.merged && e.bytes.length > 0) pending.push(e)
  }
  // these were accepted once already: a fresh guard, so the restored marks do not refuse them as replays
  const fresh = createMemoryReplayGuard({ window: Math.max(1, input.replayWindow) })
  let recovered = 0
  for (const e of pending.reverse()) {
    const r = await input.envelopes.open(e.bytes, { round: input.round, from: e.sender, replay: fresh })
    if (!r.ok || r.weights.length !== input.learner.numParams) continue
    if (input.rule.rebuffer({ id: r.id, sender: r.header.sender, round: r.header.round, mass: r.header.weight, weights: r.weights })) recovered++
  }
  if (recovered > 0) input.logger?.info({ recovered }, 'buffered updates recovered from the update log')
  return recovered
}

/** The stored bytes of a logged update (equivocation evidence), or empty when no longer in the recent log. */
export async function findLogged (store: Store, id: string): Promise<Uint8Array> {
  for await (const e of store.updateLog({ reverse: true, limit: 1_000 })) if (e.id === id) return e.bytes
  return new Uint8Array(0)
}
