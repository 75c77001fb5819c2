/**
 * Gossip averaging rules and robust merges: pure functions on Float32Array / Float64Array (no TF.js).
 *
 * @example
 * ```ts
 * import { combine, pairwiseMean, PushSumNode } from './protocol/averaging/index.js'
 * import { parseAveragingParams } from './protocol/engine/rules/index.js'
 *
 * const params = parseAveragingParams({ rule: 'epidemic', fanout: 3, merge: 'clipped' })
 * const { merged } = combine({ weights: mine, mass: 120 }, received.map((r) => ({ weights: r.w, mass: r.n })), params)
 *
 * pairwiseMean(a, 100, b, 300)           // both peers end with (100 a + 300 b) / 400
 * const node = new PushSumNode(x0, 1)    // push-sum: split(fanout) -> shares; absorb(share)
 * ```
 */
export * from './vector.js'
export * from './pairwise.js'
export * from './push-sum.js'
export * from './robust.js'
export * from './graph-weights.js'
export * from './params.js'
export * from './combine.js'
export * from './bound.js'
