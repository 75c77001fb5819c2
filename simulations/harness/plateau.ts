/**
 * The plateau rule of `untilConverged` (issue 16 part 6): a run stops once neither its goal metric on the curve
 * nor its consensus distance has improved for `patience` evaluations in a row.
 *
 * - Metric: an evaluation improves it when it beats the best value so far by more than `minDelta` (absolute, in
 *   the metric's own units; the direction follows `higherIsBetter`).
 * - Consensus distance (relative RMS distance of the models from their mean): an evaluation improves it when it
 *   falls below the best (lowest) so far by more than `consensusMinDelta` of that best (a relative margin: the
 *   distance's scale depends on the model).
 *
 * The best value moves only on a counted improvement (as Keras' EarlyStopping), so a slow drift of many small
 * gains adds up and counts once it exceeds the margin.
 *
 * Both must have stalled: a network still pulling its models together, or still learning, keeps running. A
 * missing value (null: nothing evaluated, or no weights) counts as no improvement of that quantity.
 */

export interface PlateauOptions {
  /** Evaluations without improvement of either quantity before the run stops. */
  patience: number
  /** Smallest absolute gain of the metric that counts as an improvement. */
  minDelta: number
  /** Smallest relative drop of the consensus distance that counts as an improvement. */
  consensusMinDelta: number
  higherIsBetter: boolean
}

export class PlateauRule {
  readonly #o: PlateauOptions
  #bestMetric: number | null = null
  #bestConsensus: number | null = null
  #metricStale = 0
  #consensusStale = 0
  #evaluations = 0

  constructor (options: PlateauOptions) {
    if (!Number.isInteger(options.patience) || options.patience < 1) throw new RangeError(`patience must be an integer >= 1 (got ${options.patience})`)
    if (!(options.minDelta >= 0) || !(options.consensusMinDelta >= 0)) throw new RangeError('minDelta and consensusMinDelta must be >= 0')
    this.#o = options
  }

  /** Evaluations seen so far. */
  get evaluations (): number { return this.#evaluations }

  /** Records one evaluation; true when both quantities have now stalled for `patience` evaluations. */
  observe (metric: number | null, consensusDistance: number | null): boolean {
    this.#evaluations++
    if (metric != null && Number.isFinite(metric) && (this.#bestMetric == null || this.#gain(metric, this.#bestMetric) > this.#o.minDelta)) {
      this.#bestMetric = metric
      this.#metricStale = 0
    } else {
      this.#metricStale++
    }
    const cd = consensusDistance
    if (cd != null && Number.isFinite(cd) && (this.#bestConsensus == null || cd < this.#bestConsensus * (1 - this.#o.consensusMinDelta))) {
      this.#bestConsensus = cd
      this.#consensusStale = 0
    } else {
      this.#consensusStale++
    }
    return this.#metricStale >= this.#o.patience && this.#consensusStale >= this.#o.patience
  }

  #gain (value: number, best: number): number { return this.#o.higherIsBetter ? value - best : best - value }
}

export interface Convergence {
  /** The most rounds the run could take (the scenario's `rounds`). */
  cap: number
  roundsRun: number
  /** 'plateau': the plateau rule ended it (one final round after the plateau, evaluated on the whole split). */
  stoppedBy: 'plateau' | 'cap'
  /** The round whose evaluation completed the plateau (null: none). */
  plateauAt: number | null
  untilConverged: { patience: number, minDelta: number, consensusMinDelta: number } | null
}

/**
 * Which round is the last: the cap's, or, with untilConverged, the one after the evaluation that completes the
 * plateau (the final evaluation on the whole test split happens in the last round, so it has to be known when
 * that round ends).
 */
export class RoundBudget {
  readonly #cap: number
  readonly #rule: PlateauRule | null
  readonly #settings: Convergence['untilConverged']
  #last: number
  #plateauAt: number | null = null

  constructor (cap: number, untilConverged: Convergence['untilConverged'], higherIsBetter: boolean) {
    this.#cap = cap
    this.#last = cap - 1
    this.#settings = untilConverged
    this.#rule = untilConverged == null ? null : new PlateauRule({ ...untilConverged, higherIsBetter })
  }

  /** Index of the last round as known now. */
  get lastRound (): number { return this.#last }

  /** Feeds an evaluated round (not the last) to the plateau rule. */
  afterRound (round: number, record: { evaluated: boolean, mean: number | null, relativeConsensusDistance: number | null }): void {
    if (this.#rule == null || !record.evaluated || round >= this.#last) return
    if (this.#rule.observe(record.mean, record.relativeConsensusDistance)) {
      this.#plateauAt = round
      this.#last = round + 1
    }
  }

  summary (roundsRun: number): Convergence {
    return { cap: this.#cap, roundsRun, stoppedBy: this.#plateauAt != null ? 'plateau' : 'cap', plateauAt: this.#plateauAt, untilConverged: this.#settings }
  }
}
