/** Named errors thrown when WE build an envelope from bad arguments (validation of others' bytes never throws). */
export class InvalidUpdateFieldError extends Error {
  static override name = 'InvalidUpdateFieldError'
  override name = 'InvalidUpdateFieldError'
}
