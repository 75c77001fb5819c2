import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { loadDataset, type DatasetSpecInput } from '../../learning/index.js'
import { IdxSource, parseIdxHeader } from '../../learning/records/index.js'

const dir = mkdtempSync(join(tmpdir(), 'murmur-idx-'))
after(() => { rmSync(dir, { recursive: true, force: true }) })

/** An idx file: magic 0x0000{type}{ndims}, big-endian dims, then the cells big-endian. */
function idx (type: number, dims: number[], cells: number[]): Buffer {
  const size = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 }[type]!
  const buf = Buffer.alloc(4 + 4 * dims.length + cells.length * size)
  buf[2] = type; buf[3] = dims.length
  dims.forEach((d, i) => buf.writeUInt32BE(d, 4 + 4 * i))
  const o = 4 + 4 * dims.length
  cells.forEach((v, i) => {
    if (type === 0x08) buf.writeUInt8(v, o + i)
    else if (type === 0x09) buf.writeInt8(v, o + i)
    else if (type === 0x0b) buf.writeInt16BE(v, o + 2 * i)
    else if (type === 0x0c) buf.writeInt32BE(v, o + 4 * i)
    else if (type === 0x0d) buf.writeFloatBE(v, o + 4 * i)
    else buf.writeDoubleBE(v, o + 8 * i)
  })
  return buf
}
const put = (name: string, data: Buffer): string => { const p = join(dir, name); writeFileSync(p, data); return p }

// 5 images of 2 x 3 pixels (unsigned bytes), pixel j of image i = 50 i + j; labels 0..4 mod 3
const PIXELS = Array.from({ length: 30 }, (_, k) => 50 * Math.floor(k / 6) + (k % 6))
const LABELS = [0, 1, 2, 0, 1]
const images = put('train-images-idx3-ubyte.gz', gzipSync(idx(0x08, [5, 2, 3], PIXELS)))
const labels = put('train-labels-idx1-ubyte', idx(0x08, [5], LABELS))
const spec = (extra: Partial<DatasetSpecInput> = {}): DatasetSpecInput => ({
  name: 'tiny-fashion',
  format: 'idx',
  file: images,
  labelFile: labels,
  testFraction: 0,
  columns: [
    { name: 'px', range: [0, 5], role: 'numeric', scale: 1 / 255, standardize: false },
    { name: 'label', index: 6, role: 'label', kind: 'classes', classes: ['0', '1', '2'] }
  ],
  ...extra
})

test('format idx: gzip images with a label file load as pixel features and classes', async () => {
  const d = await loadDataset(spec())
  assert.equal(d.size, 5, 'five items')
  assert.equal(d.numFeatures, 6, '2 x 3 pixels')
  assert.deepEqual(Array.from(d.y), LABELS, 'labels in item order')
  assert.deepEqual(Array.from(d.x.subarray(6, 12), (v) => Math.round(v * 255)), [50, 51, 52, 53, 54, 55], 'item 2, row-major, scaled by 1/255')
  assert.equal(d.loadedPosition, null, 'an idx file is not tailed')
  const few = await loadDataset(spec({ maxRows: 2 }))
  assert.equal(few.size, 2, 'maxRows reads the first items only')
})

test('format idx: a separate test file with its labels; uncompressed; other cell types', async () => {
  const testImages = put('t10k-images-idx3-ubyte', idx(0x08, [2, 2, 3], PIXELS.slice(0, 12)))
  const testLabels = put('t10k-labels-idx1-ubyte.gz', gzipSync(idx(0x08, [2], [2, 2])))
  const d = await loadDataset(spec({ testFile: testImages, testLabelFile: testLabels }))
  assert.deepEqual([d.train.length, d.test.length], [5, 2], 'the test file is the test split')
  assert.deepEqual(Array.from(d.test, (r) => d.y[r]), [2, 2], 'its labels')
  // float and signed cells, two dimensions, no label file: the label is a cell of the item
  const floats = put('floats.idx', idx(0x0d, [3, 2], [0.5, 1, -1.25, 0, 2, 1]))
  const r = await loadDataset({ format: 'idx', file: floats, testFraction: 0, columns: [{ name: 'x', role: 'numeric', standardize: false }, { name: 'y', role: 'label', kind: 'numeric' }] })
  assert.deepEqual(Array.from(r.x), [0.5, -1.25, 2], 'float cells')
  assert.deepEqual(Array.from(r.y), [1, 0, 1], 'the second cell is the label')
  for (const [type, values] of [[0x09, [-3, 7]], [0x0b, [-300, 30000]], [0x0c, [-70000, 123456789]], [0x0e, [1e-300, -2.5]]] as Array<[number, number[]]>) {
    const src = new IdxSource({ path: put(`t${type}.idx`, idx(type, [2], values)) })
    const got: number[] = []
    for await (const batch of src.read()) for (const rec of batch) got.push(Number(rec.fields[0]))
    assert.deepEqual(got, values, `type 0x${type.toString(16)} read big-endian`)
  }
})

