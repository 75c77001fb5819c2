/**
 * The one parser of delimited text (CSV / TSV) in Murmur: every read of rows (a dataset's initial load, the
 * daemon's appended rows) goes through it, via `RecordSource`. It follows csv-parse's behaviour for the
 * options Murmur uses (quotes with doubled-quote escapes, quoted fields spanning lines, CRLF, relaxed quotes
 * inside unquoted fields, empty lines skipped, optional trim, delimiters of one or more characters), and a
 * property test checks it against csv-parse. It is several times faster than csv-parse (BENCHMARKS.md).
 *
 * Line numbers are physical lines: a record's `line` is the 1-based line on which it ends, counting every
 * newline, including those inside quoted fields and empty lines.
 */

export interface DelimitedOptions {
  delimiter: string
  /** Quote character, or null for none. */
  quote: string | null
  trim: boolean
}

export interface DelimitedRecord {
  fields: string[]
  /** 1-based line number where the record ends. */
  line: number
}

/** Malformed input (an unterminated quote at the end of the input). */
export class DelimitedSyntaxError extends Error {
  static override name = 'DelimitedSyntaxError'
  override name = 'DelimitedSyntaxError'
  constructor (message: string, readonly line: number) { super(message) }
}

export class DelimitedReader {
  private rest = ''
  /** Lines consumed so far. */
  private line = 0
  private readonly delimiter: string
  private readonly quote: string | null
  private readonly trim: boolean

  constructor (options: DelimitedOptions) {
    this.delimiter = options.delimiter
    this.quote = options.quote
    this.trim = options.trim
  }

  /** Feeds text; returns the complete records it contains. */
  push (text: string): DelimitedRecord[] {
    const s = this.rest.length > 0 ? this.rest + text : text
    const out: DelimitedRecord[] = []
    const consumed = this.scan(s, out)
    this.rest = s.slice(consumed)
    return out
  }

  /** Lines consumed so far (the line of the last record returned, or of a later empty line). */
  get lines (): number { return this.line }

  /** Text held back: the start of a record whose quoted field is not closed yet (or a line without its newline). */
  get pending (): string { return this.rest }

  /** The 1-based line on which the pending text starts. */
  get pendingLine (): number { return this.line + 1 }

  /**
   * Drops the first line of the pending text (a record that cannot be completed: an unterminated quote, or a
   * record over the caller's size limit) and returns the records that the rest of it completes.
   */
  dropPendingLine (): DelimitedRecord[] {
    const nl = this.rest.indexOf('\n')
    if (nl < 0) { this.rest = ''; return [] }
    this.line++
    const s = this.rest.slice(nl + 1)
    this.rest = ''
    return this.push(s)
  }

  /**
   * Ends the input: a last line without its newline becomes a record. Returns the records completed; an
   * unterminated quoted record stays `pending` (the caller reports it, or drops it with dropPendingLine).
   */
  finish (): DelimitedRecord[] {
    if (this.rest.length === 0 || this.rest.endsWith('\n')) return []
    const last = this.rest
    const out = this.push('\n')
    if (this.rest.length > 0) this.rest = last // unterminated: keep the text as it was
    return out
  }

  /** Ends the input; returns the last record(s); throws DelimitedSyntaxError on an unterminated quoted field. */
  end (): DelimitedRecord[] {
    const out = this.finish()
    if (this.rest.length > 0) throw new DelimitedSyntaxError(`unterminated quoted field starting on line ${this.pendingLine}`, this.pendingLine)
    return out
  }

