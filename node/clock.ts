import type { AbortOptions, Clock } from '../protocol/interfaces.js'

/** The wall clock (`Clock` in protocol/interfaces.ts). */
export const wallClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms: number, options: AbortOptions = {}) => {
    const { signal } = options
    signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { clearTimeout(t); reject(signal?.reason) }
      const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
}