const unsupported = (pattern: RegExp) => (err: Error) => {
  assert.equal(err.name, 'UnsupportedFormatError', `a named error, got ${err.name}: ${err.message}`)
  assert.match(err.message, pattern, 'says what is wrong with which file')
  return true
}

test('malformed idx files are UnsupportedFormatErrors naming the file', async () => {
  const whole = idx(0x08, [5, 2, 3], PIXELS)
  await assert.rejects(loadDataset(spec({ file: put('cut.idx', whole.subarray(0, whole.length - 4)) })), unsupported(/cut\.idx: truncated: the header gives 5 items of 6 unsigned byte cells, the file holds 4 and 2 more bytes/))
  await assert.rejects(loadDataset(spec({ file: put('long.idx', Buffer.concat([whole, Buffer.alloc(6)])) })), unsupported(/long\.idx: bytes after the 5 items/))
  await assert.rejects(loadDataset(spec({ labelFile: put('l4.idx', idx(0x08, [4], [0, 1, 2, 0])) })), unsupported(/5 items but the label file l4\.idx has 4 labels/))
  await assert.rejects(loadDataset(spec({ file: put('magic.idx', Buffer.from('a,b\n1,2\n')) })), unsupported(/magic\.idx: not an idx file/))
  assert.throws(() => parseIdxHeader(Buffer.from([0, 0, 0x07, 1, 0, 0, 0, 1]), 'x'), unsupported(/type code 0x07/))
  assert.throws(() => parseIdxHeader(Buffer.from([0, 0, 0x08, 9]), 'x'), unsupported(/9 dimensions/))
  assert.throws(() => parseIdxHeader(Buffer.from([0, 0, 0x08, 3, 0, 0, 0, 1, 0, 0, 0x10, 0, 0, 0, 0x10, 1]), 'x'), unsupported(/exceed the limit/))
  assert.equal(parseIdxHeader(Buffer.from([0, 0, 0x08, 2, 0, 0]), 'x'), null, 'a header cut short waits for more bytes')
})

test('an idx file read as CSV, or another binary file, says so instead of a first bad row', async () => {
  const csvSpec = (file: string): DatasetSpecInput => ({ file, columns: [{ name: 'px', range: [0, 5], role: 'numeric' }, { name: 'label', index: 6, role: 'label', kind: 'numeric' }], format: { header: false } })
  await assert.rejects(loadDataset(csvSpec(images)), unsupported(/train-images-idx3-ubyte\.gz: an idx file \(5 x 2 x 3\), not delimited text: set the dataset's format to "idx"/))
  await assert.rejects(loadDataset(csvSpec(put('data.parquet', Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(20)])))), unsupported(/unsupported format: a parquet file/))
  await assert.rejects(loadDataset(csvSpec(put('book.xlsx', Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(20)])))), unsupported(/unsupported format: a zip archive or spreadsheet/))
  await assert.rejects(loadDataset(csvSpec(put('u16.csv', Buffer.from('\ufeffa,b\n1,2\n', 'utf16le')))), unsupported(/UTF-16/))
})

test('spec validation: an unknown format names the field; label files only for idx', async () => {
  const invalid = (field: string, pattern: RegExp) => (err: Error & { field: string }) => {
    assert.equal(err.name, 'InvalidSpecError', 'a spec error')
    assert.equal(err.field, field, 'names the field')
    assert.match(err.message, pattern, 'says why')
    return true
  }
  await assert.rejects(loadDataset(spec({ format: 'parquet' as never })), invalid('dataset.format.type', /unsupported format 'parquet' \(one of csv, tsv, idx\)/))
  await assert.rejects(loadDataset(spec({ format: 'csv' })), invalid('dataset.labelFile', /only for format 'idx'/))
  await assert.rejects(loadDataset(spec({ testFile: images })), invalid('dataset.testLabelFile', /labels for both files or neither/))
})
