/**
 * Datasets: a CSV/TSV file (gzip or not) read as a stream with csv-parse, each column given a role by a
 * validated spec, encoded into one row-major Float32Array of features plus labels, exposure, weight and a
 * partition key. A global held-out test split (a separate test file, or a seeded fraction) is kept apart.
 *
 * Standardization statistics and category lists come from the spec when given; otherwise from the rows this
 * process loads (the training rows only). `dataset.encoding` records them so that other peers can reuse them.
 */
import { createReadStream, existsSync, statSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { createGunzip } from 'node:zlib'
import { isAbsolute, resolve, basename, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'csv-parse'
import type { Readable } from 'node:stream'
import { createRng } from '../protocol/rng.js'
import { parseDatasetSpec, type ColumnSpec, type DatasetSpec, type DatasetSpecInput } from './specs.js'
import { BadRowError, DatasetNotFoundError, InvalidSpecError } from './errors.js'
import type { TensorData } from './model.js'
import type { Task } from './metrics.js'
import { DelimitedReader, type DelimitedRecord } from './delimited.js'
import { DATA_DIR_ENV } from './constants.js'

export interface LoadOptions {
  /** Directory that relative file names are resolved against (default: MURMUR_DATA_DIR, else ../shared/datasets). */
  dataDir?: string
  signal?: AbortSignal
  /** Statistics and categories to encode with (e.g. from a network manifest), overriding what the spec lacks. */
  encoding?: Encoding
  /** Read at most this many data rows from the main file (quick runs); overrides spec.maxRows. */
  maxRows?: number
}

/** Per-column encoding parameters actually used (spec values, or learned from the loaded training rows). */
export interface Encoding {
  columns: Record<string, { mean?: number, std?: number, categories?: string[] }>
  classes?: string[]
}

export interface BadRowReport { count: number, examples: string[] }

interface Col {
  spec: ColumnSpec
  name: string
  /** Position in the file. */
  index: number
  /** Spec field path for error messages. */
  field: string
}

const HERE = dirname(fileURLToPath(import.meta.url))
// the package root: one folder above learning/, two above the compiled build's dist/learning/
const REPO_ROOT = basename(dirname(HERE)) === 'dist' ? resolve(HERE, '..', '..') : resolve(HERE, '..')

/** The data directory: explicit option, else MURMUR_DATA_DIR, else ../shared/datasets beside the repository. */
export function defaultDataDir (explicit?: string): string {
  if (explicit != null && explicit !== '') return resolve(explicit)
  const env = process.env[DATA_DIR_ENV]
  if (env != null && env !== '') return resolve(env)
  return resolve(REPO_ROOT, '..', 'shared', 'datasets')
}

function resolveFile (file: string, dataDir: string): string {
  const path = isAbsolute(file) ? file : resolve(dataDir, file)
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new DatasetNotFoundError(`data file not found: ${path} (set --data-dir or ${DATA_DIR_ENV})`)
  }
  return path
}

function fnv1a (text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 0x01000193) }
  return h >>> 0
}

