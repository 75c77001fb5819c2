/**
 * URLs of sibling modules that are loaded by URL (worker entries, peer factories). From the sources (tsx) the
 * caller's own URL ends in `.ts` and so do its siblings; from the compiled build (dist/) they end in `.js`.
 *
 * @example
 * ```ts
 * const entry = siblingModule('worker-entry', import.meta.url)   // .../harness/worker-entry.ts or .js
 * ```
 */
export function siblingModule (name: string, base: string): string {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base).href
}
