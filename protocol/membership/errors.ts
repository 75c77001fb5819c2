/** Named errors of network manifests and key epochs. */

/** The manifest text or object is invalid; the message names the file (when known) and the field. */
export class ManifestFormatError extends Error {
  static override name = 'ManifestFormatError'
  override name = 'ManifestFormatError'
}

/** Too few valid admin signatures, or a signature that does not verify. */
export class ManifestSignatureError extends Error {
  static override name = 'ManifestSignatureError'
  override name = 'ManifestSignatureError'
}

/** A candidate manifest is not a higher version of the same network. */
export class StaleManifestError extends Error {
  static override name = 'StaleManifestError'
  override name = 'StaleManifestError'
}

/** A membership change that cannot be made (unknown member, last admin, threshold too high...). */
export class MembershipChangeError extends Error {
  static override name = 'MembershipChangeError'
  override name = 'MembershipChangeError'
}

/** This identity cannot open a key epoch (not a member of it, or the record was altered). */
export class EpochKeyError extends Error {
  static override name = 'EpochKeyError'
  override name = 'EpochKeyError'
}
