/**
 * Continuous learning: watches the peer's data file (appended rows) or data directory (new files) and hands
 * each new batch of complete CSV records to a callback. Files are tailed by byte offset, so rows already
 * read are never read twice; a partial last line waits for its newline. Polls with fs.stat (reliable on
 * every filesystem, unlike fs.watch).
 */
import { open, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'

export interface DataFeedInit {
  /** A file, or a directory whose files (sorted by name) are read as they appear. */
  path: string
  delimiter?: string
  /** Whether each file starts with a header line (skipped). */
  header?: boolean
  /** Read position per file at start (bytes already consumed), e.g. the initial load's size. */
  initialOffsets?: Map<string, number>
  pollMs?: number
  /** Called with the new records of one file; throwing stops nothing, it is reported through `onError`. */
  onRecords: (records: string[][], source: string) => void | Promise<void>
  onError?: (err: Error, source: string) => void
}

const MAX_READ_BYTES = 64 * 1024 * 1024

export class DataFeed {
  private readonly offsets: Map<string, number>
  private readonly partial = new Map<string, string>()
  private timer: NodeJS.Timeout | null = null
  private polling: Promise<void> | null = null
  /** Records delivered since start. */
  delivered = 0

  constructor (private readonly init: DataFeedInit) {
    this.offsets = new Map(init.initialOffsets ?? [])
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

  private async readNew (file: string): Promise<number> {
    const info = await stat(file).catch(() => null)
    if (info == null || !info.isFile()) return 0
    const known = this.offsets.has(file)
    let offset = this.offsets.get(file) ?? 0
    if (info.size < offset) {
      this.init.onError?.(new Error(`${file} shrank from ${offset} to ${info.size} bytes; reading it from the start again is not done (rows would count twice): ignoring until it grows past ${offset}`), file)
      return 0
    }
    if (info.size === offset) return 0
    const length = Math.min(info.size - offset, MAX_READ_BYTES)
    const fh = await open(file, 'r')
    let text: string
    try {
      const buf = Buffer.alloc(length)
      const { bytesRead } = await fh.read(buf, 0, length, offset)
      text = (this.partial.get(file) ?? '') + buf.subarray(0, bytesRead).toString('utf8')
      offset += bytesRead
    } finally { await fh.close() }
    this.offsets.set(file, offset)
    const lastNl = text.lastIndexOf('\n')
    if (lastNl < 0) { this.partial.set(file, text); return 0 }
    this.partial.set(file, text.slice(lastNl + 1))
    let complete = text.slice(0, lastNl + 1)
    if (!known && this.init.header !== false) {
      // a new file: its first line is the header
      const firstNl = complete.indexOf('\n')
      complete = complete.slice(firstNl + 1)
    }
    if (complete.trim() === '') return 0
    let records: string[][]
    try {
      records = parse(complete, { delimiter: this.init.delimiter ?? ',', relax_column_count: true, skip_empty_lines: true, trim: true }) as string[][]
    } catch (err) {
      this.init.onError?.(new Error(`${file}: cannot parse the appended rows: ${(err as Error).message}`), file)
      return 0
    }
    try {
      await this.init.onRecords(records, file)
      this.delivered += records.length
    } catch (err) {
      this.init.onError?.(err as Error, file)
      return 0
    }
    return records.length
  }

  offsetOf (file: string): number | undefined { return this.offsets.get(file) }
}
