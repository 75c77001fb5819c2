/**
 * Regenerates the envelope test vectors in test/fixtures/envelopes-v3.json. Everything is fixed (sender seed,
 * group key, nonce, fields, weights), and ed25519 is deterministic, so the bytes are too: another
 * implementation can check itself against the file. Usage: npx tsx scripts/make-fixtures.ts [--check]
 * (--check exits 1 when the file on disk differs from what this code produces).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { generateIdentity, createSigner, toHex, fromHex } from '../crypto/index.js'
import { sealUpdate, headerToJson, type UpdateFields } from '../protocol/messages/index.js'
import { createEncoder, type CodecSpec } from '../protocol/codecs/index.js'

const FILE = new URL('../test/fixtures/envelopes-v3.json', import.meta.url)

function filled (byte: number, n = 32): string {
  return toHex(new Uint8Array(n).fill(byte))
}

export interface EnvelopeVector {
  name: string
  senderSeed: string
  senderPublicKey: string
  epochKey: string
  nonce: string
  fields: UpdateFields
  codec: CodecSpec
  weights: number[]
  envelopeHex: string
  id: string
  header: Record<string, unknown>
}

export function makeVectors (): { description: string, vectors: EnvelopeVector[] } {
  const senderSeed = filled(0x11)
  const sender = generateIdentity(fromHex(senderSeed, 32))
  const epochKey = filled(0x22)
  const nonce = filled(0x33, 24)
  const base: UpdateFields = {
    kind: 0,
    networkId: filled(0xaa),
    manifestVersion: 3,
    keyEpoch: 2,
    schemaHash: filled(0xbb),
    round: 7,
    seq: 42,
    exampleCount: 1234,
    pushSumWeight: 0.5,
    numParams: 8,
    parents: [filled(0xc1), filled(0xc2)]
  }
  const weights = [0.5, -1.25, 3, 0, 1e-3, -7.75, 2.5, 100]
  const cases: Array<{ name: string, codec: CodecSpec, fields?: Partial<UpdateFields> }> = [
    { name: 'float32-with-parents', codec: { name: 'float32' } },
    { name: 'float16-pairwise-request', codec: { name: 'float16' }, fields: { kind: 1, parents: [] } },
    { name: 'int8-chunk-4', codec: { name: 'int8', chunkSize: 4 }, fields: { parents: [] } },
    { name: 'topk-k-3', codec: { name: 'topk', k: 3 }, fields: { parents: [filled(0xc3)] } },
    // a sequence number past 32 bits (a start's clock floor, see SEQ_PER_MS): both halves of the u64 field
    { name: 'float32-seq-past-u32', codec: { name: 'float32' }, fields: { seq: 1_796_000_000_000_123, parents: [] } }
  ]
  const vectors = cases.map((c) => {
    const fields = { ...base, ...c.fields }
    const sealed = sealUpdate(fields, createEncoder(c.codec).encode(new Float32Array(weights)), {
      signer: createSigner(sender),
      epochKey: fromHex(epochKey, 32),
      randomBytes: (n) => fromHex(nonce, n)
    })
    return {
      name: c.name,
      senderSeed,
      senderPublicKey: toHex(sender.signPublicKey),
      epochKey,
      nonce,
      fields,
      codec: c.codec,
      weights,
      envelopeHex: toHex(sealed.bytes),
      id: sealed.id,
      header: headerToJson(sealed.header)
    }
  })
  return {
    description: 'Murmur update envelope v3 test vectors: seal(fields, encode(codec, weights)) with the given sender seed, ' +
      'epoch key and nonce must give exactly envelopeHex; id = SHA-256(header). Layout: docs/security.md.',
    vectors
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = JSON.stringify(makeVectors(), null, 2) + '\n'
  if (process.argv.includes('--check')) {
    const onDisk = readFileSync(FILE, 'utf8')
    if (onDisk !== text) { console.error('test/fixtures/envelopes-v3.json differs from what the code produces'); process.exit(1) }
    console.log('fixtures match')
  } else {
    writeFileSync(FILE, text)
    console.log(`wrote ${FILE.pathname}`)
  }
}
