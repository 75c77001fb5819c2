import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  createEncoder, decodePayload, parseCodecSpec, expectedPayloadLength, type CodecDescriptor, FLOAT16_MAX
} from '../../protocol/codecs/index.js'
import { toFloat16Bits, float16Table } from '../../protocol/codecs/binary16.js'
import { createRng } from '../../protocol/rng.js'

const rng = createRng(99).fork('codecs')
function vector (n: number, scale = 1): Float32Array {
  const v = new Float32Array(n)
  for (let i = 0; i < n; i++) v[i] = rng.normal() * scale
  return v
}
function decodeOk (codec: CodecDescriptor, payload: Uint8Array, n: number): { values: Float32Array, indices: Uint32Array | null } {
  const r = decodePayload(codec, payload, n)
  assert.ok(r.ok, r.ok ? '' : `${r.reason}: ${r.detail}`)
  return r
}

test('float32 round-trips exactly', () => {
  const w = vector(1001)
  const { codec, payload } = createEncoder({ name: 'float32' }).encode(w)
  assert.equal(payload.length, 4004)
  assert.deepEqual(decodeOk(codec, payload, 1001).values, w)
})

test('float16: known bit patterns, round to nearest even, and the stated error bound', () => {
  assert.equal(toFloat16Bits(1), 0x3c00)
  assert.equal(toFloat16Bits(-2), 0xc000)
  assert.equal(toFloat16Bits(65504), 0x7bff)
  assert.equal(toFloat16Bits(65520), 0x7c00) // rounds up to infinity
  assert.equal(toFloat16Bits(2 ** -24), 0x0001) // smallest subnormal
  assert.equal(toFloat16Bits(2 ** -25), 0x0000) // tie rounds to even (zero)
  assert.equal(toFloat16Bits(1 + 2 ** -11), 0x3c00) // tie to even
  assert.equal(toFloat16Bits(1 + 3 * 2 ** -11), 0x3c02)
  assert.equal(toFloat16Bits(0.1), 0x2e66)
  const t = float16Table()
  for (let h = 0; h < 0x7c00; h += 7) assert.equal(toFloat16Bits(t[h]), h) // exact round trip of every representable
  const w = vector(5000, 10)
  const { codec, payload } = createEncoder({ name: 'float16' }).encode(w)
  const back = decodeOk(codec, payload, w.length).values
  for (let i = 0; i < w.length; i++) {
    const bound = Math.max(Math.abs(w[i]) * 2 ** -11, 2 ** -25)
    assert.ok(Math.abs(back[i] - w[i]) <= bound, `coordinate ${i}: ${w[i]} -> ${back[i]}`)
  }
  assert.throws(() => createEncoder({ name: 'float16' }).encode(new Float32Array([FLOAT16_MAX * 2])), (e: Error) => e.name === 'CodecRangeError')
})

test('int8 per-chunk scale: error at most max|x| of the chunk / 254', () => {
  for (const chunkSize of [1, 7, 64, 1024]) {
    const w = vector(3000, 0.3)
    w[5] = 40 // an outlier only hurts its own chunk
    const { codec, payload } = createEncoder({ name: 'int8', chunkSize }).encode(w)
    assert.deepEqual(codec, { name: 'int8', chunkSize })
    assert.equal(payload.length, expectedPayloadLength(codec, w.length))
    const back = decodeOk(codec, payload, w.length).values
    for (let c = 0; c * chunkSize < w.length; c++) {
      let max = 0
      for (let i = c * chunkSize; i < Math.min(w.length, (c + 1) * chunkSize); i++) max = Math.max(max, Math.abs(w[i]))
      for (let i = c * chunkSize; i < Math.min(w.length, (c + 1) * chunkSize); i++) {
        assert.ok(Math.abs(back[i] - w[i]) <= max / 254 * 1.0001 + 1e-30, `chunk ${chunkSize} coord ${i}`)
      }
    }
  }
  const zeros = createEncoder({ name: 'int8' }).encode(new Float32Array(10))
  assert.deepEqual(decodeOk(zeros.codec, zeros.payload, 10).values, new Float32Array(10))
})

test('top-k sends the k largest exactly, zeros elsewhere, and error feedback loses nothing over rounds', () => {
  const n = 2000
  const enc = createEncoder({ name: 'topk', k: 50 })
  const total = new Float64Array(n)
  const received = new Float64Array(n)
  for (let round = 0; round < 30; round++) {
    const x = vector(n)
    for (let i = 0; i < n; i++) total[i] += x[i]
    const { codec, payload } = enc.encode(x)
    assert.deepEqual(codec, { name: 'topk', k: 50 })
    const r = decodeOk(codec, payload, n)
    assert.equal(r.indices?.length, 50)
    for (let j = 1; j < 50; j++) assert.ok(r.indices![j] > r.indices![j - 1], 'expected r.indices![j] > r.indices![j - 1]')
    let nonzero = 0
    for (let i = 0; i < n; i++) { received[i] += r.values[i]; if (r.values[i] !== 0) nonzero++ }
    assert.ok(nonzero <= 50, 'expected nonzero <= 50')
  }
  // sent + residual == everything given to the encoder (float32 rounding aside)
  let err = 0
  let residualSq = 0
  for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(total[i] - received[i]))
  residualSq = enc.residualNorm() ** 2
  assert.ok(residualSq > 0, 'expected residualSq > 0')
  let diffSq = 0
  for (let i = 0; i < n; i++) diffSq += (total[i] - received[i]) ** 2
  assert.ok(Math.abs(Math.sqrt(diffSq) - Math.sqrt(residualSq)) < 1e-3 * Math.sqrt(residualSq) + 1e-3, 'residual accounts for what was not sent')
  // largest magnitudes are chosen (no feedback)
  const plain = createEncoder({ name: 'topk', k: 3, errorFeedback: false })
  const x = new Float32Array([0.1, -5, 0.2, 3, 0, 4, -0.3])
  const r = decodeOk(plain.encode(x).codec, plain.encode(x).payload, 7)
  assert.deepEqual([...r.indices!], [1, 3, 5])
  assert.deepEqual([...r.values], [0, -5, 0, 3, 0, 4, 0])
  // fraction
  assert.deepEqual(createEncoder({ name: 'topk', fraction: 0.1 }).encode(vector(100)).codec, { name: 'topk', k: 10 })
})

