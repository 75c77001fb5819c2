/**
 * The daemon's storage: typed repositories over one LevelDB (`level`), one-byte bucket prefixes (table in
 * buckets.ts), every state change one atomic batch, a hash-chained update log.
 *
 * @example
 * ```ts
 * const store = await LevelStore.open(join(datadir, 'db'))
 * await store.batch().appendLog({ ...entry, envelope }).setReplayMark(sender, { seq }).commit()
 * const { errors } = await store.verifyLog()
 * ```
 */
export * from './buckets.js'
export * from './level-store.js'
export * from './known-peers.js'
export * from './update-log.js'
export * from './read-only.js'
export * from './constants.js'
export * from './repair.js'
export * from './privacy-state.js'
