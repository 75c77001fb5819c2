/**
 * The peer's model as the engine sees it: the weights last read from or given to the learner, a version that
 * changes with every replacement (so values derived from the model are computed once per version), and the lock
 * that serialises read-modify-write sections (training, merges).
 */
import type { Learner } from '../interfaces.js'

export class ModelState {
  private model: Float32Array | null = null
  private lock: Promise<unknown> = Promise.resolve()
  /** Bumped whenever the model is replaced. */
  version = 0
  constructor (private readonly learner: Learner) {}

  /**
   * The current model. Only `train` changes a learner's weights by itself, and the engine calls `refresh` right
   * after training, so merges never pay for a `learner.weights()` read.
   */
  own (): Float32Array {
    if (this.model == null) return this.refresh()
    return this.model
  }

  /** Reads the learner's weights again (after training). */
  refresh (): Float32Array {
    this.model = this.learner.weights()
    this.version++
    return this.model
  }

  /** Gives the learner new weights (the engine keeps the array: it must not be mutated afterwards). */
  set (w: Float32Array): void {
    this.learner.setWeights(w)
    this.model = w
    this.version++
  }

  async exclusive<T> (fn: () => Promise<T> | T): Promise<T> {
    const run = this.lock.then(fn, fn)
    this.lock = run.catch(() => undefined)
    return await run
  }
}
