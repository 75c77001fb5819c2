/**
 * The daemon's side of differential privacy: after every train call that took steps, the accountant is
 * committed to the store (bucket 0x0c) before the call returns, so before the engine can send anything trained
 * in it; a failed write fails the round and nothing is sent. A restart (after a crash too) reads it back and
 * continues from what was spent. Once the budget is spent the learner trains no more and the engine sends
 * nothing (it still receives and merges); this says so once, as a warning.
 */
import type { DaemonLearner } from './wiring.js'
import type { LevelStore, PrivacyRecord } from './store/index.js'
import type { Logger } from './logger.js'

/** The saved accountant of `networkId` from the store, if any (a record of another network is not used). */
export async function savedPrivacy (store: Pick<LevelStore, 'privacyRecord'>, networkId: string, log: Logger): Promise<PrivacyRecord['accountant'] | undefined> {
  const record = await store.privacyRecord()
  if (record == null) return undefined
  if (record.networkId !== networkId) {
    log.warn({ stored: record.networkId.slice(0, 16), network: networkId.slice(0, 16) }, 'the datadir holds a privacy accountant of another network: not used here (budgets do not compose across networks by this accountant)')
    return undefined
  }
  return record.accountant
}

/** Makes `learner.train` persist the accountant before it returns, and warn when the budget is spent. */
export function guardPrivacy (learner: DaemonLearner, store: Pick<LevelStore, 'commit'>, networkId: string, log: Logger): void {
  const privacy = learner.privacy
  if (privacy == null) return
  let warned = false
  const warn = (): void => {
    if (warned || !privacy.exhausted) return
    warned = true
    log.warn({ ...privacy.status() }, 'privacy budget spent: this peer no longer trains on its data and sends no updates (it still receives and merges)')
  }
  warn()
  const train = learner.train.bind(learner)
  learner.train = async (steps, options) => {
    const r = await train(steps, options)
    if (r.steps > 0) await store.commit({ privacy: { version: 1, networkId, accountant: privacy.toJSON(), at: Date.now() } }, options)
    warn()
    return r
  }
}