test('encoders refuse NaN and infinity with NonFiniteWeightsError', () => {
  for (const spec of ['float32', 'float16', 'int8', 'topk:0.5']) {
    for (const bad of [NaN, Infinity, -Infinity]) {
      assert.throws(() => createEncoder(parseCodecSpec(spec)).encode(new Float32Array([1, bad, 2])), (e: Error) => e.name === 'NonFiniteWeightsError', spec)
    }
  }
})

test('decoding hostile payloads gives a named refusal, never a throw', () => {
  const f32 = new Uint8Array(new Float32Array([1, NaN]).buffer)
  assert.equal(decodePayload({ name: 'float32' }, f32, 2).ok, false)
  assert.deepEqual(pick(decodePayload({ name: 'float32' }, f32, 2)), 'NON_FINITE')
  assert.equal(pick(decodePayload({ name: 'float32' }, f32, 3)), 'LENGTH_MISMATCH')
  assert.equal(pick(decodePayload({ name: 'float32' }, new Uint8Array(8), 2, { maxBytes: 4 })), 'OVERSIZED')
  assert.equal(pick(decodePayload({ name: 'float16' }, new Uint8Array([0, 0x7c]), 1)), 'NON_FINITE')
  assert.equal(pick(decodePayload({ name: 'float16' }, new Uint8Array([1, 0x7e]), 1)), 'NON_FINITE')
  const int8 = new Uint8Array(5)
  new DataView(int8.buffer).setFloat32(0, Infinity, true)
  assert.equal(pick(decodePayload({ name: 'int8', chunkSize: 4 }, int8, 1)), 'NON_FINITE')
  new DataView(int8.buffer).setFloat32(0, -1, true)
  assert.equal(pick(decodePayload({ name: 'int8', chunkSize: 4 }, int8, 1)), 'MALFORMED')
  new DataView(int8.buffer).setFloat32(0, 1, true)
  int8[4] = 0x80
  assert.equal(pick(decodePayload({ name: 'int8', chunkSize: 4 }, int8, 1)), 'MALFORMED')
  assert.equal(pick(decodePayload({ name: 'int8', chunkSize: 0 }, int8, 1)), 'MALFORMED')
  const topk = new Uint8Array(16)
  const v = new DataView(topk.buffer)
  v.setUint32(0, 3, true); v.setUint32(4, 3, true)
  assert.equal(pick(decodePayload({ name: 'topk', k: 2 }, topk, 10)), 'MALFORMED') // not strictly increasing
  v.setUint32(4, 10, true)
  assert.equal(pick(decodePayload({ name: 'topk', k: 2 }, topk, 10)), 'MALFORMED') // out of range
  v.setUint32(4, 4, true); v.setFloat32(8, NaN, true)
  assert.equal(pick(decodePayload({ name: 'topk', k: 2 }, topk, 10)), 'NON_FINITE')
  assert.equal(pick(decodePayload({ name: 'topk', k: 20 }, topk, 10)), 'MALFORMED') // k > numParams
  assert.equal(pick(decodePayload({ name: 'float32' }, new Uint8Array(0), 2 ** 40)), 'MALFORMED') // huge numParams, nothing allocated
})

test('parseCodecSpec accepts the documented forms and names bad ones', () => {
  assert.deepEqual(parseCodecSpec('int8:512'), { name: 'int8', chunkSize: 512 })
  assert.deepEqual(parseCodecSpec('topk:0.05'), { name: 'topk', fraction: 0.05 })
  assert.deepEqual(parseCodecSpec('topk:k=7'), { name: 'topk', k: 7 })
  for (const bad of ['int4', 'int8:0', 'topk:2', 'float16:3', 'topk:k=0']) {
    assert.throws(() => parseCodecSpec(bad), (e: Error) => e.name === 'CodecSpecError', bad)
  }
})

function pick (r: ReturnType<typeof decodePayload>): string {
  return r.ok ? 'ok' : r.reason
}

test('float32 encode({ view: true }) shares the vector\'s bytes (no copy); the default returns its own copy', () => {
  const w = vector(300)
  const enc = createEncoder({ name: 'float32' })
  const copied = enc.encode(w).payload
  const shared = enc.encode(w, { view: true }).payload
  assert.deepEqual(decodeOk({ name: 'float32' }, shared, 300).values, w)
  assert.deepEqual(shared, copied)
  w[7] = 12345
  assert.equal(new Float32Array(shared.buffer, shared.byteOffset, 300)[7], 12345)
  assert.notEqual(new Float32Array(copied.buffer, copied.byteOffset, 300)[7], 12345)
  w[8] = Number.NaN
  assert.throws(() => enc.encode(w, { view: true }), (e: Error) => e.name === 'NonFiniteWeightsError')
  // the other codecs ignore it and return new bytes
  const h = createEncoder({ name: 'float16' }).encode(vector(10), { view: true }).payload
  assert.equal(h.length, 20)
})
