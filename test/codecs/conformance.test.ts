// One table-driven conformance suite that every registered payload codec passes: round trip within the codec's
// stated bound, header parameters, size bounds, NaN/Inf on both sides, hostile and truncated lengths.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  CODECS, MAX_PARAMS, createEncoder, decodePayload, expectedPayloadLength, parseCodecSpec, formatCodec, writeCodec,
  readCodec, codecParamBytes, codecById, codecByName, type CodecDescriptor, type CodecSpec, type DecodeResult
} from '../../protocol/codecs/index.js'
import { createRng } from '../../protocol/rng.js'

const rng = createRng(1515).fork('codec-conformance')

function vector (n: number, scale = 1): Float32Array {
  const v = new Float32Array(n)
  for (let i = 0; i < n; i++) v[i] = rng.normal() * scale
  return v
}

interface Case {
  /** Specs to encode with (each must give a payload of expectedPayloadLength). */
  specs: CodecSpec[]
  /** Largest allowed |decoded - sent| at coordinate i of `sent` (the codec's stated bound). */
  bound: (sent: Float32Array, i: number, codec: CodecDescriptor) => number
  /** A copy of a valid payload made to hold a non-finite value (the decoder must say NON_FINITE). */
  poison: (payload: Uint8Array, codec: CodecDescriptor) => Uint8Array
}

function chunkMax (sent: Float32Array, i: number, chunkSize: number): number {
  const start = Math.floor(i / chunkSize) * chunkSize
  let max = 0
  for (let j = start; j < Math.min(sent.length, start + chunkSize); j++) max = Math.max(max, Math.abs(sent[j]))
  return max
}

function withFloat32 (payload: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = new Uint8Array(payload)
  new DataView(copy.buffer).setFloat32(offset, value, true)
  return copy
}

// Every registered codec needs an entry: a codec added to the registry without one fails the first test.
const CASES: Record<string, Case> = {
  float32: {
    specs: [{ name: 'float32' }],
    bound: () => 0,
    poison: (p) => withFloat32(p, 4, NaN)
  },
  float16: {
    specs: [{ name: 'float16' }],
    bound: (sent, i) => Math.max(Math.abs(sent[i]) * 2 ** -11, 2 ** -25),
    poison: (p) => { const c = new Uint8Array(p); c[2] = 0x00; c[3] = 0x7c; return c } // value 1 = +Inf
  },
  int8: {
    specs: [{ name: 'int8' }, { name: 'int8', chunkSize: 1 }, { name: 'int8', chunkSize: 7 }],
    bound: (sent, i, codec) => chunkMax(sent, i, (codec as { chunkSize: number }).chunkSize) / 254 * 1.0001 + 1e-30,
    poison: (p) => withFloat32(p, 0, Infinity) // scale of chunk 0
  },
  topk: {
    specs: [{ name: 'topk', fraction: 1 }, { name: 'topk', k: 5, errorFeedback: false }],
    // exact on the coordinates sent; the others arrive as zero
    bound: (sent, i, codec) => (codec as { k: number }).k >= sent.length ? 0 : Math.abs(sent[i]),
    poison: (p, codec) => withFloat32(p, 4 * (codec as { k: number }).k, NaN) // first value
  }
}

function refusal (r: DecodeResult): string {
  return r.ok ? 'ok' : r.reason
}

function encodedCases (): Array<{ name: string, spec: CodecSpec, sent: Float32Array, codec: CodecDescriptor, payload: Uint8Array }> {
  const out = []
  for (const c of CODECS) {
    for (const spec of CASES[c.name].specs) {
      for (const n of [1, 2, 37, 1000]) {
        const sent = vector(n, n === 37 ? 100 : 1)
        const { codec, payload } = createEncoder(spec).encode(sent)
        out.push({ name: `${c.name} ${JSON.stringify(spec)} n=${n}`, spec, sent, codec, payload })
      }
    }
  }
  return out
}

