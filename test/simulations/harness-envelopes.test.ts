import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRng } from '../../protocol/rng.js'
import { createMemoryReplayGuard, sealedEnvelopes, staticMembership, UpdateKind, type Envelopes, type OpenResult } from '../../protocol/engine/index.js'
import { createSigner, generateIdentity, toHex } from '../../crypto/index.js'
import { envelopeMemo, memoizedEnvelopes } from '../../simulations/harness/envelopes.js'

const NUM = 50
const rng = createRng(5)
const identities = Array.from({ length: 4 }, (_, i) => generateIdentity(rng.fork(`id:${i}`).bytes(32)))
const keys = identities.map((id) => toHex(id.signPublicKey))
const membership = staticMembership(keys, rng.fork('group').bytes(32))
const config = { networkId: 'ab'.repeat(32), schemaHash: 'cd'.repeat(32), numParams: NUM }

function real (i: number, m = membership): Envelopes {
  const nonces = rng.fork(`nonces:${i}`)
  return sealedEnvelopes(config)({ signer: createSigner(identities[i]), membership: m, randomBytes: (n) => nonces.bytes(n) })
}

async function sealed (from: number, seq = 0): Promise<Uint8Array> {
  const w = Float32Array.from({ length: NUM }, (_, j) => Math.sin(j + seq))
  const s = await real(from).seal({ kind: UpdateKind.UPDATE, round: 0, seq, examples: 10, weight: 1, parents: [] }, w)
  return s.bytes
}

const strip = (r: OpenResult): unknown => r.ok ? { ...r, weights: Array.from(r.weights) } : { ok: r.ok, reason: r.reason, id: r.id }

test('memo: later receivers of the same bytes skip the crypto, with identical results and their own weights', async () => {
  const bytes = await sealed(0)
  const memo = envelopeMemo()
  const open = async (i: number, env: Envelopes): Promise<OpenResult> => await env.open(bytes, { round: 0, from: keys[0], replay: createMemoryReplayGuard() })
  const plain = await Promise.all([1, 2, 3].map(async (i) => await open(i, real(i))))
  const memoized = await Promise.all([1, 2, 3].map(async (i) => await open(i, memoizedEnvelopes(real(i), memo, { self: keys[i], membership, config }))))
  assert.equal(memo.misses, 1)
  assert.equal(memo.hits, 2)
  assert.deepEqual(memoized.map(strip), plain.map(strip))
  assert.ok(memoized.every((r) => r.ok))
  const [a, b] = memoized as Array<Extract<OpenResult, { ok: true }>>
  assert.notEqual(a.weights, b.weights, 'each receiver owns its weights')
  a.weights[0] = 1234
  assert.notEqual(b.weights[0], 1234)
  const again = await open(3, memoizedEnvelopes(real(3), memo, { self: keys[3], membership, config }))
  assert.ok(again.ok && again.weights[0] !== 1234, 'the memo keeps a pristine copy')
})

test('memo: per-receiver checks still run (own envelope, replay, other membership)', async () => {
  const bytes = await sealed(0, 7)
  const memo = envelopeMemo()
  const wrap = (i: number, m = membership): Envelopes => memoizedEnvelopes(real(i, m), memo, { self: keys[i], membership: m, config })
  const first = await wrap(1).open(bytes, { round: 0, from: keys[0], replay: createMemoryReplayGuard() })
  assert.ok(first.ok)
  // the sender gets its own envelope back: SELF, exactly as without the memo
  const self = await wrap(0).open(bytes, { round: 0, from: keys[2], replay: createMemoryReplayGuard() })
  const selfPlain = await real(0).open(bytes, { round: 0, from: keys[2], replay: createMemoryReplayGuard() })
  assert.equal(self.ok, false)
  assert.deepEqual(strip(self), strip(selfPlain))
  // a receiver that already accepted this (sender, seq): REPLAYED from its own guard
  const guard = createMemoryReplayGuard()
  guard.commit(keys[0], 7, first.ok ? first.id : '')
  const replayed = await wrap(2).open(bytes, { round: 0, from: keys[0], replay: guard })
  assert.equal(replayed.ok, false)
  assert.equal(!replayed.ok && replayed.reason, 'REPLAYED')
  // a receiver under another membership view, where the sender is not a member: the full validator refuses it
  const others = staticMembership(keys.slice(1), rng.fork('group').bytes(32))
  const outsider = await wrap(3, others).open(bytes, { round: 0, from: keys[0], replay: createMemoryReplayGuard() })
  assert.equal(!outsider.ok && outsider.reason, 'NOT_A_MEMBER')
  assert.equal(memo.hits, 0, 'none of these was answered from the memo')
})
