// Preloaded into every test file's process by scripts/run-tests.mjs (`--import`): gives every test a timeout so
// that no test can hang the run.
//  - Asynchronous hangs: every top-level test, suite and hook registered through node:test without an explicit
//    `timeout` gets MURMUR_TEST_TIMEOUT_MS (nested tests inherit their suite's, as node:test does), so a promise that
//    never settles fails at the timeout with node:test's own "test timed out" error.
//  - Synchronous hangs (a loop that never yields, such as a failing message-less assert.ok under tsx, which reads
//    the source in a loop): a watchdog thread watches a heartbeat of this thread's event loop; when the loop has
//    been blocked for longer than the running test's timeout, it writes which test blocked to stderr and kills this
//    process, which the runner reports as a failed file.
import { createRequire, syncBuiltinESMExports } from 'node:module'
import { Worker } from 'node:worker_threads'

const require = createRequire(import.meta.url)
const nodeTest = require('node:test')

const DEFAULT_MS = Number(process.env.MURMUR_TEST_TIMEOUT_MS ?? 120_000)
if (!Number.isFinite(DEFAULT_MS) || DEFAULT_MS <= 0) throw new RangeError(`MURMUR_TEST_TIMEOUT_MS must be a positive number of milliseconds, got '${process.env.MURMUR_TEST_TIMEOUT_MS}'`)
const NAME_BYTES = 1024

// shared with the watchdog: [0] heartbeat (ms), [1] running test's timeout (ms), [2] name length; then the name
const shared = new SharedArrayBuffer(3 * 8 + NAME_BYTES)
const cells = new BigInt64Array(shared, 0, 3)
const nameBytes = new Uint8Array(shared, 24, NAME_BYTES)
const encoder = new TextEncoder()

/** Marks `name` (with its timeout) as the code now running, for the watchdog's report. */
function setRunning (name, timeoutMs) {
  const bytes = encoder.encode(name).subarray(0, NAME_BYTES)
  nameBytes.set(bytes)
  Atomics.store(cells, 2, BigInt(bytes.length))
  Atomics.store(cells, 1, BigInt(Math.ceil(timeoutMs)))
}
const beat = () => { Atomics.store(cells, 0, BigInt(Date.now())) }
beat()
setRunning(`${process.argv[1] ?? 'test file'} (loading)`, DEFAULT_MS)
setInterval(beat, 250).unref()

const watchdog = new Worker(`
const { workerData } = require('node:worker_threads')
const { writeSync } = require('node:fs')
const cells = new BigInt64Array(workerData.shared, 0, 3)
const nameBytes = new Uint8Array(workerData.shared, 24, workerData.nameBytes)
setInterval(() => {
  const blockedMs = Date.now() - Number(Atomics.load(cells, 0))
  const timeoutMs = Number(Atomics.load(cells, 1))
  if (blockedMs <= timeoutMs) return
  const name = new TextDecoder().decode(nameBytes.slice(0, Number(Atomics.load(cells, 2))))
  writeSync(2, '\\ntest-timeout: ' + JSON.stringify(name) + ' in ' + workerData.file + ' blocked its thread for ' + blockedMs +
    ' ms, past its timeout of ' + timeoutMs + ' ms (a synchronous loop; an assert without a message under tsx can do this); killing the test process\\n')
  process.kill(process.pid, 'SIGKILL')
}, 500)
`, { eval: true, workerData: { shared, nameBytes: NAME_BYTES, file: process.argv[1] ?? '(unknown file)' } })
watchdog.unref()

/** node:test's (name?, options?, fn?) arguments, normalized. */
function parseArgs (args) {
  let name; let options; let fn
  for (const a of args) {
    if (typeof a === 'string') name = a
    else if (typeof a === 'function') fn = a
    else if (a != null && typeof a === 'object') options = a
  }
  return { name: name ?? fn?.name ?? '<anonymous>', options: options ?? {}, fn }
}

// For each suite whose body is being registered now (suite bodies run synchronously): the timeout it was given or
// inherited from an enclosing suite, or null when none was. A suite's timeout covers all of its tests together in
// node:test, so suites never get the default; their tests (and hooks) do.
const suiteStack = []
const enclosing = () => suiteStack.length > 0 ? suiteStack[suiteStack.length - 1] : null

function wrapBody (label, timeoutMs, fn, suiteTimeout) {
  if (fn == null) return undefined
  const wrapped = function (...args) {
    setRunning(label, timeoutMs)
    if (suiteTimeout !== undefined) suiteStack.push(suiteTimeout)
    try {
      return fn.apply(this, args)
    } finally {
      if (suiteTimeout !== undefined) suiteStack.pop()
    }
  }
  Object.defineProperty(wrapped, 'length', { value: fn.length })
  Object.defineProperty(wrapped, 'name', { value: fn.name })
  return wrapped
}

/** A test or suite registrar: a test with no timeout of its own or of an enclosing suite gets the default. */
function wrapRegistrar (original, kind) {
  const wrapped = function (...args) {
    const { name, options, fn } = parseArgs(args)
    const given = typeof options.timeout === 'number' ? options.timeout : enclosing()
    let opts = options
    let body
    if (kind === 'suite') {
      body = wrapBody(`suite '${name}'`, given ?? DEFAULT_MS, fn, given)
    } else {
      if (given == null) opts = { ...options, timeout: DEFAULT_MS }
      body = wrapBody(`test '${name}'`, given ?? DEFAULT_MS, fn, undefined)
    }
    return body == null ? original.call(this, name, opts) : original.call(this, name, opts, body)
  }
  for (const key of Object.keys(original)) wrapped[key] = original[key]
  return wrapped
}

/** A hook registrar (before, after, ...): the hook gets its own timeout, else its suite's, else the default. */
function wrapHook (original, kind) {
  return function (fn, options = {}) {
    const timeoutMs = typeof options.timeout === 'number' ? options.timeout : (enclosing() ?? DEFAULT_MS)
    return original.call(this, wrapBody(`${kind} hook`, timeoutMs, fn, undefined), { ...options, timeout: timeoutMs })
  }
}

const test = wrapRegistrar(nodeTest.test, 'test')
const describe = wrapRegistrar(nodeTest.describe, 'suite')
nodeTest.test = test
nodeTest.it = test
nodeTest.describe = describe
nodeTest.suite = describe
for (const hook of ['before', 'after', 'beforeEach', 'afterEach']) nodeTest[hook] = wrapHook(nodeTest[hook], hook)
syncBuiltinESMExports()
