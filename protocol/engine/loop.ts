/**
 * The daemon loop: rounds on the injected Clock until stopped. A synchronous rule (one with a round timeout)
 * waits, between beginning and ending a round, until every neighbour's update has arrived or the timeout passes.
 */
import type { AbortOptions, Clock } from '../interfaces.js'

export interface LoopSteps {
  clock: Clock
  roundIntervalMs: number
  /** How long to wait for neighbours each round; null: do not wait. */
  roundTimeoutMs: number | null
  roundComplete: () => boolean
  beginRound: (options: AbortOptions) => Promise<void>
  endRound: (options: AbortOptions) => Promise<unknown>
  /** A round failed (the loop goes on after the round interval). */
  failed: (err: Error) => void
}

export class DaemonLoop {
  private loop: Promise<void> | null = null
  private abort: AbortController | null = null
  private readonly waiters = new Set<() => void>()
  constructor (private readonly steps: LoopSteps) {}

  get running (): boolean { return this.loop != null }

  /** Wakes a loop waiting for neighbours when the round became complete. */
  roundMayBeComplete (): void {
    if (this.waiters.size > 0 && this.steps.roundComplete()) for (const w of this.waiters) w()
  }

  private async waitRoundComplete (timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.steps.roundComplete()) return
    const ac = new AbortController()
    const onAbort = (): void => { ac.abort(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    let resolveDone!: () => void
    const done = new Promise<void>((resolve) => { resolveDone = resolve })
    this.waiters.add(resolveDone)
    try {
      await Promise.race([done, this.steps.clock.sleep(timeoutMs, { signal: ac.signal }).catch(() => undefined)])
    } finally {
      this.waiters.delete(resolveDone)
      signal.removeEventListener('abort', onAbort)
      ac.abort()
    }
    signal.throwIfAborted()
  }

  /** Starts the loop (no-op when running); resolves once started. */
  start (options: AbortOptions = {}): void {
    if (this.loop != null) return
    const { clock, roundIntervalMs } = this.steps
    const ac = new AbortController()
    this.abort = ac
    const outer = options.signal
    if (outer != null) {
      if (outer.aborted) ac.abort(outer.reason)
      else outer.addEventListener('abort', () => { ac.abort(outer.reason) }, { once: true })
    }
    const signal = ac.signal
    this.loop = (async () => {
      while (!signal.aborted) {
        try {
          await this.steps.beginRound({ signal })
          if (this.steps.roundTimeoutMs != null) await this.waitRoundComplete(this.steps.roundTimeoutMs, signal)
          await this.steps.endRound({ signal })
          await clock.sleep(roundIntervalMs, { signal })
        } catch (err) {
          if (signal.aborted) break
          this.steps.failed(err as Error)
          await clock.sleep(roundIntervalMs, { signal }).catch(() => undefined)
        }
      }
    })()
  }

  /** Stops the loop and waits for it; returns whether it was running. */
  async stop (): Promise<boolean> {
    const loop = this.loop
    if (loop == null) return false
    this.abort?.abort(new Error('engine stopped'))
    await loop
    this.loop = null
    this.abort = null
    return true
  }
}
