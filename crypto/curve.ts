/** The ed25519 -> X25519 public key map in plain BigInt arithmetic (tweetnacl and node:crypto have none). */

const P = (1n << 255n) - 19n

function modPow (b: bigint, e: bigint): bigint {
  let r = 1n
  b %= P
  while (e > 0n) {
    if ((e & 1n) === 1n) r = r * b % P
    b = b * b % P
    e >>= 1n
  }
  return r
}

/**
 * The standard birational map from an ed25519 public key to its X25519 public key (libsodium's
 * crypto_sign_ed25519_pk_to_curve25519: u = (1 + y) / (1 - y)). Null for a y that is out of range or 1.
 * The caller checks that the key decodes as a point where it can.
 */
export function edwardsToMontgomery (publicKey: Uint8Array): Uint8Array | null {
  if (publicKey.length !== 32) return null
  let y = 0n
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? publicKey[i] & 0x7f : publicKey[i])
  if (y >= P || y === 1n) return null
  const u = (1n + y) * modPow((1n - y + P) % P, P - 2n) % P
  const out = new Uint8Array(32)
  let v = u
  for (let i = 0; i < 32; i++) { out[i] = Number(v & 0xffn); v >>= 8n }
  return out
}
