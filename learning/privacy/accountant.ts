/**
 * A Rényi-DP accountant for DP-SGD: composes the Poisson-subsampled Gaussian mechanism over steps (RDP adds
 * up), converts the RDP curve to (epsilon, delta), and finds the noise multiplier for a target epsilon.
 *
 * Two RDP -> (epsilon, delta) conversions:
 * - 'balle2020' (default): Balle, Barthe, Gaboardi, Hsu, Sato 2020, "Hypothesis Testing Interpretations and
 *   Renyi Differential Privacy", Theorem 21 of arXiv:1905.09982:
 *   eps = rdp - (log delta + log alpha) / (alpha - 1) + log((alpha - 1) / alpha).
 *   What Opacus' `get_privacy_spent` and Google's dp_accounting (hence TF Privacy today) use.
 * - 'mironov2017': Mironov 2017, "Rényi Differential Privacy", Proposition 3:
 *   eps = rdp + log(1 / delta) / (alpha - 1). What TF Privacy used before dp_accounting; never tighter.
 */
import { computeRdp } from './rdp.js'
import { AccountantStateError, InvalidPrivacyError } from './errors.js'
import { DEFAULT_ORDERS, MAX_ACCOUNTANT_ENTRIES, NOISE_SEARCH_EPSILON_TOLERANCE, NOISE_SEARCH_MAX, NOISE_SEARCH_START } from './constants.js'

export type Conversion = 'balle2020' | 'mironov2017'

export interface PrivacySpent { epsilon: number, delta: number, order: number }

/** One run of identical steps: `steps` draws at sampling rate `q` with noise multiplier `noiseMultiplier`. */
export interface AccountantEntry { q: number, noiseMultiplier: number, steps: number }

export interface AccountantState { version: 1, orders: number[], entries: AccountantEntry[] }

function checkDelta (delta: number): void {
  if (!(delta > 0 && delta < 1)) throw new InvalidPrivacyError(`delta must be in (0, 1), got ${delta}`, 'delta')
}

/** The smallest epsilon over the orders for `delta`, and the order that gives it. */
export function epsilonFromRdp (orders: readonly number[], rdp: ArrayLike<number>, delta: number, conversion: Conversion = 'balle2020'): PrivacySpent {
  checkDelta(delta)
  if (orders.length !== rdp.length || orders.length === 0) throw new InvalidPrivacyError(`${orders.length} orders but ${rdp.length} RDP values`, 'orders')
  let best = Infinity; let bestOrder = NaN
  const logDelta = Math.log(delta)
  for (let i = 0; i < orders.length; i++) {
    const a = orders[i]; const r = rdp[i]
    if (!(r >= 0)) continue // NaN or negative: unusable order
    let eps: number
    if (conversion === 'mironov2017') {
      eps = r - logDelta / (a - 1)
    } else if (delta * delta + Math.expm1(-r) > 0) {
      eps = 0 // dp_accounting: delta <= sqrt(1 - exp(-KL)) already holds
    } else {
      eps = r - (logDelta + Math.log(a)) / (a - 1) + Math.log((a - 1) / a)
    }
    if (eps < best) { best = eps; bestOrder = a }
  }
  return { epsilon: Math.max(0, best), delta, order: bestOrder }
}

/** Epsilon of `steps` steps at rate `q` and noise multiplier `sigma` (no accountant state). */
export function epsilonOf (q: number, sigma: number, steps: number, delta: number, options: { orders?: readonly number[], conversion?: Conversion } = {}): PrivacySpent {
  const orders = options.orders ?? DEFAULT_ORDERS
  return epsilonFromRdp(orders, computeRdp(q, sigma, steps, orders), delta, options.conversion)
}

/**
 * The noise multiplier for which `steps` steps at rate `q` spend `epsilon` at `delta`, by bisection as
 * Opacus' get_noise_multiplier does: double the upper bracket (from 2 x 10) until it is private enough, then halve the
 * bracket until its upper end's epsilon is within `tolerance` below the target. Returns the upper end (its
 * epsilon never exceeds the target).
 */
export function noiseForTarget (epsilon: number, delta: number, q: number, steps: number,
  options: { orders?: readonly number[], conversion?: Conversion, tolerance?: number } = {}): number {
  if (!(epsilon > 0 && Number.isFinite(epsilon))) throw new InvalidPrivacyError(`target epsilon must be finite and > 0, got ${epsilon}`, 'epsilon')
  const tol = options.tolerance ?? NOISE_SEARCH_EPSILON_TOLERANCE
  const eps = (s: number): number => epsilonOf(q, s, steps, delta, options).epsilon
  let low = 0; let high = NOISE_SEARCH_START
  let epsHigh = Infinity
  while (epsHigh > epsilon) {
    high *= 2 // as Opacus: the lower end stays 0, so the bisection below starts from [0, high]
    if (high > NOISE_SEARCH_MAX) throw new InvalidPrivacyError(`no noise multiplier up to ${NOISE_SEARCH_MAX} reaches epsilon ${epsilon} (delta ${delta}, q ${q}, ${steps} steps)`, 'epsilon')
    epsHigh = eps(high)
  }
  while (epsilon - epsHigh > tol) {
    const mid = (low + high) / 2
    const e = eps(mid)
    if (e < epsilon) { high = mid; epsHigh = e } else low = mid
    if (high - low < 1e-12) break
  }
  return high
}

