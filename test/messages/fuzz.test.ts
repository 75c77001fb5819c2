import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { REFUSAL_REASONS } from '../../protocol/interfaces.js'
import { seal, validator, resign, weights } from './helpers.js'

// Small valid envelopes of every codec to mutate.
const originals = [
  seal({ numParams: 8, parents: [] }, { w: weights(8) }).bytes,
  seal({ numParams: 8, seq: 2, parents: ['ab'.repeat(32)] }, { w: weights(8), codec: { name: 'float16' } }).bytes,
  seal({ numParams: 8, seq: 3 }, { w: weights(8), codec: { name: 'int8', chunkSize: 3 } }).bytes,
  seal({ numParams: 8, seq: 4 }, { w: weights(8), codec: { name: 'topk', k: 2 } }).bytes
]
const U32_FIELDS = [34, 38, 74, 78, 82, 118, 130, 135, 139] // header offsets of u32 fields (some codec-dependent)

type Mutation =
  | { t: 'flip', at: number[], mask: number[] }
  | { t: 'truncate', at: number }
  | { t: 'extend', extra: Uint8Array }
  | { t: 'huge', field: number, value: number, resign: boolean }
  | { t: 'headerLength', value: number }
  | { t: 'random', bytes: Uint8Array }
  | { t: 'splice', other: number, at: number }
  | { t: 'overwrite', at: number, bytes: Uint8Array, resign: boolean }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ t: fc.constant('flip' as const), at: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), mask: fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 8, maxLength: 8 }) }),
  fc.record({ t: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ t: fc.constant('extend' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({ t: fc.constant('huge' as const), field: fc.constantFrom(...U32_FIELDS), value: fc.constantFrom(0xffffffff, 0x80000000, 0x7fffffff, 1 << 28, 1 << 24, 0), resign: fc.boolean() }),
  fc.record({ t: fc.constant('headerLength' as const), value: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ t: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 600 }) }),
  fc.record({ t: fc.constant('splice' as const), other: fc.nat(3), at: fc.nat() }),
  fc.record({ t: fc.constant('overwrite' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }), resign: fc.boolean() })
)

function apply (base: Uint8Array, m: Mutation): Uint8Array {
  const b = new Uint8Array(base)
  switch (m.t) {
    case 'flip':
      m.at.forEach((p, i) => { b[p % b.length] ^= m.mask[i] })
      return b
    case 'truncate': return b.subarray(0, m.at % b.length)
    case 'extend': { const out = new Uint8Array(b.length + m.extra.length); out.set(b); out.set(m.extra, b.length); return out }
    case 'huge': {
      new DataView(b.buffer).setUint32(2 + m.field, m.value)
      return m.resign ? resign(b) : b
    }
    case 'headerLength': new DataView(b.buffer).setUint16(0, m.value); return b
    case 'random': return m.bytes
    case 'splice': {
      const other = originals[m.other]
      const cut = m.at % Math.min(b.length, other.length)
      const out = new Uint8Array(other.length); out.set(b.subarray(0, cut)); out.set(other.subarray(cut), cut)
      return out
    }
    case 'overwrite': {
      const at = m.at % b.length
      b.set(m.bytes.subarray(0, b.length - at), at)
      return m.resign ? resign(b) : b
    }
  }
}

test('fuzz: 10,000+ mutated, truncated, extended and huge-length envelopes are all refused with a named reason', () => {
  const v = validator({ numParams: 8, roundWindow: undefined })
  for (const o of originals) assert.ok(v.validate(o).ok, 'expected v.validate(o).ok')
  const counts = new Map<string, number>()
  const rssBefore = process.memoryUsage().rss
  let runs = 0
  fc.assert(fc.property(fc.nat(3), mutation, (which, m) => {
    runs++
    const base = originals[which]
    const mutated = apply(base, m)
    // a no-op mutation (or a splice that reproduced another original) is not a mutation
    if (originals.some((o) => o.length === mutated.length && o.every((x, i) => x === mutated[i]))) return true
    let r
    try {
      r = v.validate(mutated)
    } catch (err) {
      assert.fail(`exception escaped: ${(err as Error).message}`)
    }
    assert.equal(r.ok, false, `accepted a ${m.t} mutation`)
    assert.ok(REFUSAL_REASONS.includes(r.reason), r.reason)
    assert.ok(!r.detail.startsWith('validator error'), `internal error: ${r.detail}`)
    counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1)
    return true
  }), { numRuns: 10_000, seed: 20240601 })
  assert.equal(runs, 10_000)
  // memory stays bounded: nothing allocates from a length field
  assert.ok(process.memoryUsage().rss - rssBefore < 256 * 1024 * 1024, 'expected process.memoryUsage().rss - rssBefore < 256 * 1024 * 1024')
  for (const expected of ['MALFORMED', 'BAD_SIGNATURE', 'LENGTH_MISMATCH', 'BAD_PAYLOAD_HASH']) {
    assert.ok((counts.get(expected) ?? 0) > 0, `no ${expected} among ${JSON.stringify([...counts])}`)
  }
})
