// The systemd unit kept in the repository (scripts/murmur.service) stays runnable: a clean stop by SIGTERM,
// restart on failure, and every flag of its ExecStart is an option `murmur daemon` has.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildProgram } from '../../node/cli/main.js'

test('scripts/murmur.service: SIGTERM stop, Restart=on-failure, ExecStart uses only real daemon options', () => {
  const unit = readFileSync(join(import.meta.dirname, '..', '..', 'scripts', 'murmur.service'), 'utf8')
  const service = unit.slice(unit.indexOf('[Service]'), unit.indexOf('[Install]'))
  assert.match(service, /^Restart=on-failure$/m, 'restarts on failure')
  assert.match(service, /^KillSignal=SIGTERM$/m, 'stops with SIGTERM (checkpoint, clean close)')
  assert.match(service, /^TimeoutStopSec=\d+$/m, 'gives the clean stop time before SIGKILL')
  const exec = /^ExecStart=((?:[^\n]*\\\n)*[^\n]*)$/m.exec(service)?.[1].replace(/\\\n/g, ' ') ?? ''
  assert.match(exec, /murmur daemon /, 'runs murmur daemon')
  const flags = [...exec.matchAll(/(--[a-z-]+)/g)].map((m) => m[1])
  const daemon = buildProgram().commands.find((c) => c.name() === 'daemon')
  assert.ok(daemon != null, 'the CLI has a daemon command')
  const known = new Set(daemon.options.map((o) => o.long))
  for (const f of flags) assert.ok(known.has(f), `ExecStart flag ${f} is an option of murmur daemon`)
  for (const required of ['--datadir', '--network', '--data']) assert.ok(flags.includes(required), `ExecStart passes ${required}`)
})
