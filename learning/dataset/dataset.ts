/**
 * An encoded dataset: one row-major Float32Array of features plus labels, exposure, weight and a partition
 * key, and the global held-out test split. Rows can be appended later, encoded the same way.
 */
import { createHash } from 'node:crypto'
import { createRng } from '../../protocol/rng.js'
import { parseDatasetSpec, type DatasetSpec } from '../specs.js'
import { InvalidSpecError } from '../errors.js'
import type { TensorData } from '../model.js'
import type { Task } from '../metrics.js'
import { BadRows, type BadRowReport, type SourcePosition } from '../records/index.js'
import { Interner, RawTable, makeRowParser, type Col } from './columns.js'
import { encodeInto, type Block, type Encoding } from './encoding.js'
import { intervalOf } from './partition-key.js'

export interface AppendOptions {
  /** The rows' file, for messages (default 'appended'). */
  source?: string
  /** The file line of each record (default: 1, 2, ... in this batch). */
  lines?: readonly number[]
  /** The bad-row policy and report to use (default: the spec's policy, reported in `badRows`). */
  badRows?: BadRows
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
  /** Where the load stopped in the main file (bytes and lines consumed), for reading appended rows; null for gzip. */
  loadedPosition: SourcePosition | null = null
  /** Distinct partition-key values (index = code), or null without a partition column. */
  readonly partitionValues: string[] | null
  /**
   * Cut points of a partition key derived as intervals of a numeric column (`bins`, `quantiles`), else null.
   * Then every interval has its code up front, in order (`partitionValues` are `col(-Inf,c1]`, ...).
   */
  readonly partitionCuts: number[] | null
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
    partition: Int32Array | null, partitionValues: string[] | null, partitionCuts?: number[] | null, size: number, train: Uint32Array, test: Uint32Array,
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
    this.partitionCuts = init.partitionCuts ?? null
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
   * Appends rows given as arrays of cells in file column order (as a CSV line splits), encoded with the
   * dataset's statistics and categories. Bad rows go through `badRows` (default: the spec's policy, counted
   * in `this.badRows`), named by `source` and `lines` (their file lines; default: 1, 2, ... in this batch).
   * Nothing is added when a bad row throws. Returns the new rows' indices (training rows).
   */
  appendRecords (records: readonly string[][], options: string | AppendOptions = {}): Uint32Array {
    const { source = 'appended', lines, badRows = new BadRows(this.spec.onBadRow, this.badRows) } = typeof options === 'string' ? { source: options } : options
    if (this.blocks.length === 0) throw new InvalidSpecError(`dataset '${this.name}' was built from arrays; append rows with a file-based spec`, 'dataset.file')
    if (lines != null && lines.length !== records.length) throw new RangeError(`${source}: ${records.length} records but ${lines.length} line numbers`)
    const table = new RawTable(this.cols)
    const parseRow = makeRowParser(table, this.classes)
    records.forEach((rec, i) => { badRows.apply(source, lines?.[i] ?? i + 1, () => { parseRow(rec) }) })
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
      if (this._partition != null && p?.num != null && this.partitionCuts != null) {
        this._partition[start + i] = intervalOf(p.num.data[i], this.partitionCuts)
      } else if (this._partition != null && p?.codes != null) {
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

/** A seeded split of n rows: `fraction` of them (rounded) in test, the rest in train, both sorted. */
export function splitRows (n: number, fraction: number, seed: number | string): { train: Uint32Array, test: Uint32Array } {
  const order = Array.from({ length: n }, (_, i) => i)
  createRng(seed).fork('test-split').shuffle(order)
  const nt = Math.round(n * fraction)
  const test = Uint32Array.from(order.slice(0, nt)).sort()
  const train = Uint32Array.from(order.slice(nt)).sort()
  return { train, test }
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
    badRows: { count: 0, examples: [], lines: [] },
    blocks: [],
    cols: []
  })
}
