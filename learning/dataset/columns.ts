/**
 * Columns of a dataset file: the spec's columns resolved to file positions, and the row parser that checks
 * and converts one record's cells into growable raw columns (before any encoding).
 */
import type { ColumnSpec, DatasetSpec } from '../specs.js'
import { InvalidSpecError } from '../errors.js'
import { RowProblem } from '../records/index.js'
import { cutsInterval, valueMap } from './partition-key.js'

export interface Col {
  spec: ColumnSpec
  name: string
  /** Position in the file. */
  index: number
  /** Spec field path for error messages. */
  field: string
  /** Not in the file (allowed with `missing: { ... }`): every row is missing. */
  absent?: boolean
}

/** The `{ fill, indicator }` form of a numeric column's `missing` option, or null. */
export function missingFill (spec: ColumnSpec): { fill: number | 'mean', indicator: boolean } | null {
  if (spec.role !== 'numeric' && spec.role !== 'log-numeric') return null
  return typeof spec.missing === 'object' ? spec.missing : null
}

/**
 * A numeric column's transform of a raw value: scale, clip, then log(x + offset) for log-numeric. Throws
 * RowProblem for the log of a non-positive value.
 */
export function transformNumeric (spec: ColumnSpec & { role: 'numeric' | 'log-numeric' }, column: string, raw: number): number {
  let v = raw
  if (spec.scale != null) v *= spec.scale
  if (spec.clip != null) v = Math.min(spec.clip[1], Math.max(spec.clip[0], v))
  if (spec.role === 'log-numeric') {
    if (!(v + spec.offset > 0)) throw new RowProblem(column, `log of a non-positive value (${v + spec.offset})`)
    v = Math.log(v + spec.offset)
  }
  return v
}

function fnv1a (text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 0x01000193) }
  return h >>> 0
}

