/** Sizes of the NaCl primitives Murmur keeps on the wire. */
export const SIGN_PUBLIC_KEY_BYTES = 32
export const SIGN_SECRET_KEY_BYTES = 64
export const SIGN_SEED_BYTES = 32
export const SIGNATURE_BYTES = 64
export const BOX_PUBLIC_KEY_BYTES = 32
export const BOX_SECRET_KEY_BYTES = 32
export const BOX_NONCE_BYTES = 24
export const BOX_MAC_BYTES = 16
export const SECRETBOX_KEY_BYTES = 32
export const SECRETBOX_NONCE_BYTES = 24
export const SECRETBOX_MAC_BYTES = 16
export const HASH_BYTES = 32
/** A sealed group key: ephemeral X25519 public key || nonce || box(32-byte key). */
export const SEALED_KEY_BYTES = BOX_PUBLIC_KEY_BYTES + BOX_NONCE_BYTES + BOX_MAC_BYTES + SECRETBOX_KEY_BYTES
/** Accepted scrypt parameters for passphrase-derived keys (checked on derivation and in network manifests). */
export const PASSPHRASE_KDF_LIMITS = { minN: 1024, maxN: 1 << 20, maxR: 32, maxP: 16 } as const
