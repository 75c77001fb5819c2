/**
 * Redialling after a partition heals, as the daemon's connection keeper does it
 * (node/services/connection-keeper): every `checkRounds` a peer below its target dials, in parallel, each peer it
 * is not connected to whose backoff is over; the check waits for those dials. Across a cut link a dial hangs
 * until its timeout (`dialTimeoutRounds`; the harness's link proxies hold such connections silent) and then fails,
 * and that peer's next dial waits `min(max, base * 2^(failures - 1))`, of which a share `jitter` is random. When
 * the split heals, dials still hanging fail at once (the proxies close what they held), and the first dial after
 * that succeeds. A link is back when either end's dial succeeds.
 *
 * So the link's return depends on where each keeper is in its backoff at the heal, hence on the split's length
 * in rounds: `healedLinkRounds` computes, for one partition event, the time (in rounds, fractional) each link
 * across it comes back, deterministically from its random stream (one stream per peer). The model leaves out
 * the connection's own set-up time (a loopback dial takes milliseconds) and the keeper's target: it redials
 * every peer across the cut, as a daemon with fewer connections than `--target-peers` (8) does.
 */
import { z } from 'zod'
import type { Rng } from '../protocol/rng.js'

/** The scenario's `network.redial`: the keeper's timers in rounds (defaults: the daemon's at 1-second rounds). */
export const redialSchema = z.object({
  /** Rounds between the keeper's checks (the daemon: every 2 s). */
  checkRounds: z.number().positive().default(2),
  /** Rounds a dial across a cut link hangs before it fails (the daemon: libp2p's per-address timeout, 6 s). */
  dialTimeoutRounds: z.number().positive().default(6),
  /** Wait after the first failed dial of a peer, doubling with each further failure up to the maximum (1 s to 30 s). */
  backoffBaseRounds: z.number().positive().default(1),
  backoffMaxRounds: z.number().positive().default(30),
  /** Share of each wait drawn at random, as the keeper's (0.5). */
  jitter: z.number().min(0).max(1).default(0.5)
}).strict().refine((r) => r.backoffMaxRounds >= r.backoffBaseRounds, { message: 'backoffMaxRounds must be >= backoffBaseRounds', path: ['backoffMaxRounds'] })
export type RedialSpec = z.infer<typeof redialSchema>

/**
 * The daemon keeper's default timers (ms), the same as node/services/connection-keeper/constants.ts (the
 * simulator does not import the daemon; test/simulations/redial.test.ts checks that they agree). A dial that
 * hangs ends at the shorter of the keeper's bound (10 s) and libp2p's per-address dial timeout (6 s,
 * ADDRESS_DIAL_TIMEOUT; the daemon dials one address per peer), so 6 s.
 */
export const KEEPER_TIMERS_MS = { checkMs: 2000, dialTimeoutMs: 6000, backoffBaseMs: 1000, backoffMaxMs: 30_000, jitter: 0.5 } as const

/** The keeper's timers (ms) as a redial spec in rounds of `msPerRound` milliseconds. */
export function redialInRounds (msPerRound: number, timers: { checkMs: number, dialTimeoutMs: number, backoffBaseMs: number, backoffMaxMs: number, jitter: number } = KEEPER_TIMERS_MS): RedialSpec {
  if (!(msPerRound > 0) || !Number.isFinite(msPerRound)) throw new RangeError(`redialInRounds: msPerRound must be a positive number, got ${msPerRound}`)
  return {
    checkRounds: timers.checkMs / msPerRound,
    dialTimeoutRounds: timers.dialTimeoutMs / msPerRound,
    backoffBaseRounds: timers.backoffBaseMs / msPerRound,
    backoffMaxRounds: timers.backoffMaxMs / msPerRound,
    jitter: timers.jitter
  }
}

/** The longest a link can stay down after the heal under `spec` (rounds): a check, a backoff and a check. */
export function worstRedialRounds (spec: RedialSpec): number {
  return spec.backoffMaxRounds + 2 * spec.checkRounds
}

/**
 * When each link across one split comes back (rounds, fractional; a row-major n x n matrix, symmetric, NaN for
 * pairs on the same side). `groups[i]` is peer i's side; the split lasts from `fromRound` until `toRound`.
 */
export function healedLinkRounds (groups: Int32Array, fromRound: number, toRound: number, spec: RedialSpec, rng: Rng): Float64Array {
  const n = groups.length
  if (!(spec.checkRounds > 0)) throw new RangeError(`redial: checkRounds must be positive, got ${spec.checkRounds}`)
  if ((toRound - fromRound) / spec.checkRounds > 1e6) throw new RangeError(`redial: a split of ${toRound - fromRound} rounds is more than a million checks of ${spec.checkRounds} rounds`)
  const dialUp = new Float64Array(n * n).fill(Infinity)
  for (let p = 0; p < n; p++) {
    const r = rng.fork(p)
    const targets: number[] = []
    for (let q = 0; q < n; q++) if (groups[q] !== groups[p]) targets.push(q)
    const failures = new Map<number, number>(targets.map((q) => [q, 0]))
    const nextAt = new Map<number, number>(targets.map((q) => [q, -Infinity]))
    const up = new Set<number>()
    // the keeper's loop runs with its own phase: its first check after the cut comes within one check interval
    let t = fromRound + r.next() * spec.checkRounds
    while (up.size < targets.length) {
      const due = targets.filter((q) => !up.has(q) && (nextAt.get(q) as number) <= t)
      if (due.length === 0) { t += spec.checkRounds; continue }
      let end = t
      if (t >= toRound) {
        for (const q of due) { dialUp[p * n + q] = t; up.add(q) }
      } else {
        // dials across the cut hang until their timeout, or until the heal closes them
        end = Math.min(t + spec.dialTimeoutRounds, toRound)
        for (const q of due) {
          const f = (failures.get(q) as number) + 1
          failures.set(q, f)
          const full = Math.min(spec.backoffMaxRounds, spec.backoffBaseRounds * 2 ** Math.min(f - 1, 40))
          nextAt.set(q, end + full * (1 - spec.jitter * r.next()))
        }
      }
      t = end + spec.checkRounds
    }
  }
  const out = new Float64Array(n * n).fill(Number.NaN)
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) if (groups[a] !== groups[b]) out[a * n + b] = Math.min(dialUp[a * n + b], dialUp[b * n + a])
  }
  return out
}
