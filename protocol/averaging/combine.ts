/**
 * Combines a peer's own model with several received ones under a named merge. Used by `epidemic` (weights:
 * example counts or 1, times a staleness discount) and `dpsgd` (Metropolis-Hastings weights).
 */
import { clippedGossip, coordinateMedian, trimmedMean } from './robust.js'
import type { RobustMergeParams } from './params.js'
import { weightedMean, type Vector } from './vector.js'

export interface CombineInput { weights: Vector, mass: number }
export interface CombineResult { merged: Float32Array, radius?: number, clipped?: number }

/**
 * `mean`: weighted mean of self and inputs; `median` / `trimmed-mean`: unweighted coordinate-wise over self and
 * inputs; `clipped`: self-centred clipping with the same weights. With no inputs returns a copy of self.
 */
export function combine (self: CombineInput, inputs: readonly CombineInput[], params: RobustMergeParams): CombineResult {
  if (inputs.length === 0) return { merged: Float32Array.from(self.weights) }
  switch (params.merge) {
    case 'mean':
      return { merged: weightedMean([self.weights, ...inputs.map((x) => x.weights)], [self.mass, ...inputs.map((x) => x.mass)]) }
    case 'median':
      return { merged: coordinateMedian([self.weights, ...inputs.map((x) => x.weights)]) }
    case 'trimmed-mean':
      return { merged: trimmedMean([self.weights, ...inputs.map((x) => x.weights)], params.trimBeta) }
    case 'clipped': {
      const radius = params.clipRadius === 'adaptive' ? { adaptive: params.clipFraction } : params.clipRadius
      const r = clippedGossip(self.weights, self.mass, inputs.map((x) => x.weights), inputs.map((x) => x.mass), radius)
      return r
    }
  }
}
