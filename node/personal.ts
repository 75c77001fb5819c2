/**
 * The daemon's personal model (`murmur daemon --personal`; learning/personal.ts): beside the network model, a
 * local-only model trained on the same training rows, the same number of steps, from the same start; on every
 * evaluation round the blend of the two with the credibility z chosen on this peer's own validation rows (the
 * learner's held-out share, never trained on). `/status` shows the choice and the three validation figures,
 * `GET /model/personal` and `murmur export --personal` give the personal model.
 *
 * The local-only model lives in memory: a restarted daemon trains it again from the start.
 */
import { DatasetLearner, primaryMetric } from '../learning/index.js'
import { choosePersonal, personalWeights, type PersonalChoice } from '../learning/personal-model.js'
import type { RoundReport } from '../protocol/engine/index.js'

export interface PersonalStatus {
  /** The round of the last choice (null: none yet, before the first evaluation round). */
  round: number | null
  /** Local credibility: 0 = the network model, 1 = the local-only model. */
  z: number | null
  blend: 'parameters' | 'predictions'
  /** The criterion z is chosen by, and its value for each model on the validation rows. */
  criterion: string
  validationRows: number
  validation: { network: number, localOnly: number, personal: number } | null
  localOnlySteps: number
  /** Training rows of the local-only model (the network learner's, appended rows included). */
  localOnlyExamples: number
}

export interface PersonalModelOut {
  round: number
  z: number
  blend: 'parameters' | 'predictions'
  /** The personal model as one set of weights (parameter blends, or z at 0 or 1); null for an MLP blend. */
  weights: Float32Array | null
  network: Float32Array
  local: Float32Array
}

export class DaemonPersonal {
  readonly #main: DatasetLearner
  readonly #local: DatasetLearner
  readonly #metric: { name: string, higherIsBetter: boolean }
  #datasetSize: number
  #choice: (PersonalChoice & { round: number }) | null = null

  constructor (learner: DatasetLearner, options: { seed: number | string, initSeed: string }) {
    this.#main = learner
    this.#metric = primaryMetric(learner.dataset.task)
    this.#local = new DatasetLearner({
      model: learner.model, dataset: learner.dataset, shard: learner.rows(), seed: `${String(options.seed)}:local-only`, initSeed: options.initSeed, batchSize: learner.batchSize
    })
    this.#datasetSize = learner.dataset.size
  }

  /** After each local round: the local-only model trains as many steps; on evaluation rounds z is chosen again. */
  onRound (report: RoundReport): void {
    // rows the data feed appended since (all go to training: DatasetLearner.addRecords)
    const size = this.#main.dataset.size
    if (size > this.#datasetSize) {
      this.#local.addRows(Uint32Array.from({ length: size - this.#datasetSize }, (_, i) => this.#datasetSize + i))
      this.#datasetSize = size
    }
    this.#local.learningRate = this.#main.learningRate
    if (report.steps > 0) this.#local.trainSync(report.steps)
    if (report.evaluation != null) this.choose(report.round)
  }

  /** Chooses z now on the validation rows (the network model as it is this round). */
  choose (round: number): PersonalChoice {
    const c = choosePersonal(this.#main.model, this.#main.dataset, this.#main.validationRows(), this.#main.weights(), this.#local.weights(), { metric: this.#metric })
    this.#choice = { ...c, round }
    return c
  }

  status (): PersonalStatus {
    const c = this.#choice
    return {
      round: c?.round ?? null,
      z: c?.z ?? null,
      blend: c?.mode ?? 'parameters',
      criterion: c?.loss ?? this.#metric.name,
      validationRows: this.#main.validationRows().length,
      validation: c == null || c.validation.rows === 0 ? null : { network: c.validation.network, localOnly: c.validation.localOnly, personal: c.validation.personal },
      localOnlySteps: this.#local.state.step,
      localOnlyExamples: this.#local.numExamples()
    }
  }

  /** The personal model of the last choice (chosen now when there was none yet). */
  model (round: number): PersonalModelOut {
    const c = this.#choice ?? { ...this.choose(round), round }
    return { round: c.round, z: c.z, blend: c.mode, weights: personalWeights(c), network: c.network, local: c.local }
  }

  dispose (): void { this.#local.dispose() }
}
