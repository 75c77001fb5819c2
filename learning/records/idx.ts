/**
 * Records of idx files (MNIST, Fashion-MNIST): big-endian binary arrays, gzip or not (by the magic bytes). An
 * idx file holds `dims[0]` items of `dims[1] x ... ` cells; each item is one record of cells in row-major order,
 * and with a label file (idx1, one cell per item) the label is the record's last cell. Records carry their item
 * number (1-based) where a delimited file has its line, so bad rows and errors name the item.
 *
 * The header is checked against limits (dimensions, cells per item) and the file's length against the header;
 * a malformed file is an UnsupportedFormatError naming it.
 */
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { basename } from 'node:path'
import { createGunzip } from 'node:zlib'
import { UnsupportedFormatError } from '../errors.js'
import type { SourceRecord } from './source.js'
import { IDX_BATCH_RECORDS, IDX_MAX_CELLS, IDX_MAX_DIMS } from './constants.js'

/** idx type codes: bytes per cell and the big-endian reader. */
const TYPES: Record<number, { name: string, bytes: number, get: (v: DataView, o: number) => number }> = {
  0x08: { name: 'unsigned byte', bytes: 1, get: (v, o) => v.getUint8(o) },
  0x09: { name: 'signed byte', bytes: 1, get: (v, o) => v.getInt8(o) },
  0x0b: { name: 'short', bytes: 2, get: (v, o) => v.getInt16(o) },
  0x0c: { name: 'int', bytes: 4, get: (v, o) => v.getInt32(o) },
  0x0d: { name: 'float', bytes: 4, get: (v, o) => v.getFloat32(o) },
  0x0e: { name: 'double', bytes: 8, get: (v, o) => v.getFloat64(o) }
}

export interface IdxHeader {
  /** Type code (0x08 unsigned byte, ... 0x0e double). */
  type: number
  /** Dimensions: items first, then the shape of one item. */
  dims: number[]
  /** Cells per item. */
  cells: number
  /** Header bytes (4 + 4 x dims). */
  bytes: number
}

/** Parses an idx header from the start of `buf`, or null when more bytes are needed; throws on a malformed one. */
export function parseIdxHeader (buf: Buffer, file: string): IdxHeader | null {
  if (buf.length < 4) return null
  if (buf[0] !== 0 || buf[1] !== 0) throw new UnsupportedFormatError(file, 'not an idx file (its first two bytes are not zero)')
  const type = buf[2]
  const ndims = buf[3]
  if (TYPES[type] == null) throw new UnsupportedFormatError(file, `idx type code 0x${type.toString(16).padStart(2, '0')} is not one of ${Object.keys(TYPES).map((t) => `0x${Number(t).toString(16).padStart(2, '0')}`).join(', ')}`)
  if (ndims < 1 || ndims > IDX_MAX_DIMS) throw new UnsupportedFormatError(file, `idx header gives ${ndims} dimensions (1 to ${IDX_MAX_DIMS} supported)`)
  const bytes = 4 + 4 * ndims
  if (buf.length < bytes) return null
  const dims = Array.from({ length: ndims }, (_, i) => buf.readUInt32BE(4 + 4 * i))
  const cells = dims.slice(1).reduce((a, b) => a * b, 1)
  if (cells > IDX_MAX_CELLS) throw new UnsupportedFormatError(file, `idx items of ${dims.slice(1).join(' x ')} = ${cells} cells exceed the limit of ${IDX_MAX_CELLS}`)
  return { type, dims, cells, bytes }
}

/** Raw chunks of a file, gunzipped when it starts with the gzip magic bytes; `bytes.read` counts the file's bytes. */
async function * chunks (path: string, gzip: boolean, bytes: { read: number }, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 })
  raw.on('data', (c: string | Buffer) => { bytes.read += c.length })
  const stream = gzip ? raw.pipe(createGunzip({ chunkSize: 1 << 20 })) : raw
  if (gzip) raw.on('error', (err) => stream.destroy(err))
  try {
    for await (const c of stream) { signal?.throwIfAborted(); yield c as Buffer }
  } catch (err) {
    const e = err as Error & { code?: string }
    if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR') throw new UnsupportedFormatError(basename(path), `gzip data is corrupt (${e.message})`)
    throw err
  } finally { stream.destroy(); raw.destroy() }
}

