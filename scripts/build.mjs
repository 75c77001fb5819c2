#!/usr/bin/env node
// Builds the package: compiles the sources to dist/ (JavaScript and declarations, tsconfig.build.json), copies
// the files the code reads beside itself (scenario YAML, the worker bootstrap .mjs, any other non-TypeScript
// file of the source folders), then writes dist/.build-stamp, which bin/murmur.js compares with the sources'
// modification times to tell a fresh build from a stale one.
// Usage: node scripts/build.mjs   (npm run build; also npm's `prepare`, so `npm ci` and `npm pack` build)
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = join(root, 'dist')
const SOURCE_DIRS = ['crypto', 'protocol', 'learning', 'node', 'simulations']

for (const dir of SOURCE_DIRS) rmSync(join(dist, dir), { recursive: true, force: true })
rmSync(join(dist, '.build-stamp'), { force: true })

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' })
if (result.status !== 0) {
  console.error(`build: tsc -p tsconfig.build.json failed (exit ${result.status ?? result.signal})`)
  process.exit(1)
}

let copied = 0
const copyAssets = (rel) => {
  for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
    const path = join(rel, entry.name)
    if (entry.isDirectory()) copyAssets(path)
    else if (entry.isFile() && !entry.name.endsWith('.ts')) {
      mkdirSync(dirname(join(dist, path)), { recursive: true })
      copyFileSync(join(root, path), join(dist, path))
      copied++
    }
  }
}
for (const dir of SOURCE_DIRS) copyAssets(dir)
writeFileSync(join(dist, '.build-stamp'), `${new Date().toISOString()}\n`)
console.error(`build: dist/ compiled, ${copied} asset file(s) copied`)
