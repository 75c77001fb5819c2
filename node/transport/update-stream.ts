/**
 * Framing of `/murmur/update/1.0.0`: one message per stream, length-prefixed and chunked, bounded.
 *
 *   request:  lp(header)  lp(chunk) ... lp(chunk)      header = version u8 (1), kind u8 (0), 0, 0, total u32 BE
 *   reply:    lp(verdict)                              empty = accepted, otherwise the RefusalReason in UTF-8
 *
 * The receiver checks the declared total against its limit BEFORE allocating, allocates once, and refuses a
 * stream that sends more or fewer bytes than it declared. Every read has a timeout and the whole message a
 * deadline (ReadTimeoutError), so a stalled sender cannot pin its buffer. The reply is written only after the
 * handler returns, so an acknowledged message has been processed (and, in the daemon, committed to the store).
 */
import * as lp from 'it-length-prefixed'
import type { Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { RefusalReason, REFUSAL_REASONS } from '../../protocol/interfaces.js'

export const FRAME_VERSION = 1
const HEADER_BYTES = 8
/** Largest chunk a receiver accepts, whatever the sender's chunk size. */
export const MAX_CHUNK_BYTES = 1024 * 1024
const MAX_VERDICT_BYTES = 64
/** What a refused stream may still send before it is reset (its verdict is written at once). */
const REFUSED_DISCARD_BYTES = 64 * 1024

export class StreamProtocolError extends Error {
  static override name = 'StreamProtocolError'
  override name = 'StreamProtocolError'
  constructor (message: string, readonly reason: RefusalReason = RefusalReason.MALFORMED) { super(message) }
}

/** The sender sent no frame within the read timeout, or did not finish within the message deadline. */
export class ReadTimeoutError extends StreamProtocolError {
  static override name = 'ReadTimeoutError'
  override name = 'ReadTimeoutError'
  constructor (message: string) { super(message, RefusalReason.BUSY) }
}

export class RemoteRefusedError extends Error {
  static override name = 'RemoteRefusedError'
  override name = 'RemoteRefusedError'
  constructor (readonly reason: RefusalReason) { super(`the remote peer refused the message: ${reason}`) }
}

async function write (stream: Stream, data: Uint8Array | Uint8ArrayList, signal?: AbortSignal): Promise<void> {
  if (!stream.send(data)) await stream.onDrain({ signal })
}

/** The first frame's body: version, kind, and the message's total length (the receiver allocates it). */
export function frameHeader (total: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES)
  h[0] = FRAME_VERSION
  new DataView(h.buffer).setUint32(4, total, false)
  return h
}

/** Writes one message in chunks (waiting for drain), then closes the writable end. */
export async function writeMessage (stream: Stream, bytes: Uint8Array, chunkBytes: number, signal?: AbortSignal): Promise<void> {
  if (chunkBytes < 1 || chunkBytes > MAX_CHUNK_BYTES) throw new RangeError(`chunkBytes must be within 1..${MAX_CHUNK_BYTES}`)
  await write(stream, lp.encode.single(frameHeader(bytes.length)), signal)
  for (let off = 0; off < bytes.length; off += chunkBytes) {
    signal?.throwIfAborted()
    await write(stream, lp.encode.single(bytes.subarray(off, Math.min(bytes.length, off + chunkBytes))), signal)
  }
  await stream.close({ signal })
}

type FrameIterator = AsyncIterator<Uint8ArrayList>

function frames (stream: Stream, maxDataLength: number): FrameIterator {
  return lp.decode(stream, { maxDataLength })[Symbol.asyncIterator]()
}

export interface ReadOptions {
  /** Longest wait for one frame (ms; default none). */
  readTimeoutMs?: number
  /** Longest time for the whole message (ms; default none). */
  deadlineMs?: number
  signal?: AbortSignal
}

/** The next frame, or ReadTimeoutError when none comes within `ms` or before `deadline` (epoch ms). */
async function nextFrame (it: FrameIterator, options: ReadOptions, deadline: number, off: number): Promise<IteratorResult<Uint8ArrayList>> {
  options.signal?.throwIfAborted()
  const wait = Math.min(options.readTimeoutMs ?? Infinity, deadline - Date.now())
  if (wait === Infinity && options.signal == null) return await it.next()
  if (wait <= 0) throw new ReadTimeoutError(`message not complete within ${options.deadlineMs ?? 0} ms (${off} bytes read)`)
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  try {
    return await new Promise<IteratorResult<Uint8ArrayList>>((resolve, reject) => {
      if (wait !== Infinity) {
        timer = setTimeout(() => {
          const what = wait === options.readTimeoutMs ? `no frame within ${wait} ms` : `message not complete within ${options.deadlineMs ?? 0} ms`
          reject(new ReadTimeoutError(`${what} (${off} bytes read)`))
        }, wait)
      }
      if (options.signal != null) {
        const signal = options.signal
        onAbort = () => { reject(signal.reason) }
        signal.addEventListener('abort', onAbort, { once: true })
      }
      it.next().then(resolve, reject)
    })
  } finally {
    if (timer != null) clearTimeout(timer)
    if (onAbort != null) options.signal?.removeEventListener('abort', onAbort)
  }
}

