/**
 * GLM rows from a loaded dataset: the encoded features as they are, the offset as log(exposure) computed in
 * float64 (the dataset keeps a float32 copy), the prior weights; and a dataset's rows split by its partition
 * column, one set per peer (e.g. freMTPL2freq by Region).
 */
import type { GlmRows } from './stats.js'
import { GlmFitError } from './errors.js'

/** What the row helpers read from a dataset (a `Dataset` satisfies it). */
export interface EncodedRows {
  x: ArrayLike<number>
  y: ArrayLike<number>
  numFeatures: number
  exposure: ArrayLike<number> | null
  weight: ArrayLike<number> | null
  partitionCodes?: ArrayLike<number> | null
  partitionValues?: readonly string[] | null
}

/** The rows `rows` (default all) of a dataset, with offset log(exposure) when it has an exposure column. */
export function glmRows (data: EncodedRows, rows?: ArrayLike<number> | null): GlmRows {
  const exposure = data.exposure
  let offset: Float64Array | null = null
  if (exposure != null) {
    offset = new Float64Array(exposure.length)
    for (let i = 0; i < exposure.length; i++) offset[i] = Math.log(exposure[i])
  }
  return { x: data.x, numFeatures: data.numFeatures, y: data.y, offset, weight: data.weight, rows: rows ?? null }
}

/** One GlmRows per partition value present among `rows`, in the order of the dataset's partition values. */
export function glmRowsByPartition (data: EncodedRows, rows: ArrayLike<number>): Array<{ key: string, rows: GlmRows }> {
  const codes = data.partitionCodes
  const values = data.partitionValues
  if (codes == null || values == null) throw new GlmFitError('the dataset has no partition column to split its rows by')
  const groups: number[][] = values.map(() => [])
  for (let i = 0; i < rows.length; i++) groups[codes[rows[i]]].push(rows[i])
  const base = glmRows(data)
  return groups.flatMap((g, k) => g.length > 0 ? [{ key: values[k], rows: { ...base, rows: Uint32Array.from(g) } }] : [])
}
