/** The engine's named errors (tests and callers match on `.name`). */

/** Thrown for invalid engine options (names the option). */
export class InvalidEngineOptionsError extends Error {
  static override name = 'InvalidEngineOptionsError'
  override name = 'InvalidEngineOptionsError'
}

/** Thrown when the engine's steps are called out of order (beginRound twice without endRound). */
export class EngineStateError extends Error {
  static override name = 'EngineStateError'
  override name = 'EngineStateError'
}

/** Thrown when a stored checkpoint does not fit the learner (schema or length). */
export class CheckpointMismatchError extends Error {
  static override name = 'CheckpointMismatchError'
  override name = 'CheckpointMismatchError'
}
