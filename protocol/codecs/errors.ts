/** Named errors of the payload codecs (encoder side: our own weights; decoding never throws). */

export class NonFiniteWeightsError extends Error {
  static override name = 'NonFiniteWeightsError'
  override name = 'NonFiniteWeightsError'
}

export class CodecRangeError extends Error {
  static override name = 'CodecRangeError'
  override name = 'CodecRangeError'
}

export class CodecSpecError extends Error {
  static override name = 'CodecSpecError'
  override name = 'CodecSpecError'
}