const TOKEN = /[\p{L}\p{N}']+/gu

/** Growable typed columns. */
class F64 {
  data = new Float64Array(1024)
  length = 0
  push (v: number): void {
    if (this.length === this.data.length) { const n = new Float64Array(this.data.length * 2); n.set(this.data); this.data = n }
    this.data[this.length++] = v
  }
}
class I32 {
  data = new Int32Array(1024)
  length = 0
  push (v: number): void {
    if (this.length === this.data.length) { const n = new Int32Array(this.data.length * 2); n.set(this.data); this.data = n }
    this.data[this.length++] = v
  }
}
class Interner {
  readonly codes = new Map<string, number>()
  readonly values: string[] = []
  code (v: string): number {
    let c = this.codes.get(v)
    if (c === undefined) { c = this.values.length; this.codes.set(v, c); this.values.push(v) }
    return c
  }
}

/** Raw per-column values as parsed, before encoding. */
interface RawCol {
  col: Col
  num?: F64
  codes?: I32
  interner?: Interner
  tokens?: Uint32Array[]
}

/** Internal accumulation of parsed rows. */
class RawTable {
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
        case 'partition': r.codes = new I32(); r.interner = new Interner(); break
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

/** Thrown inside row parsing; turned into BadRowError with the file and line. */
class CellProblem {
  constructor (readonly column: string, readonly problem: string) {}
}

function parseNumber (cell: string | undefined, col: Col, what = 'a number'): number {
  const s = col.spec as { missing?: number }
  if (cell === undefined) throw new CellProblem(col.name, 'missing (row too short)')
  if (cell === '') {
    if (s.missing !== undefined) return s.missing
    throw new CellProblem(col.name, `empty cell where ${what} is expected`)
  }
  const v = Number(cell)
  if (!Number.isFinite(v)) throw new CellProblem(col.name, `'${cell.length > 40 ? cell.slice(0, 40) + '...' : cell}' is not ${what}`)
  return v
}

/** Parses one record into the raw table, or throws CellProblem (the table is left unchanged). */
function makeRowParser (table: RawTable): (record: string[]) => void {
  const steps = table.cols.map((rc) => {
    const { col } = rc
    const spec = col.spec
    switch (spec.role) {
      case 'numeric':
      case 'log-numeric': {
        const offset = spec.role === 'log-numeric' ? spec.offset : 0
        return (rec: string[]) => {
          let v = parseNumber(rec[col.index], col)
          if (spec.scale != null) v *= spec.scale
          if (spec.clip != null) v = Math.min(spec.clip[1], Math.max(spec.clip[0], v))
          if (spec.role === 'log-numeric') {
            if (!(v + offset > 0)) throw new CellProblem(col.name, `log of a non-positive value (${v + offset})`)
            v = Math.log(v + offset)
          }
          return v
        }
      }
      case 'exposure':
        return (rec: string[]) => {
          let v = parseNumber(rec[col.index], col, 'an exposure')
          if (!(v > 0)) throw new CellProblem(col.name, `exposure must be positive, got ${v}`)
          if (spec.cap != null) v = Math.min(v, spec.cap)
          return v
        }
      case 'weight':
        return (rec: string[]) => {
          const v = parseNumber(rec[col.index], col, 'a weight')
          if (v < 0) throw new CellProblem(col.name, `weight must be >= 0, got ${v}`)
          return v
        }
      case 'categorical':
        if (spec.bins != null) return (rec: string[]) => parseNumber(rec[col.index], col)
        return (rec: string[]) => {
          const c = rec[col.index]
          if (c === undefined) throw new CellProblem(col.name, 'missing (row too short)')
          return c
        }
      case 'partition':
        return (rec: string[]) => {
          const c = rec[col.index]
          if (c === undefined) throw new CellProblem(col.name, 'missing (row too short)')
          return c
        }
      case 'text': {
        const buckets = spec.buckets
        return (rec: string[]) => {
          const c = rec[col.index]
          if (c === undefined) throw new CellProblem(col.name, 'missing (row too short)')
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
            if (v < 0 || !Number.isInteger(v)) throw new CellProblem(col.name, `count must be a non-negative integer, got ${v}`)
            if (spec.cap != null) v = Math.min(v, spec.cap)
            return v
          }
        }
        if (spec.kind === 'numeric') return (rec: string[]) => parseNumber(rec[col.index], col)
        const aliases = spec.aliases
        const allowed = spec.classes != null ? new Set(spec.classes) : null
        return (rec: string[]) => {
          let c = rec[col.index]
          if (c === undefined || c === '') throw new CellProblem(col.name, 'missing label')
          if (aliases != null && Object.hasOwn(aliases, c)) c = aliases[c]
          if (allowed != null && !allowed.has(c)) throw new CellProblem(col.name, `label '${c}' is not one of ${[...allowed].slice(0, 10).join(', ')}`)
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
function resolveColumns (spec: DatasetSpec, header: string[] | null, file: string): Col[] {
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
      if (index < 0) throw new InvalidSpecError(`invalid dataset spec: ${field}.name: column '${c.name}' is not in the header of ${file} (${header.slice(0, 20).join(', ')})`, `${field}.name`)
    } else index = position
    position = index + 1
    out.push({ spec: c, name: c.name ?? header?.[index] ?? `c${index}`, index, field })
  })
  return out
}

interface ParsedFile { header: string[] | null, bytes: number }

/** Streams one file into the table. Returns the header (if any). */
async function readFileInto (path: string, format: DatasetSpec['format'], spec: DatasetSpec, tableRef: { table: RawTable | null, cols: Col[] | null },
  options: { signal?: AbortSignal, maxRows?: number, bad: BadRowReport }): Promise<ParsedFile> {
  const gz = format.gzip === 'auto' ? path.endsWith('.gz') : format.gzip
  const raw = createReadStream(path, { highWaterMark: 1 << 20 })
  let stream: Readable = raw
  if (gz) stream = raw.pipe(createGunzip({ chunkSize: 1 << 20 }))
  const file = basename(path)
  let bytes = 0
  raw.on('data', (chunk: string | Buffer) => { bytes += chunk.length })
  const records = recordsOf(stream, format)
  let header: string[] | null = null
  let parseRow: ((r: string[]) => void) | null = tableRef.table != null ? makeRowParser(tableRef.table) : null
  let lineOfLast = 0
  let rows = 0
  try {
    for await (const batch of records) {
     for (const item of batch) {
      const record = item.fields
      const info = { lines: item.line }
      if (info.lines <= format.skipLines) continue
      lineOfLast = info.lines
      if (parseRow == null) {
        if (format.header) {
          if (record.length > 0 && record[0].charCodeAt(0) === 0xfeff) record[0] = record[0].slice(1) // UTF-8 BOM
          header = record
          tableRef.cols = resolveColumns(spec, header, file)
          tableRef.table = new RawTable(tableRef.cols)
          parseRow = makeRowParser(tableRef.table)
          continue
        }
        tableRef.cols = resolveColumns(spec, null, file)
        tableRef.table = new RawTable(tableRef.cols)
        parseRow = makeRowParser(tableRef.table)
      } else if (format.header && header == null && rows === 0 && tableRef.table != null && lineOfLast <= format.skipLines + 1) {
        // header of a second file (test file): skip it
        header = record
        continue
      }
      if ((options.signal?.aborted) === true) throw options.signal!.reason ?? new Error('aborted')
      try {
        parseRow(record)
        rows++
      } catch (err) {
        if (!(err instanceof CellProblem)) throw err
        if (spec.onBadRow === 'skip') {
          options.bad.count++
          if (options.bad.examples.length < 10) options.bad.examples.push(`${file}: line ${info.lines}, column ${err.column}: ${err.problem}`)
        } else {
          throw new BadRowError(file, info.lines, err.column, err.problem)
        }
      }
      if (options.maxRows != null && rows >= options.maxRows) break
     }
      if (options.maxRows != null && rows >= options.maxRows) break
    }
  } catch (err) {
    const e = err as Error & { code?: string, lines?: number }
    if (e.name === 'BadRowError' || e.name === 'InvalidSpecError' || e.name === 'AbortError') throw err
    if (e.name === 'DelimitedSyntaxError') throw new BadRowError(file, e.lines ?? (err as { line: number }).line, '?', e.message)
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      throw new BadRowError(file, e.lines ?? lineOfLast + 1, '?', e.message)
    }
    if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR') throw new BadRowError(file, lineOfLast + 1, '?', `gzip data is corrupt (${e.message})`)
    throw err
  } finally {
    stream.destroy()
    raw.destroy()
  }
  return { header, bytes }
}

/**
 * Records of a delimited text stream, in batches. Single-character delimiters use the fast reader
 * (./delimited.ts); others use csv-parse.
 */
async function * recordsOf (stream: Readable, format: DatasetSpec['format']): AsyncGenerator<DelimitedRecord[]> {
  if (format.delimiter.length === 1) {
    const reader = new DelimitedReader({ delimiter: format.delimiter, quote: format.quote === false ? null : format.quote, trim: format.trim })
    stream.setEncoding('utf8')
    for await (const chunk of stream) yield reader.push(chunk as string)
    yield reader.end()
    return
  }
  const parser = parse({
    delimiter: format.delimiter,
    quote: format.quote === false ? null : format.quote,
    trim: format.trim,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    info: true
  })
  stream.on('error', (err) => parser.destroy(err))
  stream.pipe(parser)
  for await (const item of parser as AsyncIterable<{ record: string[], info: { lines: number } }>) {
    yield [{ fields: item.record, line: item.info.lines }]
  }
}

/** Feature layout: one block per non-label column. */
interface Block {
  raw: RawCol
  kind: 'scalar' | 'onehot' | 'bins' | 'text'
  width: number
  mean: number
  std: number
  categories?: string[]
  categoryIndex?: Map<string, number>
}

/**
 * An encoded dataset. `x` is row-major (size x numFeatures). Rows can be appended later (`appendRecords`),
 * encoded with the same statistics.
 */
export class Dataset implements TensorData {
  readonly name: string
  readonly spec: DatasetSpec
  readonly task: Task
  readonly numFeatures: number
  readonly featureNames: string[]
  /** Class names (binary: [negative, positive]), or null for count/numeric labels. */
  readonly classes: string[] | null
  readonly encoding: Encoding
  /** Rows loaded and appended. */
  size: number
  /** Rows of the global held-out test split (never trained on). */
  test: Uint32Array
  /** Rows available for training (what partitioners split). */
  train: Uint32Array
  readonly badRows: BadRowReport
  /** Bytes of the main data file read by the load (compressed bytes for .gz); where tailing a growing file resumes. */
  loadedBytes = 0
  /** Distinct partition-key values (index = code), or null without a partition column. */
  readonly partitionValues: string[] | null
  private _x: Float32Array
  private _y: Float32Array
  private _exposure: Float32Array | null
  private _offset: Float32Array | null
  private _weight: Float32Array | null
  private _partition: Int32Array | null
  private readonly blocks: Block[]
  private readonly partitionIndex: Map<string, number> | null
  private readonly cols: Col[]

  /** @internal use loadDataset or datasetFromArrays */
  constructor (init: {
    name: string, spec: DatasetSpec, task: Task, featureNames: string[], classes: string[] | null, encoding: Encoding,
    x: Float32Array, y: Float32Array, exposure: Float32Array | null, weight: Float32Array | null,
    partition: Int32Array | null, partitionValues: string[] | null, size: number, train: Uint32Array, test: Uint32Array,
    badRows: BadRowReport, blocks: Block[], cols: Col[]
  }) {
    this.name = init.name
    this.spec = init.spec
    this.task = init.task
    this.featureNames = init.featureNames
    this.numFeatures = init.featureNames.length
    this.classes = init.classes
    this.encoding = init.encoding
    this._x = init.x
    this._y = init.y
    this._exposure = init.exposure
    this._offset = init.exposure != null ? init.exposure.map((v) => Math.log(v)) : null
    this._weight = init.weight
    this._partition = init.partition
    this.partitionValues = init.partitionValues
    this.partitionIndex = init.partitionValues != null ? new Map(init.partitionValues.map((v, i) => [v, i])) : null
    this.size = init.size
    this.train = init.train
    this.test = init.test
    this.badRows = init.badRows
    this.blocks = init.blocks
    this.cols = init.cols
  }

  get x (): Float32Array { return this._x }
  get y (): Float32Array { return this._y }
  get exposure (): Float32Array | null { return this._exposure }
  /** log(exposure), the offset of Poisson models. */
  get offset (): Float32Array | null { return this._offset }
  get weight (): Float32Array | null { return this._weight }
  /** Partition-key code per row (index into partitionValues), or null. */
  get partitionCodes (): Int32Array | null { return this._partition }
  /** Number of classes (multiclass), 2 for binary, 1 otherwise. */
  get numClasses (): number { return this.classes?.length ?? 1 }
  /** Name of the partition-key column, or null. */
  get partitionColumn (): string | null { return this.cols.find((c) => c.spec.role === 'partition')?.name ?? null }

  /**
   * Hex SHA-256 of the encoded schema: task, classes and feature names (with category lists). Peers whose
   * datasets have the same schemaHash produce the same model layout from the same model spec.
   */
  get schemaHash (): string {
    return createHash('sha256').update(JSON.stringify({ task: this.task, classes: this.classes, features: this.featureNames })).digest('hex')
  }

  /** Model-facing description (for buildModel). */
  get info (): { inputDim: number, task: Task, numClasses: number } {
    return { inputDim: this.numFeatures, task: this.task, numClasses: this.numClasses }
  }

  /** Observed frequency sum(y) / sum(exposure) over some rows (count tasks). */
  frequency (rows: Uint32Array): number {
    let sy = 0; let sv = 0
    for (const r of rows) { sy += this._y[r]; sv += this._exposure?.[r] ?? 1 }
    return sv > 0 ? sy / sv : 0
  }

  private grow (need: number): void {
    const cap = this._y.length
    if (need <= cap) return
    const n = Math.max(need, cap * 2)
    const g32 = (a: Float32Array, w: number): Float32Array => { const b = new Float32Array(n * w); b.set(a); return b }
    this._x = g32(this._x, this.numFeatures)
    this._y = g32(this._y, 1)
    if (this._exposure != null) this._exposure = g32(this._exposure, 1)
    if (this._offset != null) this._offset = g32(this._offset, 1)
    if (this._weight != null) this._weight = g32(this._weight, 1)
    if (this._partition != null) { const b = new Int32Array(n); b.set(this._partition); this._partition = b }
  }

  /**
   * Appends rows given as arrays of cells in file column order (as a CSV line splits). Bad rows throw
   * BadRowError (or are counted when the spec says skip). Returns the new rows' indices (training rows).
   */
  appendRecords (records: string[][], source = 'appended'): Uint32Array {
    if (this.blocks.length === 0) throw new InvalidSpecError(`dataset '${this.name}' was built from arrays; append rows with a file-based spec`, 'dataset.file')
    const table = new RawTable(this.cols)
    const parseRow = makeRowParser(table)
    records.forEach((rec, i) => {
      try { parseRow(rec) } catch (err) {
        if (!(err instanceof CellProblem)) throw err
        if (this.spec.onBadRow === 'skip') { this.badRows.count++; return }
        throw new BadRowError(source, i + 1, err.column, err.problem)
      }
    })
    const start = this.size
    this.grow(start + table.rows)
    encodeInto(table, this.blocks, this.classes, this._x, this._y, start, this.numFeatures)
    const tcols = new Map(table.cols.map((c) => [c.col.spec.role, c]))
    const e = tcols.get('exposure')?.num
    const w = tcols.get('weight')?.num
    const p = tcols.get('partition')
    for (let i = 0; i < table.rows; i++) {
      if (this._exposure != null && e != null) { this._exposure[start + i] = e.data[i]; this._offset![start + i] = Math.log(e.data[i]) }
      if (this._weight != null && w != null) this._weight[start + i] = w.data[i]
      if (this._partition != null && p?.codes != null) {
        const v = p.interner!.values[p.codes.data[i]]
        let code = this.partitionIndex!.get(v)
        if (code === undefined) { code = this.partitionValues!.length; this.partitionValues!.push(v); this.partitionIndex!.set(v, code) }
        this._partition[start + i] = code
      }
    }
    this.size = start + table.rows
    const idx = new Uint32Array(table.rows)
    for (let i = 0; i < table.rows; i++) idx[i] = start + i
    const t = new Uint32Array(this.train.length + idx.length)
    t.set(this.train); t.set(idx, this.train.length)
    this.train = t
    return idx
  }
}

function taskOf (label: ColumnSpec & { role: 'label' }, numClasses: number): Task {
  if (label.kind === 'count') return 'count'
  if (label.kind === 'numeric') return 'regression'
  if (label.kind === 'binary') return 'binary'
  return numClasses === 2 && label.classes == null ? 'binary' : 'multiclass'
}

function encodeInto (table: RawTable, blocks: Block[], classes: string[] | null, x: Float32Array, y: Float32Array, start: number, d: number): void {
  const n = table.rows
  let off = 0
  for (const b of blocks) {
    const col = table.cols.find((c) => c.col === b.raw.col)!
    if (b.kind === 'scalar') {
      const data = col.num!.data
      const inv = 1 / b.std
      for (let i = 0; i < n; i++) x[(start + i) * d + off] = (data[i] - b.mean) * inv
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

function splitRows (n: number, fraction: number, seed: number | string): { train: Uint32Array, test: Uint32Array } {
  const order = Array.from({ length: n }, (_, i) => i)
  createRng(seed).fork('test-split').shuffle(order)
  const nt = Math.round(n * fraction)
  const test = Uint32Array.from(order.slice(0, nt)).sort()
  const train = Uint32Array.from(order.slice(nt)).sort()
  return { train, test }
}

/** Encodes a raw table into a Dataset; statistics and categories not in the spec come from the training rows only. */
function buildDataset (spec: DatasetSpec, table: RawTable, cols: Col[], split: { train: Uint32Array, test: Uint32Array }, bad: BadRowReport, given?: Encoding): Dataset {
  const n = table.rows
  const trainRows = split.train
  const encoding: Encoding = { columns: {} }
  const blocks: Block[] = []
  const featureNames: string[] = []
  for (const rc of table.cols) {
    const s = rc.col.spec
    const name = rc.col.name
    const prior = given?.columns[name]
    if (s.role === 'numeric' || s.role === 'log-numeric') {
      let mean = s.mean ?? prior?.mean
      let std = s.std ?? prior?.std
      if (!s.standardize) { mean = 0; std = 1 } else if (mean == null || std == null) {
        let sum = 0; let sq = 0
        const data = rc.num!.data
        for (const r of trainRows) { sum += data[r]; sq += data[r] * data[r] }
        const m = trainRows.length > 0 ? sum / trainRows.length : 0
        const v = trainRows.length > 0 ? sq / trainRows.length - m * m : 1
        mean ??= m
        std ??= v > 1e-12 ? Math.sqrt(v) : 1
      }
      encoding.columns[name] = { mean, std }
      blocks.push({ raw: rc, kind: 'scalar', width: 1, mean, std })
      featureNames.push(s.role === 'log-numeric' ? `log(${name})` : name)
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
  const d = featureNames.length
  if (d === 0) throw new InvalidSpecError('invalid dataset spec: dataset.columns: no feature columns (numeric, log-numeric, categorical or text)', 'dataset.columns')
  const x = new Float32Array(n * d)
  const y = new Float32Array(n)
  encodeInto(table, blocks, classes, x, y, 0, d)
  const f32 = (rc: RawCol | null): Float32Array | null => rc?.num != null ? Float32Array.from(rc.num.data.subarray(0, n)) : null
  const part = table.partition
  return new Dataset({
    name: spec.name,
    spec,
    task,
    featureNames,
    classes,
    encoding,
    x,
    y,
    exposure: f32(table.exposure),
    weight: f32(table.weight),
    partition: part != null ? Int32Array.from(part.codes!.data.subarray(0, n)) : null,
    partitionValues: part != null ? [...part.interner!.values] : null,
    size: n,
    train: split.train,
    test: split.test,
    badRows: bad,
    blocks,
    cols
  })
}

/**
 * Loads a dataset from a spec (object, already validated or not). Built-in names are resolved by
 * `loadDataset` in ./builtin.ts; this one reads files only.
 */
export async function loadDatasetFromSpec (input: DatasetSpecInput | DatasetSpec, options: LoadOptions = {}): Promise<Dataset> {
  const spec = parseDatasetSpec(input)
  if (typeof spec.file !== 'string') throw new InvalidSpecError('invalid dataset spec: dataset.file: builtin sources are loaded by loadDataset', 'dataset.file')
  const dataDir = defaultDataDir(options.dataDir)
  const main = resolveFile(spec.file, dataDir)
  const testPath = spec.testFile != null ? resolveFile(spec.testFile, dataDir) : null
  const bad: BadRowReport = { count: 0, examples: [] }
  const ref: { table: RawTable | null, cols: Col[] | null } = { table: null, cols: null }
  const first = await readFileInto(main, spec.format, spec, ref, { signal: options.signal, maxRows: options.maxRows ?? spec.maxRows, bad })
  if (ref.table == null) throw new DatasetNotFoundError(`${main}: the file is empty${spec.format.header ? ' (no header line)' : ''}`)
  const mainRows = ref.table.rows
  let split: { train: Uint32Array, test: Uint32Array }
  if (testPath != null) {
    const fmt = { ...spec.format }
    for (const [k, v] of Object.entries(spec.testFormat ?? {})) if (v !== undefined) (fmt as Record<string, unknown>)[k] = v
    await readFileInto(testPath, fmt, spec, ref, { signal: options.signal, bad })
    const total = ref.table.rows
    split = {
      train: Uint32Array.from({ length: mainRows }, (_, i) => i),
      test: Uint32Array.from({ length: total - mainRows }, (_, i) => mainRows + i)
    }
  } else {
    split = splitRows(mainRows, spec.testFraction, spec.splitSeed)
  }
  const dataset = buildDataset(spec, ref.table, ref.cols!, split, bad, options.encoding)
  dataset.loadedBytes = first.bytes
  return dataset
}

/** Wraps already-encoded arrays as a Dataset (tests, the embedded MNIST digits, generated data). */
export function datasetFromArrays (init: {
  name: string, x: Float32Array, y: Float32Array, numFeatures: number, task: Task, classes?: string[] | null,
  exposure?: Float32Array | null, weight?: Float32Array | null, partition?: string[] | null,
  featureNames?: string[], testFraction?: number, splitSeed?: number | string, test?: Uint32Array, train?: Uint32Array
}): Dataset {
  const n = init.y.length
  if (init.x.length !== n * init.numFeatures) throw new InvalidSpecError(`x has ${init.x.length} values, expected ${n} x ${init.numFeatures}`, 'x')
  const split = init.train != null && init.test != null
    ? { train: init.train, test: init.test }
    : splitRows(n, init.testFraction ?? 0.2, init.splitSeed ?? 2024)
  let partition: Int32Array | null = null
  let partitionValues: string[] | null = null
  if (init.partition != null) {
    const it = new Interner()
    partition = Int32Array.from(init.partition, (v) => it.code(v))
    partitionValues = it.values
  }
  const classes = init.classes ?? (init.task === 'multiclass' || init.task === 'binary'
    ? Array.from({ length: init.task === 'binary' ? 2 : Math.max(...init.y) + 1 }, (_, i) => String(i))
    : null)
  const spec = parseDatasetSpec({ name: init.name, file: 'arrays', columns: [{ name: 'label', role: 'label', kind: init.task === 'count' ? 'count' : init.task === 'regression' ? 'numeric' : init.task === 'binary' ? 'binary' : 'classes', classes: classes ?? undefined }] })
  return new Dataset({
    name: init.name,
    spec,
    task: init.task,
    featureNames: init.featureNames ?? Array.from({ length: init.numFeatures }, (_, i) => `f${i}`),
    classes,
    encoding: { columns: {}, classes: classes ?? undefined },
    x: init.x,
    y: init.y,
    exposure: init.exposure ?? null,
    weight: init.weight ?? null,
    partition,
    partitionValues,
    size: n,
    train: split.train,
    test: split.test,
    badRows: { count: 0, examples: [] },
    blocks: [],
    cols: []
  })
}
