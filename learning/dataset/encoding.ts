/**
 * Encoding of raw columns into features: standardized scalars, one-hot categories with an `other` bucket,
 * bins, hashed bags of words; labels as class indices or values. `Encoding` records the statistics and
 * categories used, so that other peers can encode their rows the same way.
 */
import type { ColumnSpec } from '../specs.js'
import { BadRowError, InvalidSpecError } from '../errors.js'
import type { Task } from '../metrics.js'
import { missingFill, transformNumeric, type RawCol, type RawTable } from './columns.js'
import { RowProblem } from '../records/index.js'

/** Per-column encoding parameters actually used (spec values, or learned from the loaded training rows). */
export interface Encoding {
  columns: Record<string, { mean?: number, std?: number, categories?: string[], fill?: number }>
  classes?: string[]
  /** The cut points of a partition key cut into intervals (bins, or the quantiles found in the training rows). */
  partition?: { cuts: number[] }
}

/** Feature layout: one block per non-label column. */
export interface Block {
  raw: RawCol
  kind: 'scalar' | 'onehot' | 'bins' | 'text'
  width: number
  mean: number
  std: number
  categories?: string[]
  categoryIndex?: Map<string, number>
  /** Scalars with `missing: { ... }`: the value (before standardizing) of a missing cell, and its 0/1 feature. */
  fill?: number
  indicator?: boolean
}

export interface EncodingPlan { blocks: Block[], featureNames: string[], encoding: Encoding, classes: string[] | null, task: Task }

/**
 * The feature layout of a raw table: per column its block, statistics and categories (from the spec, else
 * `given`, else the training rows only), the feature names, the classes and the task.
 */
export function planEncoding (table: RawTable, trainRows: Uint32Array, given?: Encoding): EncodingPlan {
  const encoding: Encoding = { columns: {} }
  const blocks: Block[] = []
  const featureNames: string[] = []
  for (const rc of table.cols) {
    const s = rc.col.spec
    const name = rc.col.name
    const prior = given?.columns[name]
    if (s.role === 'numeric' || s.role === 'log-numeric') {
      const missing = missingFill(s)
      let mean = s.mean ?? prior?.mean
      let std = s.std ?? prior?.std
      // statistics of the rows that have a value (missing cells are NaN until filled)
      const observed = (): { m: number, v: number } => {
        let sum = 0; let sq = 0; let k = 0
        const data = rc.num!.data
        for (const r of trainRows) { const x = data[r]; if (x === x) { sum += x; sq += x * x; k++ } }
        const m = k > 0 ? sum / k : 0
        return { m, v: k > 0 ? sq / k - m * m : 1 }
      }
      let fill: number | undefined
      if (missing != null) {
        fill = prior?.fill ?? (missing.fill === 'mean' ? (s.mean ?? mean ?? observed().m) : fillValue(s, name, missing.fill, rc.col.field))
      }
      if (!s.standardize) { mean = 0; std = 1 } else if (mean == null || std == null) {
        const { m, v } = observed()
        mean ??= m
        std ??= v > 1e-12 ? Math.sqrt(v) : 1
      }
      encoding.columns[name] = fill != null ? { mean, std, fill } : { mean, std }
      const indicator = missing?.indicator === true
      blocks.push({ raw: rc, kind: 'scalar', width: indicator ? 2 : 1, mean, std, ...(fill != null ? { fill, indicator } : {}) })
      featureNames.push(s.role === 'log-numeric' ? `log(${name})` : name)
      if (indicator) featureNames.push(`missing(${name})`)
    } else if (s.role === 'categorical') {
      if (s.bins != null) {
        blocks.push({ raw: rc, kind: 'bins', width: s.bins.length + 1, mean: 0, std: 1 })
        featureNames.push(...[...s.bins, Infinity].map((b) => `${name}<=${b}`))
        continue
      }
      let categories = s.categories ?? prior?.categories
      if (categories == null) {
        const count = new Map<number, number>()
        const codes = rc.codes!.data
        for (const r of trainRows) count.set(codes[r], (count.get(codes[r]) ?? 0) + 1)
        categories = [...count.keys()].map((c) => rc.interner!.values[c]).sort()
      }
      encoding.columns[name] = { categories }
      blocks.push({ raw: rc, kind: 'onehot', width: categories.length + 1, mean: 0, std: 1, categories, categoryIndex: new Map(categories.map((c, i) => [c, i])) })
      featureNames.push(...categories.map((c) => `${name}=${c}`), `${name}=other`)
    } else if (s.role === 'text') {
      blocks.push({ raw: rc, kind: 'text', width: s.buckets, mean: 0, std: 1 })
      for (let i = 0; i < s.buckets; i++) featureNames.push(`${name}#${i}`)
    }
  }
  const labelSpec = table.label.col.spec as ColumnSpec & { role: 'label' }
  let classes: string[] | null = null
  if (labelSpec.kind === 'classes' || labelSpec.kind === 'binary') {
    classes = labelSpec.classes ?? given?.classes ?? [...new Set(table.label.interner!.values)].sort()
    if (labelSpec.kind === 'binary' && classes.length !== 2) {
      throw new InvalidSpecError(`invalid dataset spec: ${table.label.col.field}.classes: a binary label needs 2 classes, the data has ${classes.length} (${classes.slice(0, 5).join(', ')})`, `${table.label.col.field}.classes`)
    }
    encoding.classes = classes
  }
  const task = taskOf(labelSpec, classes?.length ?? 1)
  if (featureNames.length === 0) throw new InvalidSpecError('invalid dataset spec: dataset.columns: no feature columns (numeric, log-numeric, categorical or text)', 'dataset.columns')
  return { blocks, featureNames, encoding, classes, task }
}

