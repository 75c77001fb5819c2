/**
 * `RecordSource`: the records of one delimited file, with their file line numbers, read from a byte position
 * to the end of the file as it is now. The same object serves a dataset's initial load (from the start, to a
 * complete end) and a growing file's appended rows (from where the last read stopped: a partial last line
 * or an open quoted field waits for the bytes that complete it). Skipped lines and the header are handled
 * here, and every bad record (an unterminated quote, a record over the size limit) goes through the one
 * bad-row policy (`BadRows`), so a bad record never drops the good ones around it.
 */
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { basename } from 'node:path'
import { createGunzip } from 'node:zlib'
import { BadRowError } from '../errors.js'
import { DelimitedReader, type DelimitedRecord } from './reader.js'
import { BadRows } from './bad-rows.js'
import { MAX_RECORD_BYTES, READ_CHUNK_BYTES } from './constants.js'

/** How a file's text is split into records (a dataset spec's `format`). */
export interface RecordFormat {
  delimiter: string
  /** Quote character, or false / null for none. */
  quote: string | false | null
  trim: boolean
  /** The first record after `skipLines` lines is the header. */
  header: boolean
  skipLines: number
  /** true, false or 'auto' (by the .gz suffix). Gzip files are read from the start only. */
  gzip: boolean | 'auto'
}

export const DEFAULT_RECORD_FORMAT: RecordFormat = { delimiter: ',', quote: '"', trim: true, header: true, skipLines: 0, gzip: 'auto' }

/** A place in a file: `offset` bytes and `line` lines consumed (the next record starts on line `line + 1`). */
export interface SourcePosition { offset: number, line: number }

/** One record: its cells, and the 1-based file line on which it ends. */
export type SourceRecord = DelimitedRecord

export interface RecordSourceInit {
  path: string
  format?: Partial<RecordFormat>
  /** Where to start (default: the beginning). Past `skipLines` and the header, these are taken as read. */
  start?: SourcePosition
  /** The bad-row policy and report (default: 'error'). */
  badRows?: BadRows
  /** Longest record held while waiting for its end (bytes). */
  maxRecordBytes?: number
  /** The file's name in messages (default: its base name). */
  name?: string
}

export interface ReadOptions {
  signal?: AbortSignal
  /**
   * true: the file is complete; a last line without its newline is a record, and a quoted field still open
   * at the end is a bad row. false (a growing file): both wait for the bytes that complete them.
   */
  final?: boolean
  /** Read at most about this many bytes in this call (the next call goes on from there). */
  maxBytes?: number
}

const EMPTY = Buffer.alloc(0)

export class RecordSource {
  readonly path: string
  /** The name used in messages. */
  readonly file: string
  readonly format: RecordFormat
  readonly badRows: BadRows
  /** The header's cells, once read (null without a header). */
  header: string[] | null = null
  /** Just after the last complete record (or skipped line): where a later reader of this file resumes. */
  position: SourcePosition
  /** Raw bytes read from the file (compressed bytes for gzip). */
  bytesRead = 0

  /** Whether the file is read through gunzip (then positions count uncompressed bytes and cannot resume). */
  readonly gzip: boolean
  private readonly maxRecordBytes: number
  private readonly reader: DelimitedReader
  private headerPending: boolean
  /** Next byte of the file to read. */
  private readOffset: number
  /** Bytes after the last newline read (a line without its newline yet). */
  private carry: Buffer = EMPTY
  /** Bytes through the last newline that were fed to the reader or dropped. */
  private consumed: number
  /** Lines not seen by the reader: the start line, plus over-long lines dropped. */
  private lineBase: number
  /** An over-long line is being dropped up to its newline. */
  private dropping = false

  constructor (init: RecordSourceInit) {
    this.path = init.path
    this.file = init.name ?? basename(init.path)
    const f = { ...DEFAULT_RECORD_FORMAT }
    for (const [k, v] of Object.entries(init.format ?? {})) if (v !== undefined) (f as Record<string, unknown>)[k] = v
    this.format = f
    this.gzip = f.gzip === 'auto' ? init.path.endsWith('.gz') : f.gzip
    this.badRows = init.badRows ?? new BadRows('error')
    this.maxRecordBytes = init.maxRecordBytes ?? MAX_RECORD_BYTES
    const start = init.start ?? { offset: 0, line: 0 }
    if (!(Number.isSafeInteger(start.offset) && start.offset >= 0 && Number.isSafeInteger(start.line) && start.line >= 0)) {
      throw new RangeError(`${this.file}: bad start position ${JSON.stringify(start)}`)
    }
    if (this.gzip && start.offset > 0) throw new RangeError(`${this.file}: a gzip file is read from its start only (asked for byte ${start.offset})`)
    this.position = { ...start }
    this.readOffset = start.offset
    this.consumed = start.offset
    this.lineBase = start.line
    this.headerPending = f.header && start.line <= f.skipLines
    this.reader = new DelimitedReader({ delimiter: f.delimiter, quote: f.quote === false ? null : f.quote, trim: f.trim })
  }

