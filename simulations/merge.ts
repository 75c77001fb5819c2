/** Merging scenario overrides and variants into a scenario's raw fields (before validation). */

function isPlainObject (v: unknown): v is Record<string, unknown> {
  return v != null && typeof v === 'object' && !Array.isArray(v)
}

/** Keys that name what an object is: another value makes it another thing, whose fields it replaces whole. */
const DISCRIMINATORS = ['kind', 'rule', 'type'] as const

/**
 * Deep merge: objects merge key by key, unless they name different things (another `kind`, `rule` or `type`:
 * a logistic model keeps no MLP's hidden layers, an sgd optimizer no adam's betas); anything else in `over`
 * replaces. `undefined` in `over` is skipped.
 */
export function deepMerge (base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue
    const b = out[k]
    out[k] = isPlainObject(b) && isPlainObject(v) && !DISCRIMINATORS.some((d) => d in v && d in b && v[d] !== b[d])
      ? deepMerge(b, v)
      : v
  }
  return out
}