/** A raw fill value through the column's transform (scale, clip, log); a log of a non-positive fill is refused. */
function fillValue (spec: ColumnSpec & { role: 'numeric' | 'log-numeric' }, name: string, raw: number, field: string): number {
  try {
    return transformNumeric(spec, name, raw)
  } catch (err) {
    if (!(err instanceof RowProblem)) throw err
    throw new InvalidSpecError(`invalid dataset spec: ${field}.missing.fill: ${err.problem}`, `${field}.missing.fill`)
  }
}

export function taskOf (label: ColumnSpec & { role: 'label' }, numClasses: number): Task {
  if (label.kind === 'count') return 'count'
  if (label.kind === 'numeric') return 'regression'
  if (label.kind === 'binary') return 'binary'
  return numClasses === 2 && label.classes == null ? 'binary' : 'multiclass'
}

/** Encodes the table's rows into x and y from row `start` on (x has `d` features per row). */
export function encodeInto (table: RawTable, blocks: Block[], classes: string[] | null, x: Float32Array, y: Float32Array, start: number, d: number): void {
  const n = table.rows
  let off = 0
  for (const b of blocks) {
    const col = table.cols.find((c) => c.col === b.raw.col)!
    if (b.kind === 'scalar') {
      const data = col.num!.data
      const inv = 1 / b.std
      if (b.fill == null) {
        for (let i = 0; i < n; i++) x[(start + i) * d + off] = (data[i] - b.mean) * inv
      } else {
        // a missing cell (NaN) gets the fill value, and a 1 in the indicator feature after it
        const filled = (b.fill - b.mean) * inv
        for (let i = 0; i < n; i++) {
          const v = data[i]
          const base = (start + i) * d + off
          if (v === v) x[base] = (v - b.mean) * inv
          else { x[base] = filled; if (b.indicator === true) x[base + 1] = 1 }
        }
      }
    } else if (b.kind === 'bins') {
      const bins = (b.raw.col.spec as { bins: number[] }).bins
      const data = col.num!.data
      for (let i = 0; i < n; i++) {
        let k = 0
        while (k < bins.length && data[i] > bins[k]) k++
        x[(start + i) * d + off + k] = 1
      }
    } else if (b.kind === 'onehot') {
      const other = b.width - 1
      const map = col.interner!.values.map((v) => b.categoryIndex!.get(v) ?? other)
      const codes = col.codes!.data
      for (let i = 0; i < n; i++) x[(start + i) * d + off + map[codes[i]]] = 1
    } else {
      const weighting = (b.raw.col.spec as { weighting: string }).weighting
      for (let i = 0; i < n; i++) {
        const base = (start + i) * d + off
        const toks = col.tokens![i]
        if (weighting === 'binary') {
          for (const t of toks) x[base + t] = 1
        } else {
          for (const t of toks) x[base + t] += 1
          for (const t of new Set(toks)) x[base + t] = Math.log1p(x[base + t])
        }
      }
    }
    off += b.width
  }
  const lab = table.label
  if (lab.num != null) {
    for (let i = 0; i < n; i++) y[start + i] = lab.num.data[i]
  } else {
    const idx = new Map(classes!.map((c, i) => [c, i]))
    const map = lab.interner!.values.map((v) => idx.get(v) ?? -1)
    for (let i = 0; i < n; i++) {
      const c = map[lab.codes!.data[i]]
      if (c < 0) throw new BadRowError('appended', i + 1, lab.col.name, `label '${lab.interner!.values[lab.codes!.data[i]]}' is not one of ${classes!.join(', ')}`)
      y[start + i] = c
    }
  }
}