/**
 * The phase schedule of the exact GLM over the network (rule glm-newton): rounds are grouped in phases of the
 * given lengths (the last length repeats); within a phase every peer's coefficients stay fixed while push-sum
 * mixes the statistics at them, and at the end of a phase each peer takes the Newton step from its estimate.
 * The rule (which restarts its push-sum with each phase) and the learner (which steps) read the same schedule.
 *
 * @example
 * ```ts
 * phaseOf(0, [3, 5])   // { phase: 0, last: false }
 * phaseOf(2, [3, 5])   // { phase: 0, last: true }: the step is taken at the end of round 2
 * phaseOf(12, [3, 5])  // { phase: 2, last: true }
 * ```
 */
export interface PhasePosition { phase: number, last: boolean }

/** Where round `round` (0-based) falls in a schedule of phase lengths (each >= 1, the last repeating). */
export function phaseOf (round: number, schedule: readonly number[]): PhasePosition {
  if (schedule.length === 0 || schedule.some((l) => !(Number.isInteger(l) && l >= 1))) throw new RangeError(`phase lengths must be integers >= 1, got [${schedule.join(', ')}]`)
  let start = 0
  for (let k = 0; ; k++) {
    const length = schedule[Math.min(k, schedule.length - 1)]
    if (round < start + length) return { phase: k, last: round === start + length - 1 }
    if (k >= schedule.length - 1) {
      // the last length repeats: jump straight to the phase
      const extra = Math.floor((round - start) / length)
      const s = start + extra * length
      return { phase: k + extra, last: round === s + length - 1 }
    }
    start += length
  }
}

/** Default phases: 3 rounds for the start (the network's mean rate), then Newton steps every 5 rounds, 7 for the rest. */
export const DEFAULT_PHASES: readonly number[] = [3, 5, 5, 5, 5, 7]

/** Phases begun within the first `rounds` rounds: the exact GLM's releases of its statistics (one per phase). */
export function phasesWithin (rounds: number, schedule: readonly number[]): number {
  return rounds <= 0 ? 0 : phaseOf(rounds - 1, schedule).phase + 1
}
