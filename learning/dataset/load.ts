/**
 * Loading a dataset: a CSV/TSV file (gzip or not) read through the record source, each column given a role
 * by a validated spec, encoded into a `Dataset`. A global held-out test split (a separate test file, or a
 * seeded fraction) is kept apart.
 *
 * Standardization statistics and category lists come from the spec when given; otherwise from the rows this
 * process loads (the training rows only). `dataset.encoding` records them so that other peers can reuse them.
 */
import { existsSync, statSync } from 'node:fs'
import { isAbsolute, resolve, dirname, basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseDatasetSpec, type ColumnSpec, type DatasetSpec, type DatasetSpecInput } from '../specs.js'
import { DatasetNotFoundError, EmptyDatasetError, InvalidSpecError } from '../errors.js'
import { BadRows, RecordSource, type RecordFormat } from '../records/index.js'
import { IdxSource } from '../records/idx.js'
import { checkDelimitedText } from '../records/sniff.js'
import { DATA_DIR_ENV } from '../constants.js'
import { RawTable, makeRowParser, resolveColumns, type Col, type RawCol } from './columns.js'
import { encodeInto, planEncoding, type Encoding } from './encoding.js'
import { intervalLabels, intervalOf, partitionCuts } from './partition-key.js'
import { Dataset, splitRows } from './dataset.js'

export interface LoadOptions {
  /** Directory that relative file names are resolved against (default: MURMUR_DATA_DIR, else ../shared/datasets). */
  dataDir?: string
  signal?: AbortSignal
  /** Statistics and categories to encode with (e.g. from a network manifest), overriding what the spec lacks. */
  encoding?: Encoding
  /** Read at most this many data rows from the main file (quick runs); overrides spec.maxRows. */
  maxRows?: number
  /**
   * The file may be growing (a daemon's data file): a last line without its newline, or a quoted field still
   * open at the end, is left for the reader of appended rows (from `dataset.loadedPosition`) instead of being
   * read as a record.
   */
  growing?: boolean
}

const HERE = dirname(fileURLToPath(import.meta.url))
// the package root: two folders above learning/dataset/, three above the compiled build's dist/learning/dataset/
const REPO_ROOT = basename(resolve(HERE, '..', '..')) === 'dist' ? resolve(HERE, '..', '..', '..') : resolve(HERE, '..', '..')

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

/**
 * Reads one file's records into the table (creating it, with the columns, from the first file's header): a
 * delimited file through the record source (after a look that it is text), an idx file through IdxSource.
 */
async function readFileInto (path: string, format: RecordFormat & { type: string }, spec: DatasetSpec, ref: { table: RawTable | null, cols: Col[] | null },
  options: { signal?: AbortSignal, maxRows?: number, bad: BadRows, final: boolean, labels?: string }): Promise<RecordSource | IdxSource> {
  let source: RecordSource | IdxSource
  if (format.type === 'idx') {
    source = new IdxSource({ path, labels: options.labels })
  } else {
    await checkDelimitedText(path)
    source = new RecordSource({ path, format, badRows: options.bad })
  }
  const file = source.file
  let parseRow: ((r: string[]) => void) | null = ref.table != null ? makeRowParser(ref.table) : null
  const columns = (): (r: string[]) => void => {
    ref.cols = resolveColumns(spec, source.header, file)
    ref.table = new RawTable(ref.cols)
    return makeRowParser(ref.table)
  }
  let rows = 0
  const limit = options.maxRows ?? Infinity
  read: for await (const batch of source.read({ signal: options.signal, final: options.final })) {
    parseRow ??= columns()
    const parse = parseRow
    for (const r of batch) {
      if (options.bad.apply(file, r.line, () => { parse(r.fields) })) rows++
      if (rows >= limit) break read
    }
  }
  if (parseRow == null && source.header != null) columns()
  return source
}

/**
 * The partition key per row: the raw (or mapped) value, or for `bins` / `quantiles` the interval of the value
 * (cut points from the spec, else `given`, else the training rows' quantiles, recorded in `encoding.partition`).
 */
function derivePartition (rc: RawCol | null, n: number, train: Uint32Array, encoding: Encoding, given?: Encoding): { codes: Int32Array, values: string[], cuts: number[] | null } | null {
  if (rc == null) return null
  if (rc.num == null) return { codes: Int32Array.from(rc.codes!.data.subarray(0, n)), values: [...rc.interner!.values], cuts: null }
  const cuts = partitionCuts(rc.col.spec as ColumnSpec & { role: 'partition' }, rc.num.data, train, given?.partition?.cuts)
  encoding.partition = { cuts }
  const codes = new Int32Array(n)
  for (let i = 0; i < n; i++) codes[i] = intervalOf(rc.num.data[i], cuts)
  return { codes, values: intervalLabels(rc.col.name, cuts), cuts }
}

/** ", N rows were skipped as bad: ..." for messages, or '' when none were. */
function skipped (bad: Pick<BadRows, 'report'>): string {
  const r = bad.report
  if (r.count === 0) return ''
  return `; ${r.count} bad row(s) skipped, first: ${r.examples.slice(0, 3).map((e) => e.slice(e.indexOf(': ') + 2)).join('; ')}`
}

