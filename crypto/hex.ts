/** Hex and byte helpers shared by crypto/ and protocol/. */

const HEX_RE = /^(?:[0-9a-f]{2})*$/

/** Lowercase hex of bytes. */
export function toHex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Parses lowercase or uppercase hex; returns null when it is not hex of the expected byte length. */
export function fromHexOrNull (text: string, length?: number): Uint8Array | null {
  if (typeof text !== 'string') return null
  const lower = text.toLowerCase()
  if (!HEX_RE.test(lower)) return null
  if (length != null && lower.length !== length * 2) return null
  return new Uint8Array(Buffer.from(lower, 'hex'))
}

/** Parses hex; throws a RangeError naming `what` when the text is not hex of the expected length. */
export function fromHex (text: string, length?: number, what = 'value'): Uint8Array {
  const bytes = fromHexOrNull(text, length)
  if (bytes == null) {
    throw new RangeError(`${what} must be ${length != null ? `${length * 2} hex characters` : 'hex'}`)
  }
  return bytes
}

/** Value of each ASCII hex digit (either case), -1 for every other code below 128. */
const HEX_DIGITS = (() => {
  const t = new Int8Array(128).fill(-1)
  for (let i = 0; i < 10; i++) t[48 + i] = i
  for (let i = 0; i < 6; i++) { t[65 + i] = 10 + i; t[97 + i] = 10 + i }
  return t
})()

/** Decodes a 64-character hex string into out[offset..offset+32); false (out partly written) when it is not that. */
function decodeHex32Into (out: Uint8Array, offset: number, text: string): boolean {
  if (typeof text !== 'string' || text.length !== 64) return false
  for (let i = 0; i < 32; i++) {
    const a = text.charCodeAt(2 * i)
    const b = text.charCodeAt(2 * i + 1)
    const hi = a < 128 ? HEX_DIGITS[a] : -1
    const lo = b < 128 ? HEX_DIGITS[b] : -1
    if ((hi | lo) < 0) return false
    out[offset + i] = (hi << 4) | lo
  }
  return true
}

/**
 * Writes the 32 bytes that a 64-character hex string (either case) encodes into `out` at `offset`; false
 * (and nothing reliable written) when it is not exactly that. Same acceptance as `fromHexOrNull(text, 32)`.
 */
export function writeHex32 (out: Uint8Array, offset: number, text: string): boolean {
  return decodeHex32Into(out, offset, text)
}

/** Constant-time equality of two byte strings (false when lengths differ). */
export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i]
  return diff === 0
}

export function concatBytes (...parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}