test('every registered codec has a conformance case, a unique id and name, and is found by both', () => {
  const ids = new Set<number>()
  for (const c of CODECS) {
    assert.ok(CASES[c.name] != null, `codec ${c.name} has no conformance case in this file`)
    assert.ok(Number.isInteger(c.id) && c.id >= 1 && c.id <= 255, `codec ${c.name}: id ${c.id} is not a byte`)
    assert.ok(!ids.has(c.id), `codec id ${c.id} is used twice`)
    ids.add(c.id)
    assert.equal(codecById(c.id), c, `codecById(${c.id})`)
    assert.equal(codecByName(c.name), c, `codecByName(${c.name})`)
    assert.equal(codecParamBytes(c.id), 4 * c.params.length, `${c.name}: header parameter bytes`)
    for (const p of c.params) assert.ok(p.min >= 0 && p.max <= 0xffffffff && p.min <= p.max, `${c.name}.${p.key}: range fits a u32`)
  }
  assert.equal(codecParamBytes(0), null, 'id 0 is no codec')
  assert.equal(codecParamBytes(255), null, 'id 255 is no codec')
})

test('round trip: decoded values within the codec\'s bound, payload of the expected length, finite sum of squares', () => {
  for (const { name, sent, codec, payload } of encodedCases()) {
    assert.equal(payload.length, expectedPayloadLength(codec, sent.length), `${name}: payload length`)
    const r = decodePayload(codec, payload, sent.length)
    assert.ok(r.ok, `${name}: ${r.ok ? '' : `${r.reason} ${r.detail}`}`)
    assert.equal(r.values.length, sent.length, `${name}: decoded length`)
    let s = 0
    for (let i = 0; i < sent.length; i++) {
      const err = Math.abs(r.values[i] - sent[i])
      assert.ok(err <= CASES[codec.name].bound(sent, i, codec), `${name}: coordinate ${i} sent ${sent[i]} decoded ${r.values[i]}`)
      s += r.values[i] * r.values[i]
    }
    assert.ok(Math.abs(r.sumSquares - s) <= 1e-9 * s + 1e-300, `${name}: sumSquares ${r.sumSquares} against ${s}`)
    if (r.indices != null) {
      for (let j = 0; j < r.indices.length; j++) {
        assert.equal(r.values[r.indices[j]], sent[r.indices[j]], `${name}: sent coordinate ${r.indices[j]} is exact`)
        if (j > 0) assert.ok(r.indices[j] > r.indices[j - 1], `${name}: indices increase`)
      }
    }
    // the same bytes at an odd offset of a larger buffer decode to the same values
    const shifted = new Uint8Array(payload.length + 3)
    shifted.set(payload, 1)
    const r2 = decodePayload(codec, shifted.subarray(1, 1 + payload.length), sent.length)
    assert.ok(r2.ok, `${name}: unaligned payload refused`)
    assert.deepEqual(r2.values, r.values, `${name}: unaligned payload decodes alike`)
  }
})

test('descriptors: header bytes and text form round-trip, and encode to the same descriptor again', () => {
  for (const { name, sent, codec } of encodedCases()) {
    const c = codecByName(codec.name)!
    const view = new DataView(new ArrayBuffer(16))
    const end = writeCodec(view, 3, codec)
    assert.equal(end, 3 + 1 + (codecParamBytes(c.id) ?? -1), `${name}: writeCodec length`)
    assert.equal(view.getUint8(3), c.id, `${name}: id byte`)
    assert.deepEqual(readCodec(view, 3), codec, `${name}: readCodec`)
    const text = formatCodec(codec)
    assert.deepEqual(createEncoder(parseCodecSpec(text)).encode(sent).codec, codec, `${name}: ${text} re-encodes to the same descriptor`)
  }
})