/** A file that gave no rows: EmptyDatasetError, saying whether they were all skipped or the file has none. */
function emptyFile (file: string, bad: Pick<BadRows, 'report'>, allowEmpty: boolean, what = 'file'): void {
  if (bad.report.count > 0) {
    throw new EmptyDatasetError(`every row of ${file} was skipped (${bad.report.count} bad rows); first bad rows: ${bad.report.examples.slice(0, 3).map((e) => e.slice(e.indexOf(': ') + 2)).join('; ')}`)
  }
  if (!allowEmpty) throw new EmptyDatasetError(`${file}: the ${what} has no data rows`)
}

/** Encodes a raw table into a Dataset; statistics and categories not in the spec come from the training rows only. */
function buildDataset (spec: DatasetSpec, table: RawTable, cols: Col[], split: { train: Uint32Array, test: Uint32Array }, bad: BadRows, given?: Encoding): Dataset {
  const n = table.rows
  const { blocks, featureNames, encoding, classes, task } = planEncoding(table, split.train, given)
  const d = featureNames.length
  if (d === 0) throw new InvalidSpecError('invalid dataset spec: dataset.columns: no feature columns (numeric, log-numeric, categorical or text)', 'dataset.columns')
  const x = new Float32Array(n * d)
  const y = new Float32Array(n)
  encodeInto(table, blocks, classes, x, y, 0, d)
  const f32 = (rc: RawCol | null): Float32Array | null => rc?.num != null ? Float32Array.from(rc.num.data.subarray(0, n)) : null
  const part = derivePartition(table.partition, n, split.train, encoding, given)
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
    partition: part?.codes ?? null,
    partitionValues: part?.values ?? null,
    partitionCuts: part?.cuts ?? null,
    size: n,
    train: split.train,
    test: split.test,
    badRows: bad.report,
    blocks,
    cols
  })
}

/**
 * Loads a dataset from a spec (object, already validated or not). Built-in names are resolved by
 * `loadDataset` in ../builtin.ts; this one reads files only.
 */
export async function loadDatasetFromSpec (input: DatasetSpecInput | DatasetSpec, options: LoadOptions = {}): Promise<Dataset> {
  const spec = parseDatasetSpec(input)
  if (typeof spec.file !== 'string') throw new InvalidSpecError('invalid dataset spec: dataset.file: builtin sources are loaded by loadDataset', 'dataset.file')
  const dataDir = defaultDataDir(options.dataDir)
  const main = resolveFile(spec.file, dataDir)
  const testPath = spec.testFile != null ? resolveFile(spec.testFile, dataDir) : null
  const bad = new BadRows(spec.onBadRow)
  const ref: { table: RawTable | null, cols: Col[] | null } = { table: null, cols: null }
  const labelPath = spec.labelFile != null ? resolveFile(spec.labelFile, dataDir) : undefined
  const first = await readFileInto(main, spec.format, spec, ref, { signal: options.signal, maxRows: options.maxRows ?? spec.maxRows, bad, final: options.growing !== true, labels: labelPath })
  if (ref.table == null) throw new DatasetNotFoundError(`${main}: the file is empty${spec.format.header ? ' (no header line)' : ''}`)
  const mainRows = ref.table.rows
  // a growing file (a daemon's) may start with its header only; rows come later through the data feed
  const allowEmpty = options.growing === true
  if (mainRows === 0) emptyFile(first.file, bad, allowEmpty)
  let split: { train: Uint32Array, test: Uint32Array }
  if (testPath != null) {
    const fmt = { ...spec.format }
    for (const [k, v] of Object.entries(spec.testFormat ?? {})) if (v !== undefined) (fmt as Record<string, unknown>)[k] = v
    const skippedBefore = bad.report.count
    const testLabels = spec.testLabelFile != null ? resolveFile(spec.testLabelFile, dataDir) : undefined
    const testSource = await readFileInto(testPath, fmt, spec, ref, { signal: options.signal, bad, final: true, labels: testLabels })
    const total = ref.table.rows
    if (total === mainRows) emptyFile(testSource.file, { report: { count: bad.report.count - skippedBefore, examples: bad.report.examples.filter((e) => e.startsWith(`${testSource.file}: `)), lines: [] } }, false, 'test file')
    split = {
      train: Uint32Array.from({ length: mainRows }, (_, i) => i),
      test: Uint32Array.from({ length: total - mainRows }, (_, i) => mainRows + i)
    }
  } else {
    split = splitRows(mainRows, spec.testFraction, spec.splitSeed)
    if (split.train.length === 0 && !allowEmpty) {
      throw new EmptyDatasetError(`${first.file}: no training rows: the ${mainRows} row(s) read all went to the test split (testFraction ${spec.testFraction})${skipped(bad)}`)
    }
    if (split.test.length === 0 && spec.testFraction > 0 && !allowEmpty) {
      throw new EmptyDatasetError(`${first.file}: no test rows: testFraction ${spec.testFraction} of ${mainRows} row(s) rounds to none${skipped(bad)}`)
    }
  }
  const dataset = buildDataset(spec, ref.table, ref.cols!, split, bad, options.encoding)
  // appended rows are read from where the load stopped: delimited text only, not gzip or idx
  const resumable = first instanceof RecordSource && !first.gzip
  dataset.loadedPosition = resumable ? { ...first.position } : null
  dataset.loadedBytes = resumable ? first.position.offset : first.bytesRead
  return dataset
}
