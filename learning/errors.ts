/** Named errors of the learning layer. Tests and callers match on `.name`. */

/** A TF.js backend was asked for but its package is not installed (or failed to initialize). */
export class BackendUnavailableError extends Error {
  static override name = 'BackendUnavailableError'
  override name = 'BackendUnavailableError'
}

/** A model or dataset spec failed validation. `field` is the dotted path of the first offending field. */
export class InvalidSpecError extends Error {
  static override name = 'InvalidSpecError'
  override name = 'InvalidSpecError'
  readonly field: string
  constructor (message: string, field = '') {
    super(message)
    this.field = field
  }
}

/** A row of a data file could not be read. Names the file, the 1-based line and the column. */
export class BadRowError extends Error {
  static override name = 'BadRowError'
  override name = 'BadRowError'
  readonly file: string
  readonly line: number
  readonly column: string
  constructor (file: string, line: number, column: string, problem: string) {
    super(`${file}: line ${line}, column ${column}: ${problem}`)
    this.file = file
    this.line = line
    this.column = column
  }
}

/** A data file gave no usable rows (every row was a skipped bad row). */
export class EmptyDatasetError extends Error {
  static override name = 'EmptyDatasetError'
  override name = 'EmptyDatasetError'
}

/** A data file or data directory could not be found. */
export class DatasetNotFoundError extends Error {
  static override name = 'DatasetNotFoundError'
  override name = 'DatasetNotFoundError'
}

/** The model needs kernels (e.g. Conv2D gradients) the active backend lacks. */
export class UnsupportedOnBackendError extends Error {
  static override name = 'UnsupportedOnBackendError'
  override name = 'UnsupportedOnBackendError'
}

/** Weights of the wrong length or schema were handed to a model or learner. */
export class WeightsMismatchError extends Error {
  static override name = 'WeightsMismatchError'
  override name = 'WeightsMismatchError'
}

/** The dataset and model do not fit together (e.g. a Poisson model on a dataset without a count label). */
export class IncompatibleModelError extends Error {
  static override name = 'IncompatibleModelError'
  override name = 'IncompatibleModelError'
}

/** A data file is not in the format its spec says (a binary file read as CSV, a malformed idx file). Names the file. */
export class UnsupportedFormatError extends Error {
  static override name = 'UnsupportedFormatError'
  override name = 'UnsupportedFormatError'
  constructor (readonly file: string, problem: string) { super(`${file}: ${problem}`) }
}
