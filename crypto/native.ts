/** The native addons of the fast provider, their shapes, and loading them where they exist. */
import { createRequire } from 'node:module'

/** The part of sodium-native's API the fast provider uses. */
export interface Sodium {
  crypto_sign_seed_keypair: (pk: Uint8Array, sk: Uint8Array, seed: Uint8Array) => void
  crypto_sign_detached: (sig: Uint8Array, m: Uint8Array, sk: Uint8Array) => void
  crypto_sign_verify_detached: (sig: Uint8Array, m: Uint8Array, pk: Uint8Array) => boolean
  crypto_sign_ed25519_pk_to_curve25519: (x: Uint8Array, pk: Uint8Array) => void
  crypto_sign_ed25519_sk_to_curve25519: (x: Uint8Array, sk: Uint8Array) => void
  crypto_secretbox_easy: (c: Uint8Array, m: Uint8Array, n: Uint8Array, k: Uint8Array) => void
  crypto_secretbox_open_easy: (m: Uint8Array, c: Uint8Array, n: Uint8Array, k: Uint8Array) => boolean
  crypto_box_easy: (c: Uint8Array, m: Uint8Array, n: Uint8Array, pk: Uint8Array, sk: Uint8Array) => void
  crypto_box_open_easy: (m: Uint8Array, c: Uint8Array, n: Uint8Array, pk: Uint8Array, sk: Uint8Array) => boolean
  crypto_scalarmult_base: (q: Uint8Array, n: Uint8Array) => void
  crypto_stream_salsa20_xor_ic: (c: Uint8Array, m: Uint8Array, n: Uint8Array, ic: number, k: Uint8Array) => void
  crypto_onetimeauth: (h: Uint8Array, m: Uint8Array, k: Uint8Array) => void
  randombytes_buf: (buf: Uint8Array) => void
}

/** The part of @napi-rs/blake-hash's API the fast provider uses. */
export interface Blake3Native {
  blake3: (input: Uint8Array) => Uint8Array
  Blake3Hasher: new () => { update: (input: Uint8Array) => unknown, digestBuffer: () => Uint8Array }
}

/** A native addon, or null where it does not load here or the caller switched it off. */
export function loadNative<T> (id: string, off: boolean): T | null {
  if (off) return null
  try {
    return createRequire(import.meta.url)(id) as T
  } catch {
    return null
  }
}
