/** Named errors of differential privacy. Tests and callers match on `.name`. */

/** A privacy parameter is out of range or inconsistent (names the field). */
export class InvalidPrivacyError extends Error {
  static override name = 'InvalidPrivacyError'
  override name = 'InvalidPrivacyError'
  readonly field: string
  constructor (message: string, field: string) {
    super(`${field}: ${message}`)
    this.field = field
  }
}

/** A peer's privacy budget is spent: it may no longer train on its data or send what it trains. */
export class PrivacyBudgetExhaustedError extends Error {
  static override name = 'PrivacyBudgetExhaustedError'
  override name = 'PrivacyBudgetExhaustedError'
}

/** A saved accountant state could not be read back (names the field). */
export class AccountantStateError extends Error {
  static override name = 'AccountantStateError'
  override name = 'AccountantStateError'
}
