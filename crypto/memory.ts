/** Buffers for the fast provider: uninitialised output memory, and the shared-memory guard sodium-native needs. */

/**
 * A Uint8Array of `n` bytes the caller will overwrite completely: uninitialised, unpooled memory (skips
 * zero-filling), a plain zeroed array below 256 bytes. Its contents must never leave the caller before it has
 * written every byte.
 */
export function allocWritable (n: number): Uint8Array {
  if (n < 256) return new Uint8Array(n)
  const b = Buffer.allocUnsafeSlow(n)
  return new Uint8Array(b.buffer, b.byteOffset, n)
}

/**
 * sodium-native cannot read or write shared memory: handed a view of a SharedArrayBuffer it returns undefined and
 * writes nothing (a seal would leave its output unwritten). Inputs there are copied first; outputs there are refused.
 */
export function unshared<T extends Uint8Array> (a: T): T {
  return a.buffer instanceof SharedArrayBuffer ? a.slice() as T : a
}

export function assertOwnMemory (out: Uint8Array): void {
  if (out.buffer instanceof SharedArrayBuffer) throw new RangeError('crypto output must not be in shared memory')
}
