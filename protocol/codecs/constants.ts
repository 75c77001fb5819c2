/** Defaults and bounds of the payload codecs. */

export const DEFAULT_INT8_CHUNK = 1024
export const DEFAULT_TOPK_FRACTION = 0.01
export const MAX_INT8_CHUNK = 1 << 24
/** Largest weight vector any codec accepts (2^28 params = 1 GiB of float32). */
export const MAX_PARAMS = 1 << 28
/** Largest value of a u32 header parameter. */
export const U32_MAX = 0xffffffff
