/** Random bytes for public values (nonces), drawn from the OS in blocks. */

const POOL_BYTES = 4096

/**
 * A source of public random bytes that fills small requests from a 4 KiB block drawn at once (one system call
 * per 170 envelope nonces instead of one each) and large ones directly. Each byte is handed out once and wiped
 * from the block. Each provider owns its own pool.
 */
export function createNoncePool (fill: (out: Uint8Array) => void): (out: Uint8Array) => void {
  const pool = new Uint8Array(POOL_BYTES)
  let used = POOL_BYTES
  return (out) => {
    const n = out.length
    if (n > 256) { fill(out); return }
    if (used + n > POOL_BYTES) { fill(pool); used = 0 }
    const part = pool.subarray(used, used + n)
    out.set(part)
    part.fill(0)
    used += n
  }
}
