/**
 * Mixing weights for synchronous gossip over a fixed graph.
 *
 * Metropolis-Hastings (used by D-PSGD, Lian et al. 2017): W_ij = 1 / (1 + max(d_i, d_j)) for each neighbour j,
 * W_ii = 1 - sum_j W_ij. On an undirected graph W is symmetric and doubly stochastic, so the plain average
 * of all models is preserved by every round and all peers converge to it at a rate set by the spectral gap.
 */

/** The weight peer i gives neighbour j, knowing both degrees. */
export function metropolisHastingsWeight (degreeI: number, degreeJ: number): number {
  if (!(Number.isInteger(degreeI) && degreeI >= 0 && Number.isInteger(degreeJ) && degreeJ >= 0)) {
    throw new RangeError(`Metropolis-Hastings: degrees must be integers >= 0, got ${degreeI} and ${degreeJ}`)
  }
  return 1 / (1 + Math.max(degreeI, degreeJ))
}

/** Row i of the Metropolis-Hastings matrix: weights for each neighbour and the self weight. */
export function metropolisHastingsRow (degreeSelf: number, neighbourDegrees: readonly number[]): { self: number, neighbours: number[] } {
  const neighbours = neighbourDegrees.map((d) => metropolisHastingsWeight(degreeSelf, d))
  let s = 0
  for (const w of neighbours) s += w
  return { self: 1 - s, neighbours }
}

/**
 * Staleness discount for a late asynchronous update: 0.5 ^ (lag / halfLife) for a positive lag in rounds,
 * 1 when the half-life is 0 or infinite (no discount) or the update is not late.
 */
export function stalenessDiscount (lagRounds: number, halfLifeRounds: number): number {
  if (!(halfLifeRounds > 0) || !Number.isFinite(halfLifeRounds) || !(lagRounds > 0)) return 1
  return Math.pow(0.5, lagRounds / halfLifeRounds)
}
