/** Named errors of the GLM solver. Tests and callers match on `.name`. */

/** The dataset's encoding cannot be turned into a GLM design (names the spec column). */
export class GlmDesignError extends Error {
  static override name = 'GlmDesignError'
  override name = 'GlmDesignError'
}

/** A statistics vector is malformed: wrong length, version, width or a value out of range (names the field). */
export class GlmStatsError extends Error {
  static override name = 'GlmStatsError'
  override name = 'GlmStatsError'
  readonly field: string
  constructor (message: string, field: string) {
    super(message)
    this.field = field
  }
}

/** The fit cannot proceed (no data, a response the family does not allow, a start at the boundary). */
export class GlmFitError extends Error {
  static override name = 'GlmFitError'
  override name = 'GlmFitError'
}
