#!/usr/bin/env node
// Runs test/**/*.test.ts with Node's built-in test runner through tsx (Node 20's runner has no globs), in tiers,
// with a timeout for every test (scripts/test-timeout.mjs, preloaded into each test file's process).
// Usage: node scripts/run-tests.mjs [--tier all|unit|integration|sim|e2e] [--test-timeout MS] [filter ...]
//   --tier          which folders of test/ run (TIERS below; default all, which is `npm test`)
//   --test-timeout  per-test timeout in ms for tests that set none (default MURMUR_TEST_TIMEOUT_MS, else 120000);
//                   a test that never ends fails at it, one that blocks its thread gets its process killed
//   filter          keeps the files whose path contains one of them (within the tier)
// Failing tests are listed by name; node:test's "test at" line points at scripts/test-timeout.mjs for the tests it
// wraps (node:test takes the caller's location), the error's stack at the test's own line.
import { readdirSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * Paths under test/ (folders or files) per tier; a file belongs to the tier of its longest matching entry, and
 * every test file must match one.
 */
const TIERS = {
  // pure and fast, in this process: no sockets, no child processes
  unit: ['crypto', 'codecs', 'messages', 'averaging', 'membership', 'learning', 'build'],
  // engines over real TF.js, libp2p nodes, level stores, API servers, short CLI processes
  integration: ['node', 'engine', 'membership/cli.test.ts', 'learning/baseline.test.ts'],
  // the simulator: worlds, worker threads, whole scenarios
  sim: ['simulations'],
  // real daemon processes, SIGKILL crash runs, the built package installed from its tarball
  e2e: ['e2e']
}
const DEFAULT_TIMEOUT_MS = 120_000

const root = fileURLToPath(new URL('..', import.meta.url))

function usage (message) {
  console.error(`run-tests: ${message}\nusage: node scripts/run-tests.mjs [--tier all|${Object.keys(TIERS).join('|')}] [--test-timeout MS] [filter ...]`)
  process.exit(2)
}

let tier = 'all'
let timeoutMs = process.env.MURMUR_TEST_TIMEOUT_MS ?? String(DEFAULT_TIMEOUT_MS)
let timeoutFrom = process.env.MURMUR_TEST_TIMEOUT_MS != null ? 'MURMUR_TEST_TIMEOUT_MS' : 'the default'
const filters = []
const args = process.argv.slice(2)
for (let i = 0; i < args.length; i++) {
  const a = args[i]
  const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined]
  const value = () => {
    const v = inline ?? args[++i]
    if (v == null) usage(`${flag} needs a value`)
    return v
  }
  if (flag === '--tier') tier = value()
  else if (flag === '--test-timeout') { timeoutMs = value(); timeoutFrom = '--test-timeout' } else if (a.startsWith('--')) usage(`unknown option ${a}`)
  else filters.push(a)
}
if (tier !== 'all' && !(tier in TIERS)) usage(`unknown tier '${tier}' (tiers: all, ${Object.keys(TIERS).join(', ')})`)
if (!/^\d+$/.test(timeoutMs) || Number(timeoutMs) <= 0) usage(`the per-test timeout (${timeoutFrom}) must be a positive whole number of milliseconds, got '${timeoutMs}'`)

const files = []
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path)
    else if (name.endsWith('.test.ts')) files.push(relative(root, path))
  }
}
walk(join(root, 'test'))

const entries = Object.entries(TIERS).flatMap(([t, paths]) => paths.map((p) => [p, t])).sort(([a], [b]) => b.length - a.length)
const tierOf = (file) => {
  const rel = relative(join(root, 'test'), join(root, file)).split(sep).join('/')
  return entries.find(([p]) => rel === p || rel.startsWith(p + '/'))?.[1]
}
const unassigned = files.filter((f) => tierOf(f) == null)
if (unassigned.length > 0) {
  console.error(`run-tests: ${unassigned.join(', ')} belong(s) to no tier: add the file or its folder to TIERS in scripts/run-tests.mjs`)
  process.exit(1)
}

const inTier = tier === 'all' ? files : files.filter((f) => tierOf(f) === tier)
const selected = filters.length > 0 ? inTier.filter((f) => filters.some((x) => f.includes(x))) : inTier
if (selected.length === 0) {
  console.error(`run-tests: no test files in tier ${tier}${filters.length > 0 ? ` match ${filters.join(' ')}` : ''}`)
  process.exit(1)
}
// The whole run has a deadline too (MURMUR_TEST_RUN_TIMEOUT_MS, default 40 min; `npm test` takes under 10): past
// it, the runner and every process it started (its own process group) are killed and the run fails, so that CI
// gets an answer instead of waiting on a process something leaked.
const runTimeoutMs = Number(process.env.MURMUR_TEST_RUN_TIMEOUT_MS ?? 40 * 60_000)
if (!Number.isFinite(runTimeoutMs) || runTimeoutMs <= 0) usage(`MURMUR_TEST_RUN_TIMEOUT_MS must be a positive number of milliseconds, got '${process.env.MURMUR_TEST_RUN_TIMEOUT_MS}'`)
const child = spawn(process.execPath, [
  '--import', 'tsx', '--import', './node/polyfills.ts', '--import', './scripts/test-timeout.mjs',
  // a test file's process exits when its tests are done, even if a failed test left a timer or socket behind
  '--test', '--test-force-exit', '--test-concurrency=2', '--test-reporter=spec', ...selected
], {
  cwd: root,
  stdio: 'inherit',
  detached: true,
  env: { ...process.env, MURMUR_LOG_LEVEL: process.env.MURMUR_LOG_LEVEL ?? 'silent', MURMUR_TEST_TIMEOUT_MS: timeoutMs }
})
const killGroup = (signal) => { try { process.kill(-child.pid, signal) } catch {} }
const deadline = setTimeout(() => {
  console.error(`run-tests: the run passed its deadline of ${runTimeoutMs} ms (MURMUR_TEST_RUN_TIMEOUT_MS); killing it`)
  killGroup('SIGKILL')
}, runTimeoutMs)
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { killGroup('SIGKILL'); process.exit(130) })
child.on('error', (err) => { console.error(`run-tests: could not start node --test: ${err.message}`); process.exit(1) })
child.on('exit', (code, signal) => {
  clearTimeout(deadline)
  killGroup('SIGKILL') // anything of the run still alive (a daemon a test file leaked)
  process.exit(code ?? (signal != null ? 1 : 0))
})
