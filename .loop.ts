import { randomBytes as nodeRandom } from 'node:crypto'
import { generateIdentity, createSigner, toHex } from './crypto/index.js'
import { sealUpdate, createValidator, createMemoryReplayGuard } from './protocol/messages/index.js'
import { createEncoder } from './protocol/codecs/index.js'
const numParams = 262144
const w = new Float32Array(numParams); for (let i = 0; i < numParams; i++) w[i] = Math.sin(i) * 0.1
const enc = createEncoder({ name: 'float32' }).encode(w)
const id = generateIdentity(); const signer = createSigner(id)
const epochKey = new Uint8Array(nodeRandom(32)); const networkId = toHex(nodeRandom(32)); const schemaHash = toHex(nodeRandom(32))
const fields = (seq: number) => ({ networkId, manifestVersion: 1, keyEpoch: 1, schemaHash, round: 1, seq, exampleCount: 1000, pushSumWeight: 0.5, numParams, parents: [toHex(nodeRandom(32))] })
const validator = createValidator({ networkId, schemaHash, numParams, maxBytes: 8 << 20, normBound: 1e6, replay: createMemoryReplayGuard(), membership: { isMember: () => true, epochKey: () => epochKey } })
const xs: number[] = []
for (let i = 0; i < 600; i++) { const a = performance.now(); const b = sealUpdate(fields(i), enc, { signer, epochKey }).bytes; if (!validator.validate(b).ok) throw new Error('x'); xs.push(performance.now() - a) }
xs.sort((a, b) => a - b); console.log('median', xs[300].toFixed(3))
