import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse as parseSync } from 'csv-parse/sync'
import { BadRows, RecordSource, DelimitedReader, type SourceRecord } from '../../learning/records/index.js'
import { loadDatasetFromSpec, type DatasetSpecInput } from '../../learning/index.js'

const dir = mkdtempSync(join(tmpdir(), 'murmur-records-'))
after(() => { rmSync(dir, { recursive: true, force: true }) })
let k = 0
const file = (text: string): string => { const p = join(dir, `r${k++}.csv`); writeFileSync(p, text); return p }

async function readAll (source: RecordSource, final = false): Promise<SourceRecord[]> {
  const out: SourceRecord[] = []
  for await (const batch of source.read({ final })) out.push(...batch)
  return out
}
const cells = (rs: SourceRecord[]): Array<[number, string[]]> => rs.map((r) => [r.line, r.fields])

test('file line numbers across appends, empty lines, CRLF and a partial last line completed later', async () => {
  const path = file('a,b\n1,2\n\n3,4\n')
  const source = new RecordSource({ path })
  assert.deepEqual(cells(await readAll(source)), [[2, ['1', '2']], [4, ['3', '4']]], 'lines count the header and the empty line')
  assert.deepEqual(source.header, ['a', 'b'], 'the header is read once')
  appendFileSync(path, '5,6\r\n7,')
  assert.deepEqual(cells(await readAll(source)), [[5, ['5', '6']]], 'CRLF record on line 5; the partial line waits')
  assert.deepEqual(source.position, { offset: 18, line: 5 }, 'the position stops before the partial line')
  appendFileSync(path, '8\n')
  assert.deepEqual(cells(await readAll(source)), [[6, ['7', '8']]], 'the partial line, completed, is line 6')
  assert.deepEqual(await readAll(source), [], 'nothing is read twice')
  const resumed = new RecordSource({ path, start: { offset: 18, line: 5 } })
  assert.deepEqual(cells(await readAll(resumed)), [[6, ['7', '8']]], 'a new source resumes from a position with the right line')
})

test('quoted fields spanning lines keep the file line numbers (the record ends on its last line)', async () => {
  const path = file('"x\ny",1\r\n2,"a ""b"""\n')
  const source = new RecordSource({ path, format: { header: false } })
  assert.deepEqual(cells(await readAll(source, true)), [[2, ['x\ny', '1']], [3, ['2', 'a "b"']]], 'quoted newline counted')
})

test('an open quoted field waits in a growing file, and is a bad row at the start line of a complete one', async () => {
  const path = file('h\n1\n"open\n2\n')
  const growing = new RecordSource({ path })
  assert.deepEqual(cells(await readAll(growing)), [[2, ['1']]], 'the open record waits')
  assert.deepEqual(growing.position, { offset: 4, line: 2 }, 'the position stays before the open record')
  await assert.rejects(readAll(new RecordSource({ path }), true), (e: Error & { line: number }) => e.name === 'BadRowError' && e.line === 3 && /unterminated/.test(e.message))
  const bad = new BadRows('skip')
  const skip = new RecordSource({ path, badRows: bad })
  assert.deepEqual(cells(await readAll(skip, true)), [[2, ['1']], [4, ['2']]], 'under skip, the lines after the bad one are read again')
  assert.deepEqual(bad.report.lines, [3], 'the bad row is counted with its line')
})

test('a record over the size limit is a bad row, and the good rows after it are kept', async () => {
  const path = file('h\n1\n"' + 'z'.repeat(300) + '\n2\n3\n')
  const bad = new BadRows('skip')
  const source = new RecordSource({ path, badRows: bad, maxRecordBytes: 64 })
  assert.deepEqual(cells(await readAll(source)), [[2, ['1']], [4, ['2']], [5, ['3']]], 'lines 2, 4 and 5 survive')
  assert.equal(bad.report.count, 1, 'one bad row')
  assert.equal(bad.report.lines[0], 3, 'at line 3')
  const long = file('h\n' + '9'.repeat(300))
  const bad2 = new BadRows('skip')
  const growing = new RecordSource({ path: long, badRows: bad2, maxRecordBytes: 64 })
  assert.deepEqual(await readAll(growing), [], 'a line over the limit is not held while it waits for its newline')
  appendFileSync(long, '999\n4\n')
  assert.deepEqual(cells(await readAll(growing)), [[3, ['4']]], 'its end is dropped, the next line is read')
  assert.deepEqual(bad2.report.lines, [2], 'and named by its line')
})

test('delimiters of several characters agree with csv-parse', () => {
  const text = 'a||b||c\n"x||y"||"q""r"||3\n\n1||2||\n'
  const expected = parseSync(text, { delimiter: '||', relax_column_count: true, relax_quotes: true, skip_empty_lines: true, trim: true }) as string[][]
  const reader = new DelimitedReader({ delimiter: '||', quote: '"', trim: true })
  const got = [...reader.push(text.slice(0, 9)), ...reader.push(text.slice(9)), ...reader.end()].map((r) => r.fields)
  assert.deepEqual(got, expected, 'same cells as csv-parse')
})

const spec = (path: string, extra: Partial<DatasetSpecInput> = {}): DatasetSpecInput => ({
  name: 'r', file: path, testFraction: 0, columns: [{ name: 'y', role: 'label', kind: 'numeric' }, { name: 'x', role: 'numeric', mean: 0, std: 1 }], ...extra
})

test('a growing load leaves the partial last line for the appended rows, and a restart reads what the running dataset holds', async () => {
  const path = file('y,x\n1,10\n2,20\n3,3')
  const d = await loadDatasetFromSpec(spec(path, { onBadRow: 'skip' }), { growing: true })
  assert.equal(d.size, 2, 'the partial last line is not read')
  assert.deepEqual(d.loadedPosition, { offset: 14, line: 3 }, 'the load stops before it')
  appendFileSync(path, '0\n4,oops\n5,50\n')
  const bad = new BadRows('skip')
  const tail = new RecordSource({ path, start: d.loadedPosition!, badRows: bad })
  for await (const batch of tail.read()) d.appendRecords(batch.map((r) => r.fields), { source: tail.file, lines: batch.map((r) => r.line), badRows: bad })
  assert.deepEqual(Array.from(d.x.subarray(0, d.size)), [10, 20, 30, 50], 'the completed line and the good row after the bad one are kept')
  assert.deepEqual(bad.report.lines, [5], 'the bad appended row is named by its file line')
  assert.match(bad.report.examples[0], /line 5, column x: 'oops' is not a number/, 'with its column and problem')
  const restarted = await loadDatasetFromSpec(spec(path, { onBadRow: 'skip' }), { growing: true })
  assert.deepEqual(Array.from(restarted.x.subarray(0, restarted.size)), [10, 20, 30, 50], 'a restart reads the same rows')
  assert.deepEqual(restarted.badRows.lines, [5], 'and skips the same bad row')
})

test('onBadRow skip of every row is a clear error, not a TypeError', async () => {
  const path = file('y,x\n1,a\n2,b\n')
  await assert.rejects(loadDatasetFromSpec(spec(path, { onBadRow: 'skip' })), (e: Error) =>
    e.name === 'EmptyDatasetError' && /every row of r\d+\.csv was skipped/.test(e.message) && /line 2, column x/.test(e.message))
})
