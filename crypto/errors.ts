/** Named errors thrown by crypto/ (tests and callers match on `.name`). */

export class InvalidKeyError extends Error {
  static override name = 'InvalidKeyError'
  override name = 'InvalidKeyError'
}

export class DecryptionError extends Error {
  static override name = 'DecryptionError'
  override name = 'DecryptionError'
}
