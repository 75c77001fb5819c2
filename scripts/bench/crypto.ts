/**
 * `npm run bench -- crypto`: envelope crypto speed (keys prefixed `envelope.`).
 *
 * - seal31KBUs / open31KBUs: medians (microseconds) of sealUpdate and of full validation of a simulator-sized
 *   update (7,850 float32 params, 31 KB), and in the same loop, iteration by iteration, the crypto primitives
 *   that envelope needs on its own (seal: secretbox of binding || payload, BLAKE3 of the ciphertext, ed25519
 *   sign, SHA-256 of the header twice for binding and id; open: ed25519 verify, BLAKE3, secretbox open into a
 *   buffer, SHA-256 twice): sealPrimitives31KBUs, openPrimitives31KBUs, primitives31KBUs (both).
 *   overhead31KBUs = median(seal + open) - primitives31KBUs is everything else (header encode and decode,
 *   allocation, checks, finite + norm pass). This section runs first: its 2,500 envelopes also bring the
 *   envelope code to the optimising JIT, as in a running peer.
 * - sealOpen1MiBMs: median of seal + full validation of a 1 MiB float32 update (262,144 params): header,
 *   XSalsa20-Poly1305 secretbox, BLAKE3 of the ciphertext, ed25519 sign / verify, decode, finite + norm.
 *   Measured in steady state, after 40 warm-up iterations (a fresh process's first seal + open pay first-touch
 *   page faults for their two fresh megabytes, which malloc recycles afterwards; BENCHMARKS.md).
 * - ceilingSealOpen1MiBMs: the same work in the same run with node:crypto only (ChaCha20-Poly1305 AEAD, SHA-256
 *   of the ciphertext, node's ed25519): what this machine does with stock primitives alone (node:crypto has no
 *   BLAKE3). ratio = ours / ceiling (goal <= 2).
 * - verifyPerSecond: ed25519 verifications of header-sized messages (64 different signers), goal >= 5,000.
 * - tweetnacl*: the same figures with tweetnacl, the portable reference (baseline).
 * - <codec>EncodeMs / DecodeMs / PayloadBytes: payload codecs on the same 262,144-parameter vector.
 */
import { createCipheriv, createDecipheriv, createHash, generateKeyPairSync, sign as nodeSign, verify as nodeVerify, randomBytes as nodeRandom } from 'node:crypto'
import nacl from 'tweetnacl'
import {
  generateIdentity, createSigner, sign, verify, secretbox, secretboxInto, secretboxOpenInto, blake3, backend,
  hashBackend, toHex, reference
} from '../../crypto/index.js'
import { sha256Into, sha256Hex } from '../../crypto/fast.js'
import { sealUpdate, createValidator, createMemoryReplayGuard, signedMessage, type UpdateFields } from '../../protocol/messages/index.js'
import { createEncoder, decodePayload, parseCodecSpec, sumOfSquaresBackend } from '../../protocol/codecs/index.js'

export const name = 'envelope'

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

function time (f: () => void): number {
  const t = performance.now()
  f()
  return performance.now() - t
}

function perSecond (f: (i: number) => void, minMs: number): number {
  let n = 0
  const start = performance.now()
  let now = start
  while (now - start < minMs) {
    for (let i = 0; i < 50; i++) f(n++)
    now = performance.now()
  }
  return n / ((now - start) / 1000)
}

