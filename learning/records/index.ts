/**
 * Records of delimited files: one parser (`DelimitedReader`), one source of records with file line numbers
 * for the initial load and for appended rows (`RecordSource`), and one bad-row policy (`BadRows`); records of
 * idx files (`IdxSource`, MNIST's binary arrays); a look at a file's first bytes (`checkDelimitedText`).
 *
 * @example
 * ```ts
 * import { RecordSource, BadRows } from './learning/records/index.js'
 *
 * const bad = new BadRows('skip')
 * const source = new RecordSource({ path: 'claims.csv', format: { delimiter: ',' }, badRows: bad })
 * for await (const batch of source.read({ final: false })) for (const r of batch) console.log(r.line, r.fields)
 * // later, after rows were appended: the same source goes on from source.position
 * for await (const batch of source.read()) console.log(batch.length)
 * console.log(bad.report)                         // { count, examples, lines }
 * ```
 */
export { DelimitedReader, DelimitedSyntaxError, type DelimitedOptions, type DelimitedRecord } from './reader.js'
export { RecordSource, DEFAULT_RECORD_FORMAT, type RecordFormat, type RecordSourceInit, type ReadOptions, type SourcePosition, type SourceRecord } from './source.js'
export { BadRows, RowProblem, emptyBadRowReport, type BadRowPolicy, type BadRowReport } from './bad-rows.js'
export { IdxSource, parseIdxHeader, readIdxValues, type IdxHeader, type IdxSourceInit } from './idx.js'
export { checkDelimitedText, peekBytes } from './sniff.js'
export * as recordDefaults from './constants.js'
