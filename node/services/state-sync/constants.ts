/** Defaults of the state-sync service. */

/** Direct stream on which a member answers with its current model, sealed and signed. */
export const STATE_PROTOCOL = '/murmur/state/1.0.0'

/** How often the service looks whether the engine wants state. */
export const STATE_CHECK_MS = 2_000

/** Members asked at once. */
export const STATE_ASK_PEERS = 5

/** Answers wanted before adopting (three: one liar is outvoted); fewer are used once STATE_WAIT_FOR_MORE_MS passed. */
export const STATE_MIN_ANSWERS = 3

/** How long a peer that wants state waits for STATE_MIN_ANSWERS connected members before it asks fewer. */
export const STATE_WAIT_FOR_MORE_MS = 10_000

/** Longest wait for one frame of an answer, and for the whole answer. */
export const STATE_READ_TIMEOUT_MS = 5_000
export const STATE_DEADLINE_MS = 20_000

/** One answer per member per this interval; more requests are reset unanswered (sealing costs CPU). */
export const STATE_ANSWER_INTERVAL_MS = 1_000

/** Streams of STATE_PROTOCOL open at once, each way. */
export const STATE_MAX_STREAMS = 4

/** Chunk size when answering. */
export const STATE_CHUNK_BYTES = 256 * 1024
