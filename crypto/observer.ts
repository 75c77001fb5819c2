/**
 * An optional observer of a CryptoProvider's primitive calls (the simulator's benchmark books their wall time
 * per round). Security code never sees it: `observedProvider` wraps a provider, and whoever wants the figures
 * passes the wrapped provider in. Without an observer nothing is timed and nothing costs.
 */
import type { CryptoProvider } from './provider.js'

/** The primitives whose calls are reported: the work one envelope seal or open costs. */
export const OBSERVED_PRIMITIVES = [
  'sign', 'verify', 'secretbox', 'secretboxInto', 'secretboxPrefixedInto', 'secretboxOpen', 'secretboxOpenInto',
  'box', 'boxOpen', 'blake3'
] as const
export type ObservedPrimitive = typeof OBSERVED_PRIMITIVES[number]

export interface CryptoObserver {
  /** One call of `primitive` took `ms` milliseconds of wall time (reported also when it threw). */
  primitive: (primitive: ObservedPrimitive, ms: number) => void
}

/** `inner` with every observed primitive reporting its wall time to `observer`; the rest is `inner`'s own. */
export function observedProvider (inner: CryptoProvider, observer: CryptoObserver): CryptoProvider {
  const out: Record<string, unknown> = { ...inner }
  for (const name of OBSERVED_PRIMITIVES) {
    const f = inner[name] as (...args: unknown[]) => unknown
    out[name] = (...args: unknown[]): unknown => {
      const started = performance.now()
      try { return f(...args) } finally { observer.primitive(name, performance.now() - started) }
    }
  }
  return out as unknown as CryptoProvider
}

/** An observer that sums wall time and calls over all primitives (what the simulator's timing reads). */
export function totalTimeObserver (): CryptoObserver & { readonly ms: number, readonly calls: number } {
  const t = {
    ms: 0,
    calls: 0,
    primitive: (_primitive: ObservedPrimitive, ms: number): void => { t.ms += ms; t.calls++ }
  }
  return t
}
