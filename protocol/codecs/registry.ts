/**
 * The table of payload codecs: every codec is one PayloadCodec object (its own file); the functions here
 * dispatch on the descriptor's name or the header's id byte and do the checks every codec shares (vector
 * length bound, payload length, decoded size) before a codec sees any bytes.
 */
import { MAX_PARAMS } from './constants.js'
import { CodecSpecError } from './errors.js'
import { float32Codec } from './float32.js'
import { float16Codec } from './float16.js'
import { int8Codec } from './int8.js'
import { topkCodec } from './topk.js'
import { inRange } from './shared.js'
import type { CodecDescriptor, CodecName, CodecSpec, DecodeOptions, DecodeResult, Encoder, PayloadCodec } from './types.js'

/** Every codec, in id order. A new codec is one file and one line here (and a name in types.ts). */
export const CODECS: readonly PayloadCodec[] = [float32Codec, float16Codec, int8Codec, topkCodec] as unknown as PayloadCodec[]

const byName = new Map<string, PayloadCodec>(CODECS.map((c) => [c.name, c]))
const byId = new Map<number, PayloadCodec>(CODECS.map((c) => [c.id, c]))

export const CODEC_IDS = Object.fromEntries(CODECS.map((c) => [c.name, c.id])) as Record<CodecName, number>

/** The codec of this name, or undefined. */
export function codecByName (name: string): PayloadCodec | undefined {
  return byName.get(name)
}

/** The codec of this header id byte, or undefined. */
export function codecById (id: number): PayloadCodec | undefined {
  return byId.get(id)
}

/** Parses and checks a user's codec spec (CLI, scenario files): "float16", "int8:512", "topk:0.05", "topk:k=1000". */
export function parseCodecSpec (text: string): CodecSpec {
  const [name, arg] = text.split(':', 2)
  const codec = byName.get(name)
  if (codec == null) throw new CodecSpecError(`unknown codec "${text}" (${CODECS.map((c) => c.usage).join(', ')})`)
  return codec.parseSpec(arg)
}

/** A stateless encoder (float32, float16, int8) or a stateful top-k encoder with error feedback (one per sender). */
export function createEncoder (spec: CodecSpec): Encoder {
  const codec = byName.get(spec.name)
  if (codec == null) throw new CodecSpecError(`unknown codec ${(spec as { name: string }).name}`)
  return codec.createEncoder(spec)
}

/** Bytes the payload must have for this codec and vector length; null when the combination is invalid. */
export function expectedPayloadLength (codec: CodecDescriptor, numParams: number): number | null {
  if (!inRange(numParams, 0, MAX_PARAMS)) return null
  return byName.get(codec.name)?.encodedLength(codec, numParams) ?? null
}

/**
 * Decodes a payload from the network. Never throws: every problem is a named refusal. Checks the length
 * against the codec and `numParams` and the size bound before allocating anything.
 */
export function decodePayload (codec: CodecDescriptor, payload: Uint8Array, numParams: number, options: DecodeOptions = {}): DecodeResult {
  const expected = expectedPayloadLength(codec, numParams)
  if (expected == null) return { ok: false, reason: 'MALFORMED', detail: `invalid codec parameters for ${numParams} params` }
  if (payload.length !== expected) {
    return { ok: false, reason: 'LENGTH_MISMATCH', detail: `${codec.name} payload has ${payload.length} bytes, expected ${expected}` }
  }
  if (options.maxBytes != null && 4 * numParams > options.maxBytes) {
    return { ok: false, reason: 'OVERSIZED', detail: `decoded vector would be ${4 * numParams} bytes, limit ${options.maxBytes}` }
  }
  return (byName.get(codec.name) as PayloadCodec).decode(codec, payload, numParams, options)
}

/** Bytes the codec's parameters take in the header after its id byte; null for an unknown id. */
export function codecParamBytes (id: number): number | null {
  const codec = byId.get(id)
  return codec == null ? null : 4 * codec.params.length
}

/** Writes codec id and params (u32 big-endian each) at `offset`; returns the new offset. */
export function writeCodec (view: DataView, offset: number, codec: CodecDescriptor): number {
  const c = byName.get(codec.name)
  if (c == null) throw new CodecSpecError(`unknown codec ${(codec as { name: string }).name}`)
  view.setUint8(offset, c.id)
  offset += 1
  for (const p of c.params) { view.setUint32(offset, (codec as unknown as Record<string, number>)[p.key]); offset += 4 }
  return offset
}

/** Reads codec id and params at `offset` (bounds already checked by the caller via codecParamBytes). */
export function readCodec (view: DataView, offset: number): CodecDescriptor | null {
  const c = byId.get(view.getUint8(offset))
  if (c == null) return null
  const out: Record<string, string | number> = { name: c.name }
  offset += 1
  for (const p of c.params) { out[p.key] = view.getUint32(offset); offset += 4 }
  return out as unknown as CodecDescriptor
}

/** Short text form of a descriptor ("int8:1024", "topk:k=500"). */
export function formatCodec (codec: CodecDescriptor): string {
  const c = byName.get(codec.name)
  return c == null ? String((codec as { name: string }).name) : c.format(codec)
}
