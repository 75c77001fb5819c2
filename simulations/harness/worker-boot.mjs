// Worker-thread bootstrap: loads the polyfills, then the entry module named in workerData.entry. From the
// sources (a `.ts` entry) it registers tsx first (worker threads do not inherit the parent's loader hooks); from
// the compiled build (dist/, a `.js` entry) it runs plain JavaScript.
import { workerData } from 'node:worker_threads'

const fromSources = workerData.entry.endsWith('.ts')
if (fromSources) {
  const { register } = await import('tsx/esm/api')
  register()
}
await import(new URL(`../../node/polyfills.${fromSources ? 'ts' : 'js'}`, import.meta.url).href)
await import(workerData.entry)
