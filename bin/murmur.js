#!/usr/bin/env node
// The `murmur` command. Runs the compiled build (dist/, `npm run build`; npm's `prepare` builds it on `npm ci`
// and `npm pack`). In a development checkout (the TypeScript sources sit beside dist/) it runs the sources through
// tsx instead when dist/ is missing or older than any source file, so that it never runs stale code; a note on
// stderr says so when stderr is a terminal. MURMUR_FROM_SOURCES=1 forces the sources.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

const root = fileURLToPath(new URL('..', import.meta.url))
const SOURCE_DIRS = ['crypto', 'protocol', 'learning', 'node', 'simulations']

/** Newest modification time (ms) of the files under the source folders; 0 when there are no sources. */
function newestSource () {
  let newest = 0
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.isFile()) newest = Math.max(newest, statSync(path).mtimeMs)
    }
  }
  for (const dir of SOURCE_DIRS) if (existsSync(join(root, dir))) walk(join(root, dir))
  return newest
}

/** Why the sources must run instead of dist/, or null when dist/ is the code to run. */
function reasonForSources () {
  const checkout = existsSync(join(root, 'node', 'cli', 'main.ts'))
  if (!checkout) return null
  if (process.env.MURMUR_FROM_SOURCES === '1') return ''
  const stamp = join(root, 'dist', '.build-stamp')
  if (!existsSync(stamp)) return 'dist/ has no complete build'
  if (newestSource() > statSync(stamp).mtimeMs) return 'dist/ is older than the sources'
  return null
}

const reason = reasonForSources()
if (reason == null) {
  await import('../dist/node/polyfills.js')
  const { main } = await import('../dist/node/cli/main.js')
  await main(process.argv)
} else {
  if (reason !== '' && process.stderr.isTTY) process.stderr.write(`murmur: ${reason} (npm run build); running the TypeScript sources through tsx (slower start)\n`)
  let register
  try {
    ({ register } = await import('tsx/esm/api'))
  } catch {
    process.stderr.write(`murmur: ${reason || 'MURMUR_FROM_SOURCES=1'} and tsx is not installed: run npm run build (or npm install)\n`)
    process.exit(1)
  }
  register()
  await import('../node/polyfills.ts')
  const { main } = await import('../node/cli/main.ts')
  await main(process.argv)
}
