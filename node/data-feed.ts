/**
 * Continuous learning: watches the peer's data file (appended rows) or data directory (new files) and hands
 * each new batch of complete records to a callback, with their file line numbers. Files are read through
 * the same record source as the initial load (learning/records: one parser, one set of rules), tailed by
 * byte position, so rows already read are never read twice; a partial last line waits for its newline.
 * Polls with fs.stat (reliable on every filesystem, unlike fs.watch).
 *
 * Bad rows follow one policy (`onBadRow`): 'skip' counts them (`badRows`: count, first examples and lines);
 * 'error' delivers the good rows before the first bad one, then stops reading that file (the error names
 * its line) so that a restart, which reads the file again, meets the same row with the same rule.
 */
import { open, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { BadRows, RecordSource, type BadRowPolicy, type BadRowReport, type RecordFormat, type SourcePosition } from '../learning/index.js'

/** What a batch comes with: its records' file lines, and the policy (and counter) its bad cells go through. */
export interface FeedBatch {
  lines: readonly number[]
  badRows: BadRows
}

export interface DataFeedInit {
  /** A file, or a directory whose files (sorted by name) are read as they appear. */
  path: string
  /** How records are split (the dataset spec's format); `delimiter` and `header` are shorthands for it. */
  format?: Partial<RecordFormat>
  delimiter?: string
  /** Whether each file starts with a header line (skipped). */
  header?: boolean
  /** What to do with a bad row (default 'error'). */
  onBadRow?: BadRowPolicy
  /** Read position per file at start (bytes already consumed), e.g. the initial load's; lines are counted. */
  initialOffsets?: Map<string, number>
  /** Read position per file at start, bytes and lines (wins over initialOffsets). */
  initialPositions?: Map<string, SourcePosition>
  pollMs?: number
  /** Most bytes read from one file per poll. */
  maxReadBytes?: number
  /**
   * Called with the new records of one file. Cell problems go through `batch.badRows` (a BadRowError it
   * throws under 'error' is the feed's to handle); other errors are reported through `onError`.
   */
  onRecords: (records: string[][], source: string, batch: FeedBatch) => void | Promise<void>
  onError?: (err: Error, source: string) => void
}

const MAX_READ_BYTES = 64 * 1024 * 1024

interface Tail { source: RecordSource | null, stopped: string | null }

export class DataFeed {
  private readonly tails = new Map<string, Tail>()
  private readonly bad: BadRows
  private timer: NodeJS.Timeout | null = null
  private polling: Promise<void> | null = null
  /** Records delivered since start. */
  delivered = 0

  constructor (private readonly init: DataFeedInit) {
    this.bad = new BadRows(init.onBadRow ?? 'error')
  }

  /** Bad appended rows: how many were skipped (or met, under 'error'), with the first few and their lines. */
  get badRows (): Readonly<BadRowReport> { return this.bad.report }

  /** Files whose reading stopped at a bad row (or cannot be tailed), with the reason. */
  get stopped (): Array<{ file: string, reason: string }> {
    return [...this.tails].filter(([, t]) => t.stopped != null).map(([file, t]) => ({ file, reason: t.stopped! }))
  }

  start (): void {
    if (this.timer != null) return
    this.timer = setInterval(() => { void this.poll() }, this.init.pollMs ?? 1000)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    if (this.timer != null) clearInterval(this.timer)
    this.timer = null
    await this.polling
  }

  /** Checks once for new rows (the timer calls this; tests may too). */
  async poll (): Promise<number> {
    if (this.polling != null) { await this.polling; return 0 }
    let n = 0
    this.polling = (async () => {
      const info = await stat(this.init.path).catch(() => null)
      if (info == null) return
      const files = info.isDirectory()
        ? (await readdir(this.init.path)).filter((f) => !f.startsWith('.') && /\.(csv|tsv|txt)$/i.test(f)).sort().map((f) => join(this.init.path, f))
        : [this.init.path]
      for (const file of files) n += await this.readNew(file)
    })()
    try { await this.polling } finally { this.polling = null }
    return n
  }

  /** The record source of a file, created at its initial position. */
  private async tailOf (file: string): Promise<Tail> {
    let tail = this.tails.get(file)
    if (tail != null) return tail
    tail = { source: null, stopped: null }
    this.tails.set(file, tail)
    const format = { ...this.init.format }
    if (this.init.delimiter != null) format.delimiter = this.init.delimiter
    if (this.init.header != null) format.header = this.init.header
    const offset = this.init.initialOffsets?.get(file)
    const start = this.init.initialPositions?.get(file) ?? (offset != null ? { offset, line: await linesBefore(file, offset) } : undefined)
    try {
      tail.source = new RecordSource({ path: file, format, start, badRows: this.bad })
    } catch (err) {
      this.halt(file, tail, `${file}: cannot read appended rows: ${(err as Error).message}`)
    }
    return tail
  }

  private halt (file: string, tail: Tail, reason: string): void {
    tail.stopped = reason
    this.init.onError?.(new Error(reason), file)
  }

  private async readNew (file: string): Promise<number> {
    const info = await stat(file).catch(() => null)
    if (info == null || !info.isFile()) return 0
    const tail = await this.tailOf(file)
    const source = tail.source
    if (source == null || tail.stopped != null) return 0
    if (info.size < source.position.offset) {
      this.init.onError?.(new Error(`${file} shrank from ${source.position.offset} to ${info.size} bytes; reading it from the start again is not done (rows would count twice): ignoring until it grows past ${source.position.offset}`), file)
      return 0
    }
    let n = 0
    try {
      for await (const batch of source.read({ maxBytes: this.init.maxReadBytes ?? MAX_READ_BYTES })) {
        n += await this.deliver(file, tail, batch.map((r) => r.fields), batch.map((r) => r.line))
        if (tail.stopped != null) break
      }
    } catch (err) {
      if ((err as Error).name !== 'BadRowError') throw err
      this.stopAt(file, tail, err as Error & { line: number })
    }
    return n
  }

  /** Hands one batch over; under 'error', a bad row's predecessors are delivered and the file stops there. */
  private async deliver (file: string, tail: Tail, records: string[][], lines: number[]): Promise<number> {
    try {
      await this.init.onRecords(records, file, { lines, badRows: this.bad })
      this.delivered += records.length
      return records.length
    } catch (err) {
      const e = err as Error & { line?: number }
      if (e.name !== 'BadRowError' || e.line == null) {
        this.init.onError?.(e, file)
        return 0
      }
      const good = lines.findIndex((l) => l >= e.line!)
      const n = good > 0 ? await this.deliver(file, tail, records.slice(0, good), lines.slice(0, good)) : 0
      this.stopAt(file, tail, e as Error & { line: number })
      return n
    }
  }

  private stopAt (file: string, tail: Tail, err: Error & { line: number }): void {
    if (tail.stopped != null) return
    this.bad.report.count++
    if (this.bad.report.lines.length < 10) { this.bad.report.lines.push(err.line); this.bad.report.examples.push(err.message) }
    this.halt(file, tail, `${err.message}: no more rows are read from this file; fix line ${err.line} and restart the daemon, or restart it with --on-bad-row skip`)
  }

  /** Bytes of a file consumed so far (the position after its last complete record). */
  offsetOf (file: string): number | undefined {
    return this.tails.get(file)?.source?.position.offset ?? this.init.initialOffsets?.get(file) ?? this.init.initialPositions?.get(file)?.offset
  }
}

/** Lines that end before byte `offset` of a file (its newlines there). */
async function linesBefore (file: string, offset: number): Promise<number> {
  if (offset === 0) return 0
  const fh = await open(file, 'r')
  try {
    const buf = Buffer.allocUnsafe(1 << 20)
    let lines = 0
    for (let pos = 0; pos < offset;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, offset - pos), pos)
      if (bytesRead === 0) break
      for (let i = buf.indexOf(10, 0); i >= 0 && i < bytesRead; i = buf.indexOf(10, i + 1)) lines++
      pos += bytesRead
    }
    return lines
  } finally { await fh.close() }
}
