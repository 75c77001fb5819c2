/**
 * The one bad-row policy of every read of rows: 'error' stops at the first bad row with a BadRowError naming
 * the file, line and column; 'skip' counts it and keeps the first few examples and line numbers.
 */
import { BadRowError } from '../errors.js'
import { BAD_ROW_EXAMPLES } from './constants.js'

export type BadRowPolicy = 'error' | 'skip'

/** A problem with one cell of a record, thrown by row handlers; `BadRows.apply` turns it into a bad row. */
export class RowProblem extends Error {
  static override name = 'RowProblem'
  override name = 'RowProblem'
  constructor (readonly column: string, readonly problem: string) { super(`column ${column}: ${problem}`) }
}

/** Bad rows met so far: how many, and the first few (`file: line N, column C: problem`) with their lines. */
export interface BadRowReport { count: number, examples: string[], lines: number[] }

export function emptyBadRowReport (): BadRowReport { return { count: 0, examples: [], lines: [] } }

export class BadRows {
  readonly report: BadRowReport

  constructor (readonly policy: BadRowPolicy, report: BadRowReport = emptyBadRowReport()) {
    this.report = report
  }

  /** Records one bad row: throws BadRowError under 'error'; counts it under 'skip'. */
  add (file: string, line: number, column: string, problem: string): void {
    if (this.policy === 'error') throw new BadRowError(file, line, column, problem)
    const r = this.report
    r.count++
    if (r.examples.length < BAD_ROW_EXAMPLES) {
      r.examples.push(`${file}: line ${line}, column ${column}: ${problem}`)
      r.lines.push(line)
    }
  }

  /** Runs `fn` for the record on `line` of `file`; a RowProblem it throws becomes a bad row (returns false). */
  apply (file: string, line: number, fn: () => void): boolean {
    try {
      fn()
      return true
    } catch (err) {
      if (!(err instanceof RowProblem)) throw err
      this.add(file, line, err.column, err.problem)
      return false
    }
  }
}
