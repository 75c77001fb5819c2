/**
 * Per-peer exponential backoff with jitter for redialling: after the n-th failure in a row a peer is not dialled
 * again before `min(maxMs, baseMs * 2^(n-1))`, of which a share `jitter` is drawn from the given random source
 * (seeded in the daemon, so runs are reproducible). Time is passed in, so the schedule is tested on a fake clock.
 */
export interface BackoffInit {
  baseMs: number
  maxMs: number
  /** 0..1: the wait is drawn from [(1 - jitter) * d, d]. */
  jitter: number
  /** Uniform in [0, 1). */
  random: () => number
}

interface Entry { failures: number, nextAt: number }

export class DialBackoff {
  private readonly entries = new Map<string, Entry>()

  constructor (private readonly init: BackoffInit) {
    if (!(init.baseMs > 0) || !(init.maxMs >= init.baseMs)) throw new RangeError(`backoff needs 0 < baseMs <= maxMs, got ${init.baseMs} and ${init.maxMs}`)
    if (!(init.jitter >= 0 && init.jitter <= 1)) throw new RangeError(`backoff jitter must be within 0..1, got ${init.jitter}`)
  }

  /** True when `key` may be dialled at `nowMs` (never failed, or its wait is over). */
  due (key: string, nowMs: number): boolean {
    const e = this.entries.get(key)
    return e == null || nowMs >= e.nextAt
  }

  /** Failures in a row of `key`. */
  failures (key: string): number { return this.entries.get(key)?.failures ?? 0 }

  /** When `key` may be dialled next (ms; 0 when at once). */
  nextAt (key: string): number { return this.entries.get(key)?.nextAt ?? 0 }

  /** Records a failed dial at `nowMs`; returns the wait before the next one (ms). */
  failed (key: string, nowMs: number): number {
    const failures = this.failures(key) + 1
    const full = Math.min(this.init.maxMs, this.init.baseMs * 2 ** Math.min(failures - 1, 40))
    const wait = Math.round(full * (1 - this.init.jitter * this.init.random()))
    this.entries.set(key, { failures, nextAt: nowMs + wait })
    return wait
  }

  /** A successful dial (or a connection that arrived): the next failure starts from `baseMs` again. */
  succeeded (key: string): void { this.entries.delete(key) }

  /** Keys with a pending wait. */
  size (): number { return this.entries.size }
}
