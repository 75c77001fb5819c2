// The test runner's guards: every test gets a timeout (scripts/test-timeout.mjs), so that a test that never ends
// fails instead of hanging the run, whether it waits forever or blocks its thread; and bad runner options are
// refused with a message.
import { it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
// without node:test's marker of a child test process, so that the spawned `node --test` runs its files
const { NODE_TEST_CONTEXT: _ctx, ...cleanEnv } = process.env

it('a test that never ends fails at the per-test timeout; explicit and inherited timeouts still apply', () => {
  const started = Date.now()
  const r = spawnSync(process.execPath, [
    '--import', 'tsx', '--import', './scripts/test-timeout.mjs', '--test', '--test-reporter=spec', 'test/build/fixtures/timeouts.fixture.ts'
  ], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...cleanEnv, MURMUR_TEST_TIMEOUT_MS: '1500' } })
  const out = `${r.stdout}\n${r.stderr}`
  assert.equal(r.error, undefined, `the fixture run itself hung or failed to start: ${String(r.error)}`)
  assert.notEqual(r.status, 0, `a run with hanging tests must fail:\n${out}`)
  assert.match(out, /async hang[\s\S]*test timed out after 1500ms/, `the async hang fails at the 1.5 s timeout:\n${out}`)
  assert.match(out, /MARK explicit/, `a test's own longer timeout wins over the default:\n${out}`)
  assert.match(out, /MARK inherited/, `a test inherits its suite's timeout instead of the default:\n${out}`)
  assert.match(out, /test-timeout: "test 'sync hang'".*blocked its thread/, `the blocking test is named and its process killed:\n${out}`)
  assert.ok(Date.now() - started < 50_000, `the run ended soon after the timeouts (${Date.now() - started} ms)`)
})

it('the runner refuses an unknown tier and a bad timeout, naming them', () => {
  const run = (...args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, ['scripts/run-tests.mjs', ...args], { cwd: root, encoding: 'utf8', timeout: 30_000, env: cleanEnv })
  const tier = run('--tier', 'nightly')
  assert.equal(tier.status, 2, `unknown tier exits 2: ${String(tier.stderr)}`)
  assert.match(String(tier.stderr), /unknown tier 'nightly'/, 'the message names the tier')
  const timeout = run('--test-timeout', '-5', 'crypto')
  assert.equal(timeout.status, 2, `a bad timeout exits 2: ${String(timeout.stderr)}`)
  assert.match(String(timeout.stderr), /--test-timeout.*'-5'/, 'the message names the option and value')
})
