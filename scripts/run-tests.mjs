#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's built-in test runner through tsx (Node 20's runner has no globs).
// Usage: node scripts/run-tests.mjs [filter ...]   (a filter keeps files whose path contains it)
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { spawnSync } from 'node:child_process'

const root = new URL('..', import.meta.url).pathname
const filters = process.argv.slice(2)
const files = []
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path)
    else if (name.endsWith('.test.ts')) files.push(relative(root, path))
  }
}
walk(join(root, 'test'))
const selected = filters.length > 0 ? files.filter((f) => filters.some((x) => f.includes(x))) : files
if (selected.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`)
  process.exit(1)
}
const result = spawnSync(process.execPath, [
  '--import', 'tsx', '--import', './node/polyfills.ts',
  '--test', '--test-concurrency=2', '--test-reporter=spec', ...selected
], { cwd: root, stdio: 'inherit', env: { ...process.env, MURMUR_LOG_LEVEL: process.env.MURMUR_LOG_LEVEL ?? 'silent' } })
process.exit(result.status ?? 1)