/** A float32 update of `numParams` values, a signer, an epoch key, header fields and a validator for it. */
function benchUpdate (numParams: number, value: (i: number) => number, exampleCount: number, maxBytes: number): {
  weights: Float32Array, encoded: ReturnType<ReturnType<typeof createEncoder>['encode']>, id: ReturnType<typeof generateIdentity>,
  signer: ReturnType<typeof createSigner>, epochKey: Uint8Array, fields: (seq: number) => UpdateFields,
  validator: ReturnType<typeof createValidator>
} {
  const weights = new Float32Array(numParams)
  for (let i = 0; i < numParams; i++) weights[i] = value(i)
  const encoded = createEncoder({ name: 'float32' }).encode(weights)
  const id = generateIdentity()
  const epochKey = new Uint8Array(nodeRandom(32))
  const networkId = toHex(nodeRandom(32))
  const schemaHash = toHex(nodeRandom(32))
  const parents = [toHex(nodeRandom(32))]
  const fields = (seq: number): UpdateFields => ({ networkId, manifestVersion: 1, keyEpoch: 1, schemaHash, round: 1, seq, exampleCount, pushSumWeight: 0.5, numParams, parents })
  const validator = createValidator({
    networkId, schemaHash, numParams, maxBytes, normBound: 1e6, replay: createMemoryReplayGuard(),
    membership: { isMember: () => true, epochKey: () => epochKey }
  })
  return { weights, encoded, id, signer: createSigner(id), epochKey, fields, validator }
}

/** Seal and open of a 7,850-parameter float32 update (31 KB) beside the primitives it needs, in one loop. */
function envelope31KB (quick: boolean): Record<string, number> {
  const numParams = 7850
  const { encoded, id, signer, epochKey, fields, validator } = benchUpdate(numParams, (i) => Math.cos(i) * 0.05, 100, 1 << 20)
  // the primitives alone, on buffers laid out as in the envelope: nonce || mac || box(binding || payload)
  const sample = sealUpdate(fields(0), encoded, { signer, epochKey }).bytes
  const hl = (sample[0] << 8) | sample[1]
  const headerBytes = sample.slice(2, 2 + hl)
  const plain = new Uint8Array(32 + encoded.payload.length)
  plain.set(encoded.payload, 32)
  const ct = new Uint8Array(24 + 16 + plain.length)
  const nonce = ct.subarray(0, 24)
  nonce.set(nodeRandom(24))
  const opened = new Uint8Array(plain.length)
  const digest = new Uint8Array(32)
  const msg = signedMessage(headerBytes)
  let sig = sign(msg, id.signSecretKey)
  const sealPrimitives = (): void => {
    sha256Into(digest, headerBytes) // binding
    secretboxInto(ct.subarray(24), plain, nonce, epochKey)
    blake3(ct)
    sig = sign(msg, id.signSecretKey)
    sha256Hex(headerBytes) // id
  }
  const openPrimitives = (): void => {
    sha256Hex(headerBytes) // id
    if (!verify(msg, sig, id.signPublicKey)) throw new Error('primitive verify failed')
    blake3(ct)
    if (!secretboxOpenInto(opened, ct.subarray(24), nonce, epochKey)) throw new Error('primitive open failed')
    sha256Into(digest, headerBytes) // binding
  }
  const warmup = quick ? 200 : 500
  const iterations = quick ? 301 : 2001
  const seal: number[] = []
  const open: number[] = []
  const both: number[] = []
  const sealP: number[] = []
  const openP: number[] = []
  const bothP: number[] = []
  for (let i = 0; i < warmup + iterations; i++) {
    const t0 = performance.now()
    const bytes = sealUpdate(fields(i + 1), encoded, { signer, epochKey }).bytes
    const t1 = performance.now()
    const ok = validator.validate(bytes).ok
    const t2 = performance.now()
    if (!ok) throw new Error('31 KB benchmark envelope was refused')
    sealPrimitives()
    const t3 = performance.now()
    openPrimitives()
    const t4 = performance.now()
    if (i >= warmup) {
      seal.push((t1 - t0) * 1000); open.push((t2 - t1) * 1000); both.push((t2 - t0) * 1000)
      sealP.push((t3 - t2) * 1000); openP.push((t4 - t3) * 1000); bothP.push((t4 - t2) * 1000)
    }
  }
  const sealOpen = median(both)
  const primitives = median(bothP)
  return {
    seal31KBUs: median(seal),
    open31KBUs: median(open),
    sealOpen31KBUs: sealOpen,
    sealPrimitives31KBUs: median(sealP),
    openPrimitives31KBUs: median(openP),
    primitives31KBUs: primitives,
    overhead31KBUs: sealOpen - primitives,
    overhead31KBPct: 100 * (sealOpen - primitives) / primitives,
    envelope31KBBytes: sample.length,
    iterations31KB: iterations
  }
}

