/**
 * A look at a data file's first bytes before it is read as delimited text: a binary file (an idx file, a
 * spreadsheet, parquet, UTF-16 text) is an UnsupportedFormatError saying what it seems to be, instead of a
 * first bad row such as `'...' is not a number`.
 */
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { basename } from 'node:path'
import { createGunzip } from 'node:zlib'
import { UnsupportedFormatError } from '../errors.js'
import { parseIdxHeader } from './idx.js'

/** The first bytes of a file, through gunzip when it starts with the gzip magic bytes. */
export async function peekBytes (path: string, count: number): Promise<Buffer> {
  const fh = await open(path, 'r')
  let head: Buffer
  try {
    const buf = Buffer.alloc(2)
    const { bytesRead } = await fh.read(buf, 0, 2, 0)
    head = buf.subarray(0, bytesRead)
  } finally { await fh.close() }
  const stream = head.length === 2 && head[0] === 0x1f && head[1] === 0x8b
    ? createReadStream(path).pipe(createGunzip())
    : createReadStream(path)
  const parts: Buffer[] = []
  let got = 0
  try {
    for await (const c of stream) {
      parts.push(c as Buffer); got += (c as Buffer).length
      if (got >= count) break
    }
  } catch {
    // a corrupt gzip stream: what was read is all there is to look at
  } finally { stream.destroy() }
  return Buffer.concat(parts).subarray(0, count)
}

/** Throws UnsupportedFormatError when the file (gunzipped) does not start as text. */
export async function checkDelimitedText (path: string): Promise<void> {
  const head = await peekBytes(path, 512)
  if (!head.includes(0)) return
  const file = basename(path)
  let idx: string | null = null
  try {
    const h = parseIdxHeader(head, file)
    if (h != null) idx = `${h.dims.join(' x ')}`
  } catch { /* not idx */ }
  if (idx != null) throw new UnsupportedFormatError(file, `an idx file (${idx}), not delimited text: set the dataset's format to "idx" (with labelFile for its labels)`)
  const magic = head.subarray(0, 4).toString('latin1')
  const kind = magic === 'PAR1' ? 'a parquet file' : magic.startsWith('PK') ? 'a zip archive or spreadsheet (.xlsx)' : head[0] === 0xff || head[0] === 0xfe || head[1] === 0 ? 'UTF-16 text or another binary format (save it as UTF-8 CSV)' : 'a binary file'
  throw new UnsupportedFormatError(file, `unsupported format: ${kind}; Murmur reads delimited text (csv, tsv) and idx files`)
}