/** One peer's accountant: the steps it took, composed into an RDP curve over fixed orders. */
export class RdpAccountant {
  readonly orders: readonly number[]
  private readonly entries: AccountantEntry[] = []
  private readonly rdp: Float64Array
  /** One step's RDP per (q, sigma) seen (a peer repeats the same step every round). */
  private readonly perStep = new Map<string, Float64Array>()

  constructor (options: { orders?: readonly number[] } = {}) {
    this.orders = options.orders ?? DEFAULT_ORDERS
    if (this.orders.length === 0 || this.orders.some((a) => !(a > 1))) throw new InvalidPrivacyError('orders must be non-empty and all > 1', 'orders')
    this.rdp = new Float64Array(this.orders.length)
  }

  /** Records `count` steps at rate `q` with noise multiplier `noiseMultiplier`. */
  step (q: number, noiseMultiplier: number, count = 1): void {
    if (!(Number.isInteger(count) && count >= 0)) throw new InvalidPrivacyError(`steps must be an integer >= 0, got ${count}`, 'steps')
    if (count === 0) return
    const one = this.stepRdp(q, noiseMultiplier)
    for (let i = 0; i < one.length; i++) this.rdp[i] += one[i] * count
    const last = this.entries[this.entries.length - 1]
    if (last != null && last.q === q && last.noiseMultiplier === noiseMultiplier) last.steps += count
    else this.entries.push({ q, noiseMultiplier, steps: count })
  }

  private stepRdp (q: number, noiseMultiplier: number): Float64Array {
    const key = `${q},${noiseMultiplier}`
    let one = this.perStep.get(key)
    if (one == null) {
      one = computeRdp(q, noiseMultiplier, 1, this.orders) // validates q and sigma
      if (this.perStep.size >= MAX_ACCOUNTANT_ENTRIES) this.perStep.clear()
      this.perStep.set(key, one)
    }
    return one
  }

  /** Total steps recorded. */
  get steps (): number { return this.entries.reduce((s, e) => s + e.steps, 0) }

  /** The (epsilon, delta) spent so far. */
  spent (delta: number, conversion: Conversion = 'balle2020'): PrivacySpent {
    return epsilonFromRdp(this.orders, this.rdp, delta, conversion)
  }

  /** The epsilon spent after `count` more steps at (q, sigma), without recording them. */
  spentAfter (q: number, noiseMultiplier: number, count: number, delta: number, conversion: Conversion = 'balle2020'): PrivacySpent {
    if (!(Number.isInteger(count) && count >= 0)) throw new InvalidPrivacyError(`steps must be an integer >= 0, got ${count}`, 'steps')
    const one = this.stepRdp(q, noiseMultiplier)
    const add = Float64Array.from(this.rdp, (r, i) => r + one[i] * count)
    return epsilonFromRdp(this.orders, add, delta, conversion)
  }

  /** A plain-JSON copy of the state (what a daemon persists). */
  toJSON (): AccountantState {
    return { version: 1, orders: [...this.orders], entries: this.entries.map((e) => ({ ...e })) }
  }

  /** Rebuilds an accountant from `toJSON()` output; throws AccountantStateError naming the bad field. */
  static fromJSON (value: unknown): RdpAccountant {
    const v = value as Partial<AccountantState> | null
    if (v == null || typeof v !== 'object') throw new AccountantStateError('accountant state: not an object')
    if (v.version !== 1) throw new AccountantStateError(`accountant state: version: expected 1, got ${String(v.version)}`)
    if (!Array.isArray(v.orders) || v.orders.length === 0 || v.orders.length > 10000 || !v.orders.every((a) => typeof a === 'number' && a > 1 && Number.isFinite(a))) {
      throw new AccountantStateError('accountant state: orders: expected 1..10000 finite numbers > 1')
    }
    if (!Array.isArray(v.entries) || v.entries.length > MAX_ACCOUNTANT_ENTRIES) throw new AccountantStateError(`accountant state: entries: expected an array of at most ${MAX_ACCOUNTANT_ENTRIES}`)
    const acc = new RdpAccountant({ orders: v.orders })
    v.entries.forEach((e, i) => {
      const ok = e != null && typeof e.q === 'number' && typeof e.noiseMultiplier === 'number' && Number.isInteger(e.steps) && e.steps >= 0 && e.steps <= 1e12
      if (!ok) throw new AccountantStateError(`accountant state: entries.${i}: expected { q, noiseMultiplier, steps }`)
      try { acc.step(e.q, e.noiseMultiplier, e.steps) } catch (err) {
        throw new AccountantStateError(`accountant state: entries.${i}: ${(err as Error).message}`)
      }
    })
    return acc
  }
}