export async function run (options: { quick: boolean }): Promise<Record<string, number | string | boolean | null>> {
  const small = envelope31KB(options.quick)
  const iterations = options.quick ? 15 : 61
  const numParams = (1 << 20) / 4
  const { weights, encoded, id, signer, epochKey, fields, validator } = benchUpdate(numParams, (i) => Math.sin(i) * 0.1, 1000, 8 << 20)

  // ours and the ceiling, interleaved so both see the same machine load (this VM is shared)
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const header = new Uint8Array(nodeRandom(240))
  const ceilingOnce = (): void => {
    // the same structure with node:crypto only: ChaCha20-Poly1305 AEAD and node's ed25519
    const plaintext = new Uint8Array(32 + encoded.payload.length)
    plaintext.set(createHash('sha256').update(header).digest(), 0)
    plaintext.set(encoded.payload, 32)
    const nonce = nodeRandom(12)
    const c = createCipheriv('chacha20-poly1305', epochKey, nonce, { authTagLength: 16 })
    const ct = Buffer.concat([c.update(plaintext), c.final()])
    const tag = c.getAuthTag()
    const ctHash = createHash('sha256').update(nonce).update(tag).update(ct).digest()
    const signed = Buffer.concat([header, ctHash])
    const sig = nodeSign(null, signed, privateKey)
    // open
    if (!nodeVerify(null, signed, publicKey, sig)) throw new Error('ceiling verify failed')
    const h2 = createHash('sha256').update(nonce).update(tag).update(ct).digest()
    if (!h2.equals(ctHash)) throw new Error('ceiling hash')
    const d = createDecipheriv('chacha20-poly1305', epochKey, nonce, { authTagLength: 16 })
    d.setAuthTag(tag)
    const pt = Buffer.concat([d.update(ct), d.final()])
    const values = new Float32Array(pt.buffer, pt.byteOffset + 32, numParams)
    let s = 0
    for (let j = 0; j < values.length; j++) s += values[j] * values[j]
    if (!Number.isFinite(s)) throw new Error('ceiling values')
  }
  const seal: number[] = []
  const open: number[] = []
  const both: number[] = []
  const ceiling: number[] = []
  // Warm-up until the allocator is in its steady state (fresh megabytes from the OS fault on first touch;
  // afterwards malloc recycles them, as in a running peer).
  const warmup = options.quick ? 10 : 40
  for (let i = 0; i < iterations + warmup; i++) {
    let bytes: Uint8Array = new Uint8Array(0)
    const s = time(() => { bytes = sealUpdate(fields(i), encoded, { signer, epochKey }).bytes })
    let ok = false
    const o = time(() => { ok = validator.validate(bytes).ok })
    if (!ok) throw new Error('benchmark envelope was refused')
    const c = time(ceilingOnce)
    if (i >= warmup) { seal.push(s); open.push(o); both.push(s + o); ceiling.push(c) }
  }

  // signatures on header-sized messages
  const signers = Array.from({ length: 64 }, () => generateIdentity())
  const messages = signers.map(() => signedMessage(new Uint8Array(nodeRandom(200))))
  const sigs = signers.map((s, i) => sign(messages[i], s.signSecretKey))
  const verifyMs = options.quick ? 300 : 1500
  const verifyPerSecond = perSecond((i) => { const k = i & 63; if (!verify(messages[k], sigs[k], signers[k].signPublicKey)) throw new Error('verify failed') }, verifyMs)
  const signPerSecond = perSecond((i) => { sign(messages[i & 63], signers[i & 63].signSecretKey) }, verifyMs / 2)

  // tweetnacl baseline
  const naclVerifyPerSecond = perSecond((i) => { const k = i & 63; nacl.sign.detached.verify(messages[k], sigs[k], signers[k].signPublicKey) }, options.quick ? 300 : 1000)
  const naclSignPerSecond = perSecond((i) => { nacl.sign.detached(messages[i & 63], signers[i & 63].signSecretKey) }, options.quick ? 300 : 1000)
  const nonce24 = new Uint8Array(nodeRandom(24))
  const naclRuns = options.quick ? 3 : 7
  const naclSealOpen: number[] = []
  for (let i = 0; i < naclRuns; i++) {
    naclSealOpen.push(time(() => {
      const plaintext = new Uint8Array(32 + encoded.payload.length)
      plaintext.set(encoded.payload, 32)
      const box = reference.secretbox(plaintext, nonce24, epochKey)
      const h = createHash('sha256').update(box).digest()
      const sig = reference.sign(signedMessage(h), id.signSecretKey)
      if (!reference.verify(signedMessage(h), sig, id.signPublicKey)) throw new Error('nacl verify')
      createHash('sha256').update(box).digest()
      if (reference.secretboxOpen(box, nonce24, epochKey) == null) throw new Error('nacl open')
    }))
  }
  const naclBox: number[] = []
  for (let i = 0; i < naclRuns; i++) naclBox.push(time(() => reference.secretbox(encoded.payload, nonce24, epochKey)))
  const naclSecretboxMBps = encoded.payload.length / 1e6 / (median(naclBox) / 1000)
  const ourBox: number[] = []
  for (let i = 0; i < iterations; i++) ourBox.push(time(() => secretbox(encoded.payload, nonce24, epochKey)))
  const secretboxMBps = encoded.payload.length / 1e6 / (median(ourBox) / 1000)

  // payload codecs on the same 262,144-parameter vector (encode / decode medians, bytes on the wire)
  const codecFigures: Record<string, number> = {}
  for (const [label, spec] of [['float32', 'float32'], ['float16', 'float16'], ['int8', 'int8'], ['topk1pct', 'topk:0.01']] as const) {
    const encoder = createEncoder(parseCodecSpec(spec))
    let e = encoder.encode(weights)
    for (let i = 0; i < 3; i++) decodePayload((e = encoder.encode(weights)).codec, e.payload, numParams) // warm-up
    const encodeTimes: number[] = []
    const decodeTimes: number[] = []
    for (let i = 0; i < (options.quick ? 5 : 15); i++) {
      encodeTimes.push(time(() => { e = encoder.encode(weights) }))
      decodeTimes.push(time(() => { if (!decodePayload(e.codec, e.payload, numParams).ok) throw new Error(`${spec} decode failed`) }))
    }
    codecFigures[`${label}EncodeMs`] = median(encodeTimes)
    codecFigures[`${label}DecodeMs`] = median(decodeTimes)
    codecFigures[`${label}PayloadBytes`] = e.payload.length
  }

  const sealOpen = median(both)
  const ceil = median(ceiling)
  return {
    backend,
    hashBackend,
    sumOfSquaresBackend,
    sealOpen1MiBMs: sealOpen,
    seal1MiBMs: median(seal),
    open1MiBMs: median(open),
    ceilingSealOpen1MiBMs: ceil,
    ratioToCeiling: sealOpen / ceil,
    sealOpenGoalMet: sealOpen <= 5 && sealOpen / ceil <= 2,
    verifyPerSecond,
    signPerSecond,
    verifyGoalMet: verifyPerSecond >= 5000,
    secretboxMBps,
    tweetnaclSealOpen1MiBMs: median(naclSealOpen),
    tweetnaclSecretboxMBps: naclSecretboxMBps,
    tweetnaclVerifyPerSecond: naclVerifyPerSecond,
    tweetnaclSignPerSecond: naclSignPerSecond,
    verifySpeedupVsTweetnacl: verifyPerSecond / naclVerifyPerSecond,
    sealOpenSpeedupVsTweetnacl: median(naclSealOpen) / sealOpen,
    ...small,
    ...codecFigures,
    iterations
  }
}
