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