/**
 * Reads one message, bounded by `maxBytes`. Throws StreamProtocolError (reason OVERSIZED or MALFORMED) on a
 * bad frame, ReadTimeoutError when the sender stalls (the caller aborts the stream). Returns the iterator's
 * owner nothing else: the caller writes the verdict next.
 */
export async function readMessage (stream: Stream, maxBytes: number, options: ReadOptions = {}): Promise<Uint8Array> {
  const it = frames(stream, MAX_CHUNK_BYTES)
  const deadline = options.deadlineMs != null ? Date.now() + options.deadlineMs : Infinity
  const next = async (off: number, what: string): Promise<IteratorResult<Uint8ArrayList>> => {
    try { return await nextFrame(it, options, deadline, off) } catch (err) {
      if (err instanceof StreamProtocolError || options.signal?.aborted === true) throw err
      throw new StreamProtocolError(`bad ${what}: ${(err as Error).message}`)
    }
  }
  const first = await next(0, 'header frame')
  if (first.done === true) throw new StreamProtocolError('stream ended before the header')
  const h = first.value.subarray()
  if (h.length !== HEADER_BYTES || h[0] !== FRAME_VERSION || h[1] !== 0) throw new StreamProtocolError('unsupported or malformed header', h[0] !== FRAME_VERSION ? RefusalReason.UNSUPPORTED_VERSION : RefusalReason.MALFORMED)
  const total = new DataView(h.buffer, h.byteOffset, h.byteLength).getUint32(4, false)
  if (total > maxBytes) throw new StreamProtocolError(`declared ${total} bytes, limit ${maxBytes}`, RefusalReason.OVERSIZED)
  const out = new Uint8Array(total)
  let off = 0
  while (off < total) {
    const frame = await next(off, 'chunk')
    if (frame.done === true) throw new StreamProtocolError(`stream ended after ${off} of ${total} bytes`)
    const chunk = frame.value
    if (off + chunk.byteLength > total) throw new StreamProtocolError(`more bytes than the declared ${total}`, RefusalReason.LENGTH_MISMATCH)
    for (const part of chunk) { out.set(part, off); off += part.byteLength }
  }
  return out
}

export async function writeVerdict (stream: Stream, reason: RefusalReason | null, signal?: AbortSignal): Promise<void> {
  await write(stream, lp.encode.single(reason == null ? new Uint8Array(0) : new TextEncoder().encode(reason)), signal)
  await stream.close({ signal })
}

/**
 * Answers `reason` without reading the body: what the sender still sends is dropped, and the stream is reset
 * past REFUSED_DISCARD_BYTES or after `readTimeoutMs` (yamux cannot stop a sender otherwise). A small message
 * still gets its verdict.
 */
export function refuseUnread (stream: Stream, reason: RefusalReason, readTimeoutMs: number, sendTimeoutMs: number): void {
  let dropped = 0
  stream.addEventListener('message', (evt) => {
    dropped += evt.data.byteLength
    if (dropped > REFUSED_DISCARD_BYTES) stream.abort(new StreamProtocolError(`refused (${reason}) stream kept sending`, reason))
  })
  const timer = setTimeout(() => { stream.abort(new StreamProtocolError(`refused (${reason}) stream not closed`, reason)) }, readTimeoutMs)
  stream.addEventListener('close', () => { clearTimeout(timer) }, { once: true })
  writeVerdict(stream, reason, AbortSignal.timeout(sendTimeoutMs)).catch((err: Error) => { stream.abort(err) })
}

/** Reads the receiver's verdict: null when accepted. */
export async function readVerdict (stream: Stream): Promise<RefusalReason | null> {
  const it = frames(stream, MAX_VERDICT_BYTES)
  let next: IteratorResult<Uint8ArrayList>
  try { next = await it.next() } catch (err) { throw new StreamProtocolError(`bad verdict frame: ${(err as Error).message}`) }
  if (next.done === true) throw new StreamProtocolError('the remote closed the stream without a verdict')
  if (next.value.byteLength === 0) return null
  const text = new TextDecoder().decode(next.value.subarray())
  const reason = REFUSAL_REASONS.find((r) => r === text)
  if (reason == null) throw new StreamProtocolError(`unknown verdict from the remote: ${text.slice(0, 64)}`)
  return reason
}