const TOKEN = /[\p{L}\p{N}']+/gu

/** Growable typed columns. */
export class F64 {
  data = new Float64Array(1024)
  length = 0
  push (v: number): void {
    if (this.length === this.data.length) { const n = new Float64Array(this.data.length * 2); n.set(this.data); this.data = n }
    this.data[this.length++] = v
  }
}
export class I32 {
  data = new Int32Array(1024)
  length = 0
  push (v: number): void {
    if (this.length === this.data.length) { const n = new Int32Array(this.data.length * 2); n.set(this.data); this.data = n }
    this.data[this.length++] = v
  }
}
export class Interner {
  readonly codes = new Map<string, number>()
  readonly values: string[] = []
  code (v: string): number {
    let c = this.codes.get(v)
    if (c === undefined) { c = this.values.length; this.codes.set(v, c); this.values.push(v) }
    return c
  }
}

/** Raw per-column values as parsed, before encoding. */
export interface RawCol {
  col: Col
  num?: F64
  codes?: I32
  interner?: Interner
  tokens?: Uint32Array[]
}

/** Internal accumulation of parsed rows. */
export class RawTable {
  rows = 0
  readonly cols: RawCol[]
  readonly label: RawCol
  readonly exposure: RawCol | null
  readonly weight: RawCol | null
  readonly partition: RawCol | null
  constructor (cols: Col[]) {
    this.cols = cols.filter((c) => c.spec.role !== 'ignore').map((col) => {
      const r: RawCol = { col }
      switch (col.spec.role) {
        case 'numeric': case 'log-numeric': case 'exposure': case 'weight': r.num = new F64(); break
        case 'categorical':
          if (col.spec.bins != null) r.num = new F64()
          else { r.codes = new I32(); r.interner = new Interner() }
          break
        case 'partition':
          if (cutsInterval(col.spec)) r.num = new F64()
          else { r.codes = new I32(); r.interner = new Interner() }
          break
        case 'text': r.tokens = []; break
        case 'label':
          if (col.spec.kind === 'count' || col.spec.kind === 'numeric') r.num = new F64()
          else { r.codes = new I32(); r.interner = new Interner() }
          break
        default: break
      }
      return r
    })
    this.label = this.cols.find((c) => c.col.spec.role === 'label')!
    this.exposure = this.cols.find((c) => c.col.spec.role === 'exposure') ?? null
    this.weight = this.cols.find((c) => c.col.spec.role === 'weight') ?? null
    this.partition = this.cols.find((c) => c.col.spec.role === 'partition') ?? null
  }
}

function parseNumber (cell: string | undefined, col: Col, what = 'a number'): number {
  const s = col.spec as { missing?: unknown }
  if (cell === undefined) throw new RowProblem(col.name, 'missing (row too short)')
  if (cell === '') {
    if (typeof s.missing === 'number') return s.missing
    throw new RowProblem(col.name, `empty cell where ${what} is expected`)
  }
  const v = Number(cell)
  if (!Number.isFinite(v)) throw new RowProblem(col.name, `'${cell.length > 40 ? cell.slice(0, 40) + '...' : cell}' is not ${what}`)
  return v
}

/**
 * Parses one record into the raw table, or throws RowProblem (the table is left unchanged). `classes`: the
 * label values allowed beyond the spec's own list (appended rows must fit the classes the dataset was built with).
 */
export function makeRowParser (table: RawTable, classes?: readonly string[] | null): (record: string[]) => void {
  const steps = table.cols.map((rc) => {
    const { col } = rc
    const spec = col.spec
    switch (spec.role) {
      case 'numeric':
      case 'log-numeric': {
        // with missing: { ... }, an empty cell (or an absent column) is NaN here; the encoding fills it
        const fill = missingFill(spec)
        if (fill != null && col.absent === true) return () => NaN
        return (rec: string[]) => {
          if (fill != null && rec[col.index] === '') return NaN
          return transformNumeric(spec, col.name, parseNumber(rec[col.index], col))
        }
      }
      case 'exposure':
        return (rec: string[]) => {
          let v = parseNumber(rec[col.index], col, 'an exposure')
          if (!(v > 0)) throw new RowProblem(col.name, `exposure must be positive, got ${v}`)
          if (spec.cap != null) v = Math.min(v, spec.cap)
          return v
        }
      case 'weight':
        return (rec: string[]) => {
          const v = parseNumber(rec[col.index], col, 'a weight')
          if (v < 0) throw new RowProblem(col.name, `weight must be >= 0, got ${v}`)
          return v
        }
      case 'categorical':
        if (spec.bins != null) return (rec: string[]) => parseNumber(rec[col.index], col)
        return (rec: string[]) => {
          const c = rec[col.index]
          if (c === undefined) throw new RowProblem(col.name, 'missing (row too short)')
          return c
        }
      case 'partition': {
        if (cutsInterval(spec)) return (rec: string[]) => parseNumber(rec[col.index], col)
        const map = valueMap(spec)
        return (rec: string[]) => {
          const c = rec[col.index]
          if (c === undefined) throw new RowProblem(col.name, 'missing (row too short)')
          return map != null ? map(c) : c
        }
      }
      case 'text': {
        const buckets = spec.buckets
        return (rec: string[]) => {
          const c = rec[col.index]
          if (c === undefined) throw new RowProblem(col.name, 'missing (row too short)')
          const text = spec.lowercase ? c.toLowerCase() : c
          const toks = text.match(TOKEN) ?? []
          const out = new Uint32Array(toks.length)
          for (let i = 0; i < toks.length; i++) out[i] = fnv1a(toks[i]) % buckets
          return out
        }
      }
      case 'label': {
        if (spec.kind === 'count') {
          return (rec: string[]) => {
            let v = parseNumber(rec[col.index], col, 'a count')
            if (v < 0 || !Number.isInteger(v)) throw new RowProblem(col.name, `count must be a non-negative integer, got ${v}`)
            if (spec.cap != null) v = Math.min(v, spec.cap)
            return v
          }
        }
        if (spec.kind === 'numeric') return (rec: string[]) => parseNumber(rec[col.index], col)
        const aliases = spec.aliases
        const allowed = spec.classes != null ? new Set(spec.classes) : classes != null ? new Set(classes) : null
        return (rec: string[]) => {
          let c = rec[col.index]
          if (c === undefined || c === '') throw new RowProblem(col.name, 'missing label')
          if (aliases != null && Object.hasOwn(aliases, c)) c = aliases[c]
          if (allowed != null && !allowed.has(c)) throw new RowProblem(col.name, `label '${c}' is not one of ${[...allowed].slice(0, 10).join(', ')}`)
          return c
        }
      }
      default:
        return () => 0
    }
  })
  const values: unknown[] = new Array(steps.length)
  return (record: string[]) => {
    for (let i = 0; i < steps.length; i++) values[i] = steps[i](record)
    // all cells valid: commit
    for (let i = 0; i < steps.length; i++) {
      const rc = table.cols[i]
      const v = values[i]
      if (rc.num != null) rc.num.push(v as number)
      else if (rc.codes != null) rc.codes.push(rc.interner!.code(v as string))
      else if (rc.tokens != null) rc.tokens.push(v as Uint32Array)
    }
    table.rows++
  }
}

/** Resolves spec columns to file positions, given the header (or null). */
export function resolveColumns (spec: DatasetSpec, header: string[] | null, file: string): Col[] {
  const out: Col[] = []
  let position = 0
  spec.columns.forEach((c, i) => {
    const field = `dataset.columns.${i}`
    if (c.range != null) {
      for (let k = c.range[0]; k <= c.range[1]; k++) {
        const name = header?.[k] ?? `${c.name ?? 'c'}${k}`
        out.push({ spec: c, name, index: k, field })
      }
      position = c.range[1] + 1
      return
    }
    let index: number
    if (c.index != null) index = c.index
    else if (header != null && c.name != null) {
      index = header.indexOf(c.name)
      if (index < 0 && missingFill(c) != null) {
        out.push({ spec: c, name: c.name, index: -1, field, absent: true })
        return
      }
      if (index < 0) throw new InvalidSpecError(`invalid dataset spec: ${field}.name: column '${c.name}' is not in the header of ${file} (${header.slice(0, 20).join(', ')})`, `${field}.name`)
    } else index = position
    position = index + 1
    out.push({ spec: c, name: c.name ?? header?.[index] ?? `c${index}`, index, field })
  })
  return out
}