  /** Reads from the last position to the end of the file as it is now; yields the data records in batches. */
  async * read (options: ReadOptions = {}): AsyncGenerator<SourceRecord[]> {
    let line = this.lineBase + this.reader.lines
    try {
      for await (const chunk of this.chunks(options)) {
        options.signal?.throwIfAborted()
        const out = this.take(chunk)
        line = this.lineBase + this.reader.lines
        if (out.length > 0) yield out
      }
    } catch (err) {
      const e = err as Error & { code?: string }
      if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR') throw new BadRowError(this.file, line + 1, '?', `gzip data is corrupt (${e.message})`)
      throw err
    }
    if (options.final === true) {
      const out = this.end()
      if (out.length > 0) yield out
    }
  }

  /** Raw chunks from the read offset to the end of the file (or `maxBytes`). */
  private async * chunks (options: ReadOptions): AsyncGenerator<Buffer> {
    const limit = options.maxBytes ?? Infinity
    let got = 0
    if (this.gzip) {
      if (this.readOffset > 0) return // read whole already
      const raw = createReadStream(this.path, { highWaterMark: READ_CHUNK_BYTES })
      raw.on('data', (c: string | Buffer) => { this.bytesRead += c.length; this.readOffset += c.length })
      const stream = raw.pipe(createGunzip({ chunkSize: READ_CHUNK_BYTES }))
      raw.on('error', (err) => stream.destroy(err))
      try {
        for await (const c of stream) yield c as Buffer
      } finally { stream.destroy(); raw.destroy() }
      return
    }
    const fh = await open(this.path, 'r')
    try {
      while (got < limit) {
        const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, limit - got))
        const { bytesRead } = await fh.read(buf, 0, buf.length, this.readOffset)
        if (bytesRead === 0) return
        this.readOffset += bytesRead
        this.bytesRead += bytesRead
        got += bytesRead
        yield buf.subarray(0, bytesRead)
      }
    } finally { await fh.close() }
  }

  /** Feeds one chunk: the complete lines go to the reader, the rest waits in `carry`. */
  private take (chunk: Buffer): SourceRecord[] {
    const out: SourceRecord[] = []
    let buf = chunk
    if (this.dropping) {
      const nl = buf.indexOf(10)
      if (nl < 0) { this.consumed += buf.length; return out }
      this.consumed += nl + 1
      this.lineBase++
      this.dropping = false
      buf = buf.subarray(nl + 1)
    }
    buf = this.carry.length > 0 ? Buffer.concat([this.carry, buf]) : buf
    const nl = buf.lastIndexOf(10)
    if (nl >= 0) {
      this.emit(this.reader.push(buf.toString('utf8', 0, nl + 1)), out)
      this.consumed += nl + 1
      this.carry = Buffer.from(buf.subarray(nl + 1))
    } else {
      this.carry = Buffer.from(buf)
    }
    this.bound(out)
    this.commit()
    return out
  }

  /** Bad rows for a record that outgrows maxRecordBytes while waiting for its end. */
  private bound (out: SourceRecord[]): void {
    while (this.reader.pending.length > 0 && Buffer.byteLength(this.reader.pending) + this.carry.length > this.maxRecordBytes) {
      this.badRows.add(this.file, this.reader.pendingLine, '?', `record longer than ${this.maxRecordBytes} bytes (an unterminated quoted field?)`)
      this.emit(this.reader.dropPendingLine(), out)
    }
    if (this.reader.pending.length === 0 && this.carry.length > this.maxRecordBytes) {
      this.badRows.add(this.file, this.lineBase + this.reader.lines + 1, '?', `line longer than ${this.maxRecordBytes} bytes`)
      this.consumed += this.carry.length
      this.carry = EMPTY
      this.dropping = true
    }
  }

  /** The end of a complete file: its last line without a newline, and any quoted field left open. */
  private end (): SourceRecord[] {
    const out: SourceRecord[] = []
    if (this.dropping) { this.lineBase++; this.dropping = false }
    if (this.carry.length > 0) {
      this.emit(this.reader.push(this.carry.toString('utf8')), out)
      this.consumed += this.carry.length
      this.carry = EMPTY
    }
    this.emit(this.reader.finish(), out)
    while (this.reader.pending.length > 0) {
      this.badRows.add(this.file, this.reader.pendingLine, '?', 'unterminated quoted field')
      this.emit(this.reader.dropPendingLine(), out)
      this.emit(this.reader.finish(), out)
    }
    this.commit()
    return out
  }

  private commit (): void {
    const pending = this.reader.pending
    this.position = { offset: this.consumed - (pending.length > 0 ? Buffer.byteLength(pending) : 0), line: this.lineBase + this.reader.lines }
  }

  /** Moves the reader's records to `out`, leaving out skipped lines and the header (with line numbers of the file). */
  private emit (records: DelimitedRecord[], out: SourceRecord[]): void {
    const base = this.lineBase
    for (const r of records) {
      const line = r.line + base
      if (line <= this.format.skipLines) continue
      if (this.headerPending) {
        this.headerPending = false
        const h = r.fields
        if (h.length > 0 && h[0].charCodeAt(0) === 0xfeff) h[0] = h[0].slice(1) // UTF-8 BOM
        this.header = h
        continue
      }
      if (base !== 0) r.line = line
      out.push(r)
    }
  }
}