  /** Parses complete records from s; returns the index after the last consumed character. */
  private scan (s: string, out: DelimitedRecord[]): number {
    const q = this.quote
    const d = this.delimiter
    let pos = 0
    for (;;) {
      const nl = s.indexOf('\n', pos)
      if (nl < 0) return pos
      let end = nl
      if (end > pos && s.charCodeAt(end - 1) === 13) end--
      if (q === null || s.indexOf(q, pos) < 0 || s.indexOf(q, pos) > end) {
        this.line++
        const text = s.slice(pos, end)
        if (text.length > 0 && !(this.trim && text.trim() === '')) {
          const fields = text.split(d)
          if (this.trim) {
            for (let i = 0; i < fields.length; i++) {
              const f = fields[i]
              if (f.length > 0 && (f.charCodeAt(0) <= 32 || f.charCodeAt(f.length - 1) <= 32)) fields[i] = f.trim()
            }
          }
          out.push({ fields, line: this.line })
        }
        pos = nl + 1
        continue
      }
      // Common case: quotes around whole fields, no delimiter, newline or lone quote inside.
      const simple = this.splitSimpleQuoted(s.slice(pos, end), q, d)
      if (simple != null) {
        this.line++
        out.push({ fields: simple, line: this.line })
        pos = nl + 1
        continue
      }
      // Quoted record: character-level state machine, possibly across lines.
      const r = this.parseQuoted(s, pos, q, d)
      if (r == null) return pos
      this.line += r.lines
      out.push({ fields: r.fields, line: this.line })
      pos = r.next
    }
  }

  /** Splits a one-line record whose quoted fields are simple; null when the full state machine is needed. */
  private splitSimpleQuoted (text: string, q: string, d: string): string[] | null {
    const fields = text.split(d)
    const qc = q.charCodeAt(0)
    for (let i = 0; i < fields.length; i++) {
      let f = fields[i]
      if (this.trim && f.length > 0 && (f.charCodeAt(0) <= 32 || f.charCodeAt(f.length - 1) <= 32)) f = f.trim()
      if (f.charCodeAt(0) === qc) {
        if (f.length < 2 || f.charCodeAt(f.length - 1) !== qc) return null
        f = f.slice(1, -1)
        if (f.includes(q)) {
          if (f.split(q + q).join('').includes(q)) return null
          f = f.split(q + q).join(q)
        }
      } else if (!this.trim && f.trimStart().charCodeAt(0) === qc) {
        return null
      }
      fields[i] = f
    }
    return fields
  }

  private parseQuoted (s: string, start: number, q: string, d: string): { fields: string[], next: number, lines: number } | null {
    const fields: string[] = []
    let i = start
    let lines = 0
    const n = s.length
    const dc = d.charCodeAt(0)
    const atDelim = d.length === 1 ? (k: number) => s.charCodeAt(k) === dc : (k: number) => s.startsWith(d, k)
    for (;;) {
      // at the start of a field
      let value: string
      let j = i
      if (this.trim) while (j < n && (s[j] === ' ' || s[j] === '\t') && !atDelim(j)) j++
      if (s[j] === q) {
        let buf = ''
        let k = j + 1
        for (;;) {
          const e = s.indexOf(q, k)
          if (e < 0) return null
          buf += s.slice(k, e)
          if (s[e + 1] === q) { buf += q; k = e + 2; continue }
          k = e + 1
          break
        }
        for (let c = j + 1; c < k; c++) if (s.charCodeAt(c) === 10) lines++
        // after the closing quote: skip to the delimiter or end of line (relaxed: keep stray characters)
        let m = k
        while (m < n && !atDelim(m) && s[m] !== '\n' && s[m] !== '\r') m++
        const tail = s.slice(k, m)
        value = tail.trim() === '' ? buf : buf + (this.trim ? tail.trim() : tail)
        i = m
        fields.push(value)
      } else {
        let m = j
        while (m < n && !atDelim(m) && s[m] !== '\n' && s[m] !== '\r') m++
        value = s.slice(i, m)
        i = m
        fields.push(this.trim ? value.trim() : value)
      }
      if (i >= n) return null
      if (atDelim(i)) { i += d.length; continue }
      if (s[i] === '\r') i++
      if (s[i] === '\n') { return { fields, next: i + 1, lines: lines + 1 } }
      if (i >= n) return null
    }
  }
}
