/**
 * One peer's privacy: its DP-SGD parameters, its accountant, and its budget. Before each training call the
 * learner asks how many of the requested steps the budget still allows; a peer whose next step would spend
 * more than its epsilon is exhausted: it trains no more on its data and the engine sends nothing from it.
 * The accountant's state is plain JSON (`toJSON`), so a daemon can persist it before every send and read it
 * back after a restart.
 */
import type { PrivacySpec } from '../specs.js'
import { RdpAccountant, noiseForTarget, type AccountantState, type Conversion } from './accountant.js'
import { checkDpSgdOptions, type DpSgdOptions } from './dp-sgd.js'
import { InvalidPrivacyError } from './errors.js'

export interface PeerPrivacyInit {
  spec: PrivacySpec
  /** Standard normal draws for the noise (seeded in simulations; `cryptoNormal()` in a daemon). */
  normal: () => number
  /** Sampling rate of one step: batch size / local examples. */
  sampleRate: number
  /** A saved accountant state (a restart continues from what was spent). */
  state?: AccountantState
  conversion?: Conversion
}

export interface PrivacyStatus {
  /** Spent (epsilon, delta) so far. */
  epsilon: number
  delta: number
  budgetEpsilon: number
  remainingEpsilon: number
  steps: number
  noiseMultiplier: number
  clip: number
  sampleRate: number
  exhausted: boolean
}

export class PeerPrivacy {
  readonly spec: PrivacySpec
  readonly accountant: RdpAccountant
  readonly noiseMultiplier: number
  private readonly conversion: Conversion
  private readonly normal: () => number
  private q: number
  private exhaustedFlag = false

  constructor (init: PeerPrivacyInit) {
    this.spec = init.spec
    this.normal = init.normal
    this.conversion = init.conversion ?? 'balle2020'
    this.q = PeerPrivacy.checkRate(init.sampleRate)
    this.accountant = init.state != null ? RdpAccountant.fromJSON(init.state) : new RdpAccountant()
    this.noiseMultiplier = init.spec.noiseMultiplier ?? noiseForTarget(init.spec.epsilon, init.spec.delta, this.q, init.spec.steps!, { orders: this.accountant.orders, conversion: this.conversion })
    checkDpSgdOptions({ clip: init.spec.clip, noiseMultiplier: this.noiseMultiplier, normal: this.normal })
    if (this.noiseMultiplier === 0) throw new InvalidPrivacyError('0 spends an infinite epsilon per step; use a positive noise multiplier', 'privacy.noiseMultiplier')
    this.exhaustedFlag = this.allowedSteps(1) === 0
  }

  private static checkRate (q: number): number {
    if (!(q > 0 && q <= 1)) throw new InvalidPrivacyError(`sampling rate (batch / examples) must be in (0, 1], got ${q}`, 'privacy.sampleRate')
    return q
  }

  /** Updates the sampling rate (the local data grew or the batch size changed). */
  setSampleRate (q: number): void { this.q = PeerPrivacy.checkRate(q) }

  /** How many of `steps` more steps keep the spent epsilon within the budget (bisection on the count). */
  allowedSteps (steps: number): number {
    const fits = (k: number): boolean => this.accountant.spentAfter(this.q, this.noiseMultiplier, k, this.spec.delta, this.conversion).epsilon <= this.spec.epsilon
    if (steps <= 0 || this.exhaustedFlag) return 0
    if (fits(steps)) return steps
    let lo = 0; let hi = steps // fits(lo), !fits(hi)
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1
      if (fits(mid)) lo = mid; else hi = mid
    }
    return lo
  }

  /** The DP-SGD options for the trainer. */
  dpSgd (): DpSgdOptions { return { clip: this.spec.clip, noiseMultiplier: this.noiseMultiplier, normal: this.normal } }

  /**
   * Records `steps` DP-SGD steps taken of `requested`. A call that could take none marks the peer exhausted;
   * the model of the last call that trained (within the budget) may still be sent.
   */
  record (steps: number, requested = steps): void {
    this.accountant.step(this.q, this.noiseMultiplier, steps)
    if (steps === 0 && requested > 0) this.exhaustedFlag = true
  }

  /** Whether the budget is spent: a train call found no step left; no more training on this peer's data, nothing sent. */
  get exhausted (): boolean { return this.exhaustedFlag }

  status (): PrivacyStatus {
    const s = this.accountant.spent(this.spec.delta, this.conversion)
    return {
      epsilon: s.epsilon,
      delta: this.spec.delta,
      budgetEpsilon: this.spec.epsilon,
      remainingEpsilon: Math.max(0, this.spec.epsilon - s.epsilon),
      steps: this.accountant.steps,
      noiseMultiplier: this.noiseMultiplier,
      clip: this.spec.clip,
      sampleRate: this.q,
      exhausted: this.exhaustedFlag
    }
  }

  /** The accountant state to persist. */
  toJSON (): AccountantState { return this.accountant.toJSON() }
}
