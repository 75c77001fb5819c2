/**
 * Robust merges: usable wherever several received models are combined (epidemic, dpsgd).
 *
 * - `coordinateMedian`: per coordinate, the median of the inputs. With f < m/2 arbitrary inputs every output
 *   coordinate lies within the range of the honest inputs (Yin et al. 2018).
 * - `trimmedMean`: per coordinate, drop the floor(beta*m) smallest and largest values, average the rest. With
 *   f <= floor(beta*m) arbitrary inputs every output coordinate lies within the honest range (Yin et al. 2018).
 * - `clippedGossip`: self-centred clipping (He, Karimireddy and Jaggi 2022, ClippedGossip):
 *   x_i + sum_j a_j CLIP(x_j - x_i, tau), CLIP(v, tau) = v * min(1, tau / |v|). Each input moves the result by
 *   at most a_j * tau, so f adversaries with total weight delta move it by at most delta * tau.
 *   `adaptiveClipRadius` picks tau so that the neighbours clipped carry at most a fraction `delta` of the
 *   neighbour weight (the paper's practical rule): with adversaries' weight <= delta and adversaries farther
 *   than every honest neighbour, tau is the largest honest distance.
 */
import { assertSameLength, LengthMismatchError, normaliseWeights, type Vector } from './vector.js'

function insertionSort (a: Float64Array, m: number): void {
  for (let i = 1; i < m; i++) {
    const v = a[i]; let j = i - 1
    while (j >= 0 && a[j] > v) { a[j + 1] = a[j]; j-- }
    a[j + 1] = v
  }
}

/** Coordinate-wise median (mean of the two middle values for an even count). */
export function coordinateMedian<T extends Vector = Float32Array> (inputs: readonly Vector[], out?: T): T {
  const n = assertSameLength(inputs, 'median')
  const m = inputs.length
  const target = (out ?? new Float32Array(n)) as T
  if (target.length !== n) throw new LengthMismatchError(`median: out has length ${target.length}, expected ${n}`)
  const col = new Float64Array(m)
  const lo = (m - 1) >> 1; const hi = m >> 1
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < m; k++) col[k] = inputs[k][i]
    if (m <= 64) insertionSort(col, m)
    else col.sort()
    target[i] = (col[lo] + col[hi]) / 2
  }
  return target
}

/** Coordinate-wise trimmed mean: drops floor(beta * m) values at each end (0 <= beta < 0.5). */
export function trimmedMean<T extends Vector = Float32Array> (inputs: readonly Vector[], beta: number, out?: T): T {
  const n = assertSameLength(inputs, 'trimmedMean')
  if (!(beta >= 0 && beta < 0.5)) throw new RangeError(`trimmedMean: beta must be in [0, 0.5), got ${beta}`)
  const m = inputs.length
  const b = Math.floor(beta * m)
  const target = (out ?? new Float32Array(n)) as T
  if (target.length !== n) throw new LengthMismatchError(`trimmedMean: out has length ${target.length}, expected ${n}`)
  const col = new Float64Array(m)
  const keep = m - 2 * b
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < m; k++) col[k] = inputs[k][i]
    if (m <= 64) insertionSort(col, m)
    else col.sort()
    let s = 0
    for (let k = b; k < m - b; k++) s += col[k]
    target[i] = s / keep
  }
  return target
}

/**
 * The adaptive radius: sorts neighbours by distance and clips the farthest ones while their cumulative weight
 * stays within `delta` of the total neighbour weight; the radius is the distance of the farthest neighbour left
 * unclipped (or the largest distance when none can be clipped). Returns 0 when there are no neighbours.
 */
export function adaptiveClipRadius (distances: readonly number[], weights: readonly number[], delta: number): number {
  if (distances.length !== weights.length) throw new LengthMismatchError(`clip radius: ${distances.length} distances, ${weights.length} weights`)
  if (!(delta >= 0 && delta < 1)) throw new RangeError(`clip radius: delta must be in [0, 1), got ${delta}`)
  const m = distances.length
  if (m === 0) return 0
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => distances[b] - distances[a])
  let total = 0
  for (const w of weights) total += w
  let clipped = 0
  let k = 0
  while (k < m && clipped + weights[order[k]] <= delta * total + 1e-12) { clipped += weights[order[k]]; k++ }
  if (k >= m) return 0 // every neighbour may be adversarial: do not move
  return distances[order[k]]
}

export interface ClippedGossipResult<T> { merged: T, radius: number, clipped: number }

/**
 * Self-centred clipping: `self + sum_j a_j * CLIP(x_j - self, radius)` where `a_j = weights[j] / (selfWeight +
 * sum weights)`. `radius` is a number or `{ adaptive: delta }`.
 */
export function clippedGossip<T extends Vector = Float32Array> (
  self: Vector, selfWeight: number, neighbours: readonly Vector[], weights: readonly number[],
  radius: number | { adaptive: number }, out?: T
): ClippedGossipResult<T> {
  const n = self.length
  if (neighbours.length !== weights.length) throw new LengthMismatchError(`clippedGossip: ${neighbours.length} inputs, ${weights.length} weights`)
  for (let j = 0; j < neighbours.length; j++) {
    if (neighbours[j].length !== n) throw new LengthMismatchError(`clippedGossip: input ${j} has length ${neighbours[j].length}, expected ${n}`)
  }
  const a = normaliseWeights([selfWeight, ...weights]).slice(1)
  const dist = neighbours.map((x) => {
    let s = 0
    for (let i = 0; i < n; i++) { const d = x[i] - self[i]; s += d * d }
    return Math.sqrt(s)
  })
  const tau = typeof radius === 'number' ? radius : adaptiveClipRadius(dist, weights, radius.adaptive)
  if (!(tau >= 0)) throw new RangeError(`clippedGossip: radius must be >= 0, got ${tau}`)
  const acc = new Float64Array(n)
  for (let i = 0; i < n; i++) acc[i] = self[i]
  let clipped = 0
  for (let j = 0; j < neighbours.length; j++) {
    if (dist[j] === 0 || a[j] === 0) continue
    const scale = dist[j] > tau ? tau / dist[j] : 1
    if (scale < 1) clipped++
    const c = a[j] * scale
    if (c === 0) continue
    const x = neighbours[j]
    for (let i = 0; i < n; i++) acc[i] += c * (x[i] - self[i])
  }
  const target = (out ?? new Float32Array(n)) as T
  target.set(acc)
  return { merged: target, radius: tau, clipped }
}
