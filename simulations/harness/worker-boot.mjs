// Worker-thread bootstrap: registers tsx (worker threads do not inherit the parent's loader hooks), loads the
// polyfills, then the TypeScript entry named in workerData.entry.
import { register } from 'tsx/esm/api'
import { workerData } from 'node:worker_threads'

register()
await import(new URL('../../node/polyfills.ts', import.meta.url).href)
await import(workerData.entry)
