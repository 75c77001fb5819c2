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
import { assertSameLength, distance, LengthMismatchError, normaliseWeights, type Vector } from './vector.js'

function insertionSort (a: Float64Array, lo: number, hi: number): void {
  for (let i = lo + 1; i < hi; i++) {
    const v = a[i]; let j = i - 1
    while (j >= lo && a[j] > v) { a[j + 1] = a[j]; j-- }
    a[j + 1] = v
  }
}

/**
 * Rearranges a[lo..hi) so that a[k] is the value a sorted range would have there, everything before it is <= and
 * everything after it >= (Hoare's selection with median-of-three pivots; insertion sort for short ranges).
 */
function select (a: Float64Array, lo: number, hi: number, k: number): void {
  let l = lo; let r = hi - 1
  while (r - l > 8) {
    const mid = (l + r) >> 1
    // median of three into a[mid]
    if (a[mid] < a[l]) { const t = a[mid]; a[mid] = a[l]; a[l] = t }
    if (a[r] < a[l]) { const t = a[r]; a[r] = a[l]; a[l] = t }
    if (a[r] < a[mid]) { const t = a[r]; a[r] = a[mid]; a[mid] = t }
    const pivot = a[mid]
    let i = l; let j = r
    while (i <= j) {
      while (a[i] < pivot) i++
      while (a[j] > pivot) j--
      if (i <= j) { const t = a[i]; a[i] = a[j]; a[j] = t; i++; j-- }
    }
    if (k <= j) r = j
    else if (k >= i) l = i
    else return
  }
  insertionSort(a, l, r + 1)
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
    select(col, 0, m, lo)
    let upper = col[lo]
    if (hi !== lo) {
      upper = col[hi]
      for (let k = hi + 1; k < m; k++) if (col[k] < upper) upper = col[k]
    }
    target[i] = (col[lo] + upper) / 2
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
  if (b > 0 && b <= 8) {
    // Few values trimmed: pass 1 finds the b-th smallest (lo) and b-th largest (hi) value; pass 2 sums what lies
    // strictly between plus the tied copies of lo and hi that survive the trim. No subtraction of trimmed values,
    // so huge outliers cannot cancel the honest digits away.
    const low = new Float64Array(b); const high = new Float64Array(b)
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < b; k++) { low[k] = Infinity; high[k] = -Infinity }
      for (let k = 0; k < m; k++) {
        const v = inputs[k][i]
        if (v < low[b - 1]) {
          let j = b - 1
          while (j > 0 && low[j - 1] > v) { low[j] = low[j - 1]; j-- }
          low[j] = v
        }
        if (v > high[b - 1]) {
          let j = b - 1
          while (j > 0 && high[j - 1] < v) { high[j] = high[j - 1]; j-- }
          high[j] = v
        }
      }
      const lo = low[b - 1]; const hi = high[b - 1]
      if (lo === hi) { target[i] = lo; continue }
      let s = 0; let less = 0; let more = 0; let atLo = 0; let atHi = 0
      for (let k = 0; k < m; k++) {
        const v = inputs[k][i]
        if (v < lo) less++
        else if (v > hi) more++
        else if (v === lo) atLo++
        else if (v === hi) atHi++
        else s += v
      }
      s += (atLo - (b - less)) * lo + (atHi - (b - more)) * hi
      target[i] = s / keep
    }
    return target
  }
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < m; k++) col[k] = inputs[k][i]
    if (b > 0) {
      select(col, 0, m, b) // col[0..b) are the b smallest
      select(col, b, m, m - b - 1) // col[m-b..m) are the b largest
    }
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
  const dist = neighbours.map((x) => distance(x, self))
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
  if (target.length !== n) throw new LengthMismatchError(`clippedGossip: out has length ${target.length}, expected ${n}`)
  target.set(acc)
  return { merged: target, radius: tau, clipped }
}