async function isGzip (path: string): Promise<boolean> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(2)
    const { bytesRead } = await fh.read(buf, 0, 2, 0)
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b
  } finally { await fh.close() }
}

/** Reads a whole idx file's cells as numbers (for label files: one cell per item). */
export async function readIdxValues (path: string, options: { signal?: AbortSignal } = {}): Promise<{ header: IdxHeader, values: Float64Array }> {
  const file = basename(path)
  const source = new IdxSource({ path })
  const out: number[] = []
  for await (const batch of source.read(options)) for (const r of batch) for (const f of r.fields) out.push(Number(f))
  if (source.idxHeader == null) throw new UnsupportedFormatError(file, 'the file is empty')
  return { header: source.idxHeader, values: Float64Array.from(out) }
}

export interface IdxSourceInit {
  path: string
  /** An idx1 file with one label per item, appended to each record as its last cell. */
  labels?: string
  /** The file's name in messages (default: its base name). */
  name?: string
}

/** The records of an idx file (and its label file), in batches, with their item numbers. */
export class IdxSource {
  readonly path: string
  readonly file: string
  /** idx files have no header of column names. */
  readonly header: null = null
  /** Raw bytes read from the file (compressed bytes for gzip). */
  bytesRead = 0
  idxHeader: IdxHeader | null = null
  private readonly labels: string | undefined

  constructor (init: IdxSourceInit) {
    this.path = init.path
    this.file = init.name ?? basename(init.path)
    this.labels = init.labels
  }

  async * read (options: { signal?: AbortSignal } = {}): AsyncGenerator<SourceRecord[]> {
    let labels: Float64Array | null = null
    if (this.labels != null) {
      const l = await readIdxValues(this.labels, options)
      if (l.header.cells !== 1) throw new UnsupportedFormatError(basename(this.labels), `a label file has one cell per item, this one ${l.header.cells} (${l.header.dims.join(' x ')})`)
      labels = l.values
    }
    const bytes = { read: 0 }
    let buf: Buffer = Buffer.alloc(0)
    let header: IdxHeader | null = null
    let item = 0
    let batch: SourceRecord[] = []
    const cellText = Array.from({ length: 256 }, (_, i) => String(i))
    for await (const chunk of chunks(this.path, await isGzip(this.path), bytes, options.signal)) {
      this.bytesRead = bytes.read
      buf = buf.length > 0 ? Buffer.concat([buf, chunk]) : chunk
      if (header == null) {
        header = parseIdxHeader(buf, this.file)
        if (header == null) continue
        this.idxHeader = header
        if (labels != null && labels.length !== header.dims[0]) {
          throw new UnsupportedFormatError(this.file, `${header.dims[0]} items but the label file ${basename(this.labels!)} has ${labels.length} labels`)
        }
        buf = buf.subarray(header.bytes)
      }
      const type = TYPES[header.type]
      const size = header.cells * type.bytes
      const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
      let o = 0
      for (; o + size <= buf.length; o += size) {
        if (item >= header.dims[0]) throw new UnsupportedFormatError(this.file, `bytes after the ${header.dims[0]} items the header gives`)
        const fields = new Array<string>(header.cells + (labels != null ? 1 : 0))
        for (let c = 0; c < header.cells; c++) {
          const v = type.get(view, o + c * type.bytes)
          fields[c] = type.bytes === 1 && v >= 0 ? cellText[v] : String(v)
        }
        if (labels != null) fields[header.cells] = String(labels[item])
        item++
        batch.push({ fields, line: item })
        if (batch.length >= IDX_BATCH_RECORDS) { yield batch; batch = [] }
      }
      buf = buf.subarray(o)
    }
    this.bytesRead = bytes.read
    if (batch.length > 0) yield batch
    if (header == null) throw new UnsupportedFormatError(this.file, buf.length === 0 ? 'the file is empty' : 'the idx header is cut short')
    if (item < header.dims[0] || buf.length > 0) {
      throw new UnsupportedFormatError(this.file, `truncated: the header gives ${header.dims[0]} items of ${header.cells} ${TYPES[header.type].name} cells, the file holds ${item}${buf.length > 0 ? ` and ${buf.length} more bytes` : ''}`)
    }
  }
}
