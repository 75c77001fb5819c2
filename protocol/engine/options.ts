/** Engine options: the defaults (constants.ts) overlaid with the caller's, each checked by name and type. */
import { defaultPeerEngineOptions, type PeerEngineOptions } from './constants.js'
import { InvalidEngineOptionsError } from './errors.js'
import { parseAveragingParams, type AveragingParams } from './rules/index.js'
import type { PeerEngineInit } from './types.js'

/** Throws InvalidEngineOptionsError naming the option, InvalidAveragingParamsError naming the rule's field. */
export function mergeOptions (init: PeerEngineInit): { options: PeerEngineOptions, params: AveragingParams } {
  const { averaging, ...rest } = init
  const options: PeerEngineOptions = { ...defaultPeerEngineOptions }
  for (const [k, v] of Object.entries(rest)) {
    if (v === undefined) continue
    if (!(k in defaultPeerEngineOptions)) throw new InvalidEngineOptionsError(`unknown engine option '${k}'`)
    const def = (defaultPeerEngineOptions as Record<string, unknown>)[k]
    if (typeof def !== typeof v) throw new InvalidEngineOptionsError(`engine option '${k}' must be a ${typeof def}, got ${typeof v}`)
    if (typeof v === 'number' && (!Number.isFinite(v) || v < 0)) throw new InvalidEngineOptionsError(`engine option '${k}' must be a finite number >= 0, got ${v}`)
    ;(options as Record<string, unknown>)[k] = v
  }
  const params = parseAveragingParams(averaging ?? defaultPeerEngineOptions.averaging, 'averaging')
  options.averaging = params
  return { options, params }
}