test('bounds: parameters outside their range, vector lengths beyond MAX_PARAMS and over maxBytes are refused before allocating', () => {
  for (const { name, sent, codec, payload } of encodedCases()) {
    const n = sent.length
    for (const bad of [-1, 1.5, NaN, MAX_PARAMS + 1, 2 ** 40]) {
      assert.equal(expectedPayloadLength(codec, bad), null, `${name}: numParams ${bad}`)
      assert.equal(refusal(decodePayload(codec, new Uint8Array(0), bad)), 'MALFORMED', `${name}: numParams ${bad}`)
    }
    assert.equal(refusal(decodePayload(codec, payload, n, { maxBytes: 4 * n - 1 })), 'OVERSIZED', `${name}: maxBytes below 4n`)
    assert.equal(refusal(decodePayload(codec, payload, n, { maxBytes: 4 * n })), 'ok', `${name}: maxBytes exactly 4n`)
    for (const p of codecByName(codec.name)!.params) {
      const values = [p.min - 1, p.min + 0.5, NaN, ...(p.max < 0xffffffff ? [p.max + 1] : [n + 1])]
      for (const v of values) {
        const bad = { ...codec, [p.key]: v } as CodecDescriptor
        assert.equal(expectedPayloadLength(bad, n), null, `${name}: ${p.key} = ${v}`)
        assert.equal(refusal(decodePayload(bad, payload, n)), 'MALFORMED', `${name}: ${p.key} = ${v}`)
      }
    }
  }
  assert.equal(expectedPayloadLength({ name: 'nope' } as unknown as CodecDescriptor, 4), null, 'unknown codec name')
})

test('non-finite values: every encoder throws NonFiniteWeightsError, every decoder refuses NON_FINITE', () => {
  for (const c of CODECS) {
    for (const spec of CASES[c.name].specs) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (const at of [0, 3, 9]) {
          const w = vector(10)
          w[at] = bad
          assert.throws(() => createEncoder(spec).encode(w), (e: Error) => e.name === 'NonFiniteWeightsError', `${c.name} ${JSON.stringify(spec)}: ${bad} at ${at}`)
        }
      }
    }
  }
  for (const { name, sent, codec, payload } of encodedCases()) {
    if (sent.length < 2) continue
    const r = decodePayload(codec, CASES[codec.name].poison(payload, codec), sent.length)
    assert.equal(refusal(r), 'NON_FINITE', `${name}: poisoned payload`)
  }
})

test('hostile lengths and bytes: truncated, extended, empty and random payloads give refusals, never throws', () => {
  for (const { name, sent, codec, payload } of encodedCases()) {
    const n = sent.length
    for (const len of [0, payload.length - 1, payload.length + 1, payload.length * 2]) {
      if (len === payload.length || len < 0) continue
      const bytes = new Uint8Array(len)
      bytes.set(payload.subarray(0, Math.min(len, payload.length)))
      assert.equal(refusal(decodePayload(codec, bytes, n)), 'LENGTH_MISMATCH', `${name}: ${len} bytes`)
    }
    if (expectedPayloadLength(codec, n + 1) !== payload.length) { // (top-k's length depends on k alone)
      assert.equal(refusal(decodePayload(codec, payload, n + 1)), 'LENGTH_MISMATCH', `${name}: one parameter more than sent`)
    }
    const hostile: Array<[string, Uint8Array]> = []
    for (let trial = 0; trial < 20; trial++) hostile.push([`random bytes ${trial}`, rng.bytes(payload.length)])
    hostile.push(['all 0xff', new Uint8Array(payload.length).fill(0xff)])
    if (n <= 37) {
      // every byte of a valid payload set to values around the edges (n itself: the first index out of range)
      for (let at = 0; at < payload.length; at++) {
        for (const v of [0x00, 0x01, 0x7f, 0x80, 0xff, n & 0xff, (payload[at] + 1) & 0xff]) {
          const b = new Uint8Array(payload)
          b[at] = v
          hostile.push([`byte ${at} = ${v}`, b])
        }
      }
    }
    for (const [what, bytes] of hostile) {
      let r: DecodeResult | undefined
      assert.doesNotThrow(() => { r = decodePayload(codec, bytes, n) }, `${name}: ${what} threw`)
      if (r?.ok === true) {
        assert.equal(r.values.length, n, `${name}: ${what}: decoded length`)
        for (let i = 0; i < n; i++) assert.ok(Number.isFinite(r.values[i]), `${name}: ${what}: accepted a non-finite value at ${i}`)
        assert.ok(Number.isFinite(r.sumSquares), `${name}: ${what}: accepted a non-finite sum of squares`)
        const idx = r.indices ?? []
        for (let j = 0; j < idx.length; j++) assert.ok(idx[j] < n && (j === 0 || idx[j] > idx[j - 1]), `${name}: ${what}: accepted index ${idx[j]}`)
      }
    }
  }
})
