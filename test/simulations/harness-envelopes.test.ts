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

test('memo: later receivers of the same bytes skip the crypto, with identical results and shared read-only weights', async () => {
  const bytes = await sealed(0)
  const memo = envelopeMemo()
  const open = async (i: number, env: Envelopes): Promise<OpenResult> => await env.open(bytes, { round: 0, from: keys[0], replay: createMemoryReplayGuard() })
  const plain = await Promise.all([1, 2, 3].map(async (i) => await open(i, real(i))))
  const memoized = await Promise.all([1, 2, 3].map(async (i) => await open(i, memoizedEnvelopes(real(i), memo, { self: keys[i], membership, config }))))
  assert.equal(memo.misses, 1)
  assert.equal(memo.hits, 2)
  assert.deepEqual(memoized.map(strip), plain.map(strip))
  assert.ok(memoized.every((r) => r.ok), 'expected memoized.every((r) => r.ok)')
  const [a, b] = memoized as Array<Extract<OpenResult, { ok: true }>>
  assert.equal(a.weights, b.weights, 'receivers share one decoded array (the engine never writes into received weights)')
  assert.notEqual(a.header, b.header, 'each receiver gets its own header object')
})

test('memo across worlds: the sending world validates once, the note carries the result to the other world', async () => {
  const reference = (m = membership): Envelopes => sealedEnvelopes(config)({ signer: createSigner(generateIdentity(new Uint8Array(32).fill(9))), membership: m })
  const worldA = envelopeMemo({ membership, config, fingerprint: 'f1', reference: reference() })
  const worldB = envelopeMemo({ membership, config, fingerprint: 'f1', reference: reference() })
  const bytes = await sealed(0, 3)
  const local = bytes.slice()   // the copy that stays in world A
  const outgoing = bytes.slice() // the copy that leaves for world B
  const note = worldA.notes?.send(outgoing, local)
  assert.ok(note !== undefined, 'expected note !== undefined')
  assert.equal(worldA.misses, 1, 'one full validation, by the sending world')
  // the thread boundary: the note and the bytes are cloned
  const arrived = outgoing.slice()
  const crossed = structuredClone(note) as { result: { weights: Float32Array } }
  // the decoded weights cross in shared memory: a clone (a postMessage) reads the very same memory, no copy
  assert.ok(crossed.result.weights.buffer instanceof SharedArrayBuffer, 'expected crossed.result.weights.buffer instanceof SharedArrayBuffer')
  const first = crossed.result.weights[0]
  crossed.result.weights[0] = 12345
  assert.equal((note as { result: { weights: Float32Array } }).result.weights[0], 12345)
  crossed.result.weights[0] = first
  worldB.notes?.receive(arrived, crossed)
  assert.equal(worldB.imported, 1)
  const plain = await real(2).open(bytes, { round: 0, from: keys[0], replay: createMemoryReplayGuard() })
  const inA = await memoizedEnvelopes(real(1), worldA, { self: keys[1], membership, config }).open(local, { round: 0, from: keys[0], replay: createMemoryReplayGuard() })
  const inB = await memoizedEnvelopes(real(2), worldB, { self: keys[2], membership, config }).open(arrived, { round: 0, from: keys[0], replay: createMemoryReplayGuard() })
  assert.deepEqual(strip(inA), strip(plain))
  assert.deepEqual(strip(inB), strip(plain))
  assert.equal(worldA.hits + worldB.hits, 2, 'both receivers answered from the memo')
  assert.equal(worldB.misses, 0, 'world B ran no validator')
  // a note made under another configuration is ignored: world C validates for itself, with the same verdict
  const worldC = envelopeMemo({ membership, config, fingerprint: 'f2', reference: reference() })
  const inC = arrived.slice()
  worldC.notes?.receive(inC, structuredClone(note))
  assert.equal(worldC.imported, 0)
  const opened = await memoizedEnvelopes(real(3), worldC, { self: keys[3], membership, config }).open(inC, { round: 0, from: keys[0], replay: createMemoryReplayGuard() })
  assert.deepEqual(strip(opened), strip(plain))
  assert.equal(worldC.misses, 1)
  // bytes the reference validator refuses carry no note; their receivers run the full validator
  const forged = bytes.slice(); forged[forged.length - 1] ^= 1
  assert.equal(worldA.notes?.send(forged, undefined), undefined)
  const refused = await memoizedEnvelopes(real(1), worldA, { self: keys[1], membership, config }).open(forged, { round: 0, from: keys[0], replay: createMemoryReplayGuard() })
  const refusedPlain = await real(1).open(forged, { round: 0, from: keys[0], replay: createMemoryReplayGuard() })
  assert.equal(refused.ok, false)
  assert.deepEqual(strip(refused), strip(refusedPlain))
})

test('memo: per-receiver checks still run (own envelope, replay, other membership)', async () => {
  const bytes = await sealed(0, 7)
  const memo = envelopeMemo()
  const wrap = (i: number, m = membership): Envelopes => memoizedEnvelopes(real(i, m), memo, { self: keys[i], membership: m, config })
  const first = await wrap(1).open(bytes, { round: 0, from: keys[0], replay: createMemoryReplayGuard() })
  assert.ok(first.ok, 'expected first.ok')
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
