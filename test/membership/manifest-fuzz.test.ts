import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { generateIdentity } from '../../crypto/index.js'
import { createNetwork, addMember, parseMember, memberString, parseManifest, serializeManifest, acceptManifest } from '../../protocol/membership/index.js'
import { createRng } from '../../protocol/rng.js'

const rng = createRng(4242).fork('manifest-fuzz')
const admin = generateIdentity(rng.bytes(32))
const bank = generateIdentity(rng.bytes(32))
const v1 = createNetwork({ name: 'fuzz', model: { layers: [4, 2] }, dataset: { spec: 'csv' }, rule: { name: 'mean' }, creator: admin, randomBytes: (n) => rng.bytes(n) })
const v2 = addMember(v1, parseMember(memberString(bank)), admin, (n) => rng.bytes(n))
const text = serializeManifest(v2)
const NAMED = new Set(['ManifestFormatError', 'ManifestSignatureError', 'StaleManifestError'])

test('fuzz: mutated manifest files never crash the parser and are never accepted unless untouched', () => {
  fc.assert(fc.property(fc.nat(text.length - 1), fc.string({ minLength: 0, maxLength: 8 }), fc.nat(8), (at, insert, cut) => {
    const mutated = text.slice(0, at) + insert + text.slice(at + cut)
    let candidate
    try {
      candidate = parseManifest(mutated, 'network.json')
    } catch (err) {
      assert.ok(NAMED.has((err as Error).name), `${(err as Error).name}: ${(err as Error).message}`)
      assert.match((err as Error).message, /^network\.json: /)
      return
    }
    try {
      acceptManifest(v1, candidate)
    } catch (err) {
      assert.ok(NAMED.has((err as Error).name), `${(err as Error).name}: ${(err as Error).message}`)
      return
    }
    // accepted: then it must mean exactly what was signed (only whitespace or key order may differ)
    assert.equal(serializeManifest(candidate), text)
  }), { numRuns: 2000, seed: 7 })
})

test('fuzz: arbitrary JSON values are refused with ManifestFormatError', () => {
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
    assert.throws(() => parseManifest(value), (e: Error) => e.name === 'ManifestFormatError')
  }), { numRuns: 500, seed: 8 })
})
