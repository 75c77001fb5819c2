/**
 * Virtual time for the simulator. `VirtualClock` implements the engine's `Clock` interface: `now()` is the
 * virtual time of the event being processed and `sleep(ms)` resolves when the scheduler advances virtual time
 * past the deadline, never on the wall clock.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock()
 * const woke = clock.sleep(50)
 * clock.advanceTo(100)   // resolves `woke`; clock.now() === 100
 * ```
 */
import type { AbortOptions, Clock } from '../protocol/interfaces.js'
import { MinHeap } from './heap.js'

interface Timer { at: number, seq: number, resolve: () => void, reject: (err: unknown) => void, done: boolean }

export class ClockWentBackwardsError extends Error {
  static override name = 'ClockWentBackwardsError'
  override name = 'ClockWentBackwardsError'
}

export class VirtualClock implements Clock {
  #now: number
  #seq = 0
  readonly #timers = new MinHeap<Timer>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq))

  constructor (startMs = 0) {
    this.#now = startMs
  }

  readonly now = (): number => this.#now

  readonly sleep = async (ms: number, options: AbortOptions = {}): Promise<void> => {
    const signal = options.signal
    if (signal?.aborted === true) throw signal.reason
    const { promise, resolve, reject } = Promise.withResolvers<void>()
    const timer: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, resolve, reject, done: false }
    const onAbort = (): void => {
      if (timer.done) return
      timer.done = true
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    timer.resolve = () => { signal?.removeEventListener('abort', onAbort); resolve() }
    this.#timers.push(timer)
    return await promise
  }

  /** Virtual time of the earliest pending `sleep`, or Infinity. */
  nextTimerAt (): number {
    for (;;) {
      const top = this.#timers.peek()
      if (top == null) return Infinity
      if (!top.done) return top.at
      this.#timers.pop()
    }
  }

  /**
   * Moves virtual time forward to `t`, resolving (in deadline order) every sleep due by then.
   * Returns how many sleepers were woken.
   */
  advanceTo (t: number): number {
    if (t < this.#now) throw new ClockWentBackwardsError(`virtual clock cannot go back from ${this.#now} to ${t}`)
    let woken = 0
    for (;;) {
      const top = this.#timers.peek()
      if (top == null || top.at > t) break
      this.#timers.pop()
      if (top.done) continue
      top.done = true
      this.#now = Math.max(this.#now, top.at)
      top.resolve()
      woken++
    }
    this.#now = t
    return woken
  }

  /** Sets the time of the event about to be processed (same as advanceTo, for readability). */
  set (t: number): void { this.advanceTo(t) }
}
