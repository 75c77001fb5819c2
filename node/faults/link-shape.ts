/**
 * Link conditions for the fault harness's proxies: round-trip delay and packet loss, so that faults can be run
 * over a path like a wide-area one (the "about 100 ms RTT, 2% loss") on one machine. This kernel has no
 * netem, so:
 *
 * - **Delay** is added by the proxy itself (`delayedPipe`): every chunk it forwards is held for half the RTT in
 *   each direction, in order, so a request and its answer cross the link in one RTT.
 * - **Loss** is real packet loss on the proxy's TCP connections: an iptables chain of our own on the loopback
 *   interface drops every n-th packet to or from each proxy port (n = round(1 / loss); the `nth` mode, so runs
 *   are deterministic, where `random` would draw from the kernel). TCP then retransmits, as over a lossy path.
 *   It needs root and the iptables command (.ci/run installs it); `PacketLoss.unavailable()` says why not.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { Socket } from 'node:net'

const exec = promisify(execFile)

/** A bad or unavailable link condition (`--link-rtt`, `--link-loss`, or a fault file's `rttMs` / `loss`). */
export class LinkShapeError extends Error {
  static override name = 'LinkShapeError'
  override name = 'LinkShapeError'
}

export interface LinkShape {
  /** Round-trip delay added by each proxy, in ms (half each way). */
  rttMs: number
  /** Share of packets dropped on each proxy's connections, in [0, 0.5]. */
  loss: number
}

/** The most bytes a delayed direction holds before it stops reading its source (backpressure). */
export const DELAY_HIGH_WATER_BYTES = 4 * 1024 * 1024

/** Checks a link shape's numbers; `where` names the flag or field in errors. */
export function checkLinkShape (shape: Partial<LinkShape>, where: { rtt: string, loss: string } = { rtt: '--link-rtt', loss: '--link-loss' }): LinkShape {
  const rttMs = shape.rttMs ?? 0
  const loss = shape.loss ?? 0
  if (!Number.isFinite(rttMs) || rttMs < 0 || rttMs > 10_000) throw new LinkShapeError(`${where.rtt}: a round-trip time in ms from 0 to 10000 (got ${String(shape.rttMs)})`)
  if (!Number.isFinite(loss) || loss < 0 || loss > 0.5) throw new LinkShapeError(`${where.loss}: a share of packets from 0 to 0.5, e.g. 0.02 for 2% (got ${String(shape.loss)})`)
  return { rttMs, loss }
}

/**
 * Forwards `from` to `to`, each chunk `delayMs` after it arrived, in order. Stops reading `from` while more than
 * DELAY_HIGH_WATER_BYTES wait; ends `to` once `from` has ended and everything held was written.
 */
export function delayedPipe (from: Socket, to: Socket, delayMs: number): void {
  const queue: Array<{ at: number, chunk: Buffer }> = []
  let queued = 0
  let timer: NodeJS.Timeout | null = null
  let ended = false
  const flush = (): void => {
    timer = null
    const now = Date.now()
    while (queue.length > 0 && queue[0].at <= now) {
      const { chunk } = queue.shift() as { at: number, chunk: Buffer }
      queued -= chunk.length
      if (!to.destroyed) to.write(chunk)
    }
    if (queued <= DELAY_HIGH_WATER_BYTES && from.isPaused() && !from.destroyed) from.resume()
    if (queue.length > 0) timer = setTimeout(flush, Math.max(0, queue[0].at - now))
    else if (ended && !to.destroyed) to.end()
  }
  from.on('data', (chunk: Buffer) => {
    queue.push({ at: Date.now() + delayMs, chunk })
    queued += chunk.length
    if (queued > DELAY_HIGH_WATER_BYTES) from.pause()
    if (timer == null) timer = setTimeout(flush, delayMs)
  })
  from.once('end', () => {
    ended = true
    if (queue.length === 0 && timer == null && !to.destroyed) to.end()
  })
  const stop = (): void => { if (timer != null) clearTimeout(timer); timer = null; queue.length = 0 }
  from.once('close', () => { if (queue.length === 0) stop() })
  to.once('close', stop)
}

/** Packet loss on the loopback interface for a set of proxy ports, through an iptables chain of its own. */
export class PacketLoss {
  private constructor (readonly chain: string, readonly every: number) {}

  /** Why packet loss cannot be applied here, or null when it can (root and an iptables that works). */
  static async unavailable (): Promise<string | null> {
    if (process.getuid?.() !== 0) return 'packet loss needs root (iptables)'
    try {
      await exec('iptables', ['-w', '-L', 'INPUT', '-n'])
      return null
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      return e.code === 'ENOENT' ? 'packet loss needs the iptables command (apt-get install iptables)' : `iptables does not work here: ${(e.message ?? '').split('\n')[0]}`
    }
  }

  /** Drops every n-th packet (n = round(1 / loss)) to and from each port on `lo`; `close()` removes the chain. */
  static async start (ports: number[], loss: number): Promise<PacketLoss> {
    const why = await PacketLoss.unavailable()
    if (why != null) throw new LinkShapeError(`--link-loss ${loss}: ${why}`)
    const every = Math.max(2, Math.round(1 / loss))
    const p = new PacketLoss(`MURMUR_LOSS_${process.pid}`, every)
    const ipt = async (...args: string[]): Promise<void> => { await exec('iptables', ['-w', ...args]) }
    await ipt('-N', p.chain)
    try {
      for (const port of ports) {
        for (const dir of ['--dport', '--sport']) {
          await ipt('-A', p.chain, '-p', 'tcp', dir, String(port), '-m', 'statistic', '--mode', 'nth', '--every', String(every), '--packet', '0', '-j', 'DROP')
        }
      }
      await ipt('-I', 'INPUT', '-i', 'lo', '-j', p.chain)
    } catch (err) {
      await p.close()
      throw new LinkShapeError(`--link-loss ${loss}: iptables refused a rule: ${(err as Error).message.split('\n')[0]}`)
    }
    return p
  }

  /** Packets dropped so far (the chain's DROP counters). */
  async dropped (): Promise<number> {
    try {
      const r = await exec('iptables', ['-w', '-L', this.chain, '-n', '-v', '-x'])
      return r.stdout.split('\n').filter((l) => /\bDROP\b/.test(l)).reduce((n, l) => n + Number(l.trim().split(/\s+/)[0] ?? 0), 0)
    } catch { return 0 }
  }

  async close (): Promise<void> {
    const quiet = async (...args: string[]): Promise<void> => { await exec('iptables', ['-w', ...args]).catch(() => undefined) }
    await quiet('-D', 'INPUT', '-i', 'lo', '-j', this.chain)
    await quiet('-F', this.chain)
    await quiet('-X', this.chain)
  }
}
