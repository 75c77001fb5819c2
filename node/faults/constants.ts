/** Defaults of the fault harness (`murmur testnet --faults`). */

/** Daemons in the network (the harness keeps one more member back for `late-join`). */
export const FAULT_PEERS = 4

/** The rule's round window (maxStalenessRounds) the harness runs at: the faults are measured against it. */
export const FAULT_WINDOW_ROUNDS = 20

/** Pause between a daemon's rounds. */
export const FAULT_ROUND_INTERVAL_MS = 20

/** Local training steps per round. */
export const FAULT_LOCAL_STEPS = 1

/** A member that catches up must be merged again within this (the goal for late-join, return, lost-db). */
export const CATCH_UP_GOAL_S = 30

/** After a partition, a kill or a restart of all: every peer connected and merging within this. */
export const RECONNECT_GOAL_S = 60

/** After a partition heals, the metric spread across members must be back to its pre-split value within this. */
export const SPREAD_GOAL_S = 300

/** Rounds after the heal `partition-heal` watches for the consensus distance to come back (for the prediction). */
export const CONSENSUS_WATCH_ROUNDS = 100

/** How long `partition-heal` keeps the halves apart, in round windows. */
export const PARTITION_WINDOWS = 3

/** Longest wait for any one condition of a fault. */
export const FAULT_STEP_TIMEOUT_MS = 180_000

/** Rounds claimed past the network's by the `round-jump` member. */
export const ROUND_JUMP = 999

/** How long the harness watches the rounds after a round jump. */
export const ROUND_JUMP_WATCH_MS = 10_000

/** The tmpfs the `disk-full` fault puts one member's database on (MiB), the space left free when it fills it
 * (bytes: less than a checkpoint and a log entry), and how long /health may take to say so (ms). */
export const DISK_FULL_TMPFS_MIB = 16
export const DISK_FULL_SPARE_BYTES = 4_096
export const DISK_FULL_HEALTH_TIMEOUT_MS = 60_000
