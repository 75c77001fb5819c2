/**
 * The daemon's metrics are declared up front (node/metrics.ts): every engine name, help text, unit suffixes; an
 * undeclared name is dropped and reported, never created; scrape-time values come from the node's sources.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { PromMetrics, metricDeclarations, NODE_METRICS } from '../../node/metrics.js'
import { ENGINE_METRICS } from '../../protocol/engine/index.js'
import type { TransportStats } from '../../node/transport/index.js'

test('every engine metric and every node metric is declared with help text, counters end in _total', async () => {
  const m = new PromMetrics({ strict: true })
  const names = new Set(m.names())
  for (const name of Object.values(ENGINE_METRICS)) assert.ok(names.has(name), `engine metric ${name} is declared in node/metrics.ts`)
  for (const d of Object.values(NODE_METRICS)) assert.ok(names.has(d.name), `node metric ${d.name} is registered`)
  const lazy = metricDeclarations().filter((d) => d.kind === 'gauge' && d.read == null)
  assert.ok(lazy.some((d) => d.name === ENGINE_METRICS.pushSumWeight), 'the push-sum weight is a gauge without a source')
  const before = await m.text()
  for (const d of lazy) assert.ok(!before.includes(`# HELP ${d.name} `), `${d.name} is not exported before its first value (it would read 0)`)
  for (const d of lazy) m.set(d.name, 0.5, Object.fromEntries((d.labels ?? []).map((l) => [l, 'x'])))
  const text = await m.text()
  for (const d of metricDeclarations()) {
    assert.ok(d.help.length > 10 && d.help !== d.name.replace(/_/g, ' '), `${d.name} has real help text`)
    assert.match(text, new RegExp(`# HELP ${d.name} `), `${d.name} is exported with its help`)
    if (d.kind === 'counter') assert.ok(d.name.endsWith('_total'), `counter ${d.name} ends in _total`)
    else assert.ok(!d.name.endsWith('_total'), `${d.kind} ${d.name} does not end in _total`)
  }
})

test('an undeclared or misused name is dropped and reported once, never created', async () => {
  const reported: string[] = []
  const m = new PromMetrics({ onUndeclared: (name, detail) => { reported.push(`${name}: ${detail}`) } })
  m.increment('murmur_not_declared_total')
  m.increment('murmur_not_declared_total')
  m.set(ENGINE_METRICS.rounds, 3) // a counter used as a gauge
  m.increment(ENGINE_METRICS.updatesRefused, { reason: 'BAD_SIGNATURE', extra: 'x' }) // a label nobody declared
  assert.equal(reported.length, 3, `each problem reported once: ${reported.join(' | ')}`)
  assert.match(reported[0], /murmur_not_declared_total: not declared/, 'the undeclared name is named')
  assert.match(reported[1], /declared as a counter, used as a gauge/, 'the misuse is named')
  const text = await m.text()
  assert.ok(!text.includes('murmur_not_declared_total'), 'the undeclared metric was not created')
  assert.throws(() => { new PromMetrics({ strict: true }).increment('murmur_not_declared_total') }, { name: 'UndeclaredMetricError' }, 'strict mode throws')
  m.increment(ENGINE_METRICS.updatesRefused, { reason: 'BAD_SIGNATURE' })
  assert.match(await m.text(), /murmur_engine_updates_refused_total\{reason="BAD_SIGNATURE"\} 1/, 'a declared name with its labels counts')
})

test('scrape-time metrics read the node\'s sources (transport totals, examples, manifest)', async () => {
  const m = new PromMetrics({ strict: true })
  const stats: TransportStats = { bytesSent: 1234, bytesReceived: 99, messagesSent: 2, messagesReceived: 1, announcementsSent: 0, announcementsReceived: 7, refusedByReason: { OVERSIZED: 2 }, limits: { readTimeouts: 4, gossipOversized: 0, preAuth: { refusedPending: 0, refusedInbound: 0 } } }
  let examples = 10
  m.collectFrom({ transport: () => ({ stats, neighbours: 3, connections: 4 }), examples: () => examples, badRows: () => 3, manifest: () => ({ version: 5, epoch: 2 }),
    store: () => ({ diskBytes: 4096, log: { first: 10, anchorHash: '0'.repeat(64), bytes: 777, firstReceivedAt: 0, count: 25, retention: { maxBytes: 1e6, maxAgeMs: 1e9, minEntries: 5 } }, metricsRows: 3, evidence: 0, evidenceDropped: 0 }) })
  let text = await m.text()
  for (const line of ['murmur_transport_sent_bytes_total 1234', 'murmur_transport_received_bytes_total 99', 'murmur_transport_announcements_received_total 7',
    'murmur_transport_refused_total{reason="OVERSIZED"} 2', 'murmur_transport_neighbours 3', 'murmur_transport_connections 4', 'murmur_data_examples 10', 'murmur_data_bad_rows_total 3', 'murmur_transport_limited_total{kind="readTimeouts"} 4',
    'murmur_manifest_version 5', 'murmur_key_epoch 2', 'murmur_store_bytes 4096', 'murmur_store_log_bytes 777', 'murmur_store_log_entries 15']) {
    assert.ok(text.includes(line + '\n'), `exported: ${line}`)
  }
  stats.bytesSent = 2000
  examples = 11
  text = await m.text()
  assert.ok(text.includes('murmur_transport_sent_bytes_total 2000\n'), 'a mirrored total follows its source, not added up twice')
  assert.ok(text.includes('murmur_data_examples 11\n'), 'a gauge follows its source')
  assert.ok(!/^murmur_privacy_epsilon_spent/m.test(text), 'no privacy samples without a privacy block')
  m.collectFrom({ transport: () => ({ stats, neighbours: 3, connections: 4 }), examples: () => examples, badRows: () => 3, manifest: () => ({ version: 5, epoch: 2 }),
    store: () => ({ diskBytes: 0, log: { first: 0, anchorHash: '0'.repeat(64), bytes: 0, firstReceivedAt: 0, count: 0, retention: { maxBytes: 1e6, maxAgeMs: 1e9, minEntries: 5 } }, metricsRows: 0, evidence: 0, evidenceDropped: 0 }),
    privacy: () => ({ epsilon: 7.5, delta: 1e-5, remainingEpsilon: 0.5, exhausted: true }) })
  text = await m.text()
  for (const line of ['murmur_privacy_epsilon_spent{delta="0.00001"} 7.5', 'murmur_privacy_epsilon_remaining{delta="0.00001"} 0.5', 'murmur_privacy_budget_spent{delta="0.00001"} 1']) assert.ok(text.includes(line + '\n'), `exported: ${line}`)
})

test('no metric is created outside node/metrics.ts', () => {
  const root = join(import.meta.dirname, '..', '..', 'node')
  const offenders: string[] = []
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) { walk(p); continue }
      if (!p.endsWith('.ts') || p === join(root, 'metrics.ts')) continue
      if (/new (Counter|Gauge|Histogram|Summary)\b|from 'prom-client'/.test(readFileSync(p, 'utf8'))) offenders.push(relative(root, p))
    }
  }
  walk(root)
  assert.deepEqual(offenders, [], `prom-client metrics created outside node/metrics.ts: ${offenders.join(', ')}`)
})
