/**
 * The fault harness's links: one loopback TCP proxy in front of each member, so that links can be cut and
 * healed without root (this kernel has no netem; namespaces need root). A proxy may also delay what it forwards
 * (`delayMs`, one way: half the link's RTT; link-shape.ts). Member `i` listens on a port of its
 * own, announces only its proxy's address (`--announce`), and dials from its own loopback IP
 * (`--dial-from 127.0.0.<10+i>`), so each proxy knows which member a connection comes from.
 *
 * A cut link behaves as a dead network path, not as a refusal: open connections across it are destroyed, and
 * new ones are accepted and then left silent (the dialer sees a hang until its own timeout). Healing forwards
 * new connections again; the held ones are closed.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'
import { delayedPipe } from './link-shape.js'

/** The loopback IP member `i` dials from. */
export const memberIp = (i: number): string => `127.0.0.${10 + i}`

/** The member a source IP belongs to, or null (the harness itself, an outsider). */
export const memberOf = (ip: string | undefined): number | null => {
  const m = /^(?:::ffff:)?127\.0\.0\.(\d+)$/.exec(ip ?? '')
  if (m == null) return null
  const n = Number(m[1]) - 10
  return n >= 0 ? n : null
}

export class LinkProxy {
  private server: Server | null = null
  private readonly blocked = new Set<number>()
  private readonly live = new Map<Socket, { from: number | null, upstream: Socket | null }>()
  /** Connections forwarded, and connections held silent on a cut link. */
  readonly stats = { forwarded: 0, held: 0 }
  port = 0

  /**
   * `upstream()`: the member's current listen port (it changes when the member restarts); `delayMs`: how long
   * each forwarded chunk is held, in each direction (0: forwarded at once).
   */
  constructor (private readonly upstream: () => number | null, private readonly options: { delayMs?: number } = {}) {}

  async start (): Promise<number> {
    // no Nagle delay on either leg: the daemons' sockets disable it, and a proxy that re-enabled it would add up to
    // a delayed-ACK interval (40 ms on Linux) to every small exchange, which no real path of this RTT has
    const server = createServer({ noDelay: true }, (socket) => { this.accept(socket) })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve() })
    })
    const address = server.address()
    this.port = typeof address === 'object' && address != null ? address.port : 0
    return this.port
  }

  /** The multiaddr peers reach this member by. */
  multiaddr (peerId: string): string { return `/ip4/127.0.0.1/tcp/${this.port}/p2p/${peerId}` }

  /** Cuts the links from these members: their open connections die, new ones hang. */
  cut (members: Iterable<number>): void {
    for (const m of members) this.blocked.add(m)
    for (const [socket, c] of this.live) if (c.from != null && this.blocked.has(c.from)) this.drop(socket)
  }

  /** Heals every cut link: held connections are closed (their dialers retry), new ones are forwarded. */
  heal (): void {
    this.blocked.clear()
    for (const [socket, c] of this.live) if (c.upstream == null) this.drop(socket)
  }

  private accept (socket: Socket): void {
    const from = memberOf(socket.remoteAddress)
    const entry: { from: number | null, upstream: Socket | null } = { from, upstream: null }
    this.live.set(socket, entry)
    socket.on('error', () => {})
    socket.once('close', () => { this.live.delete(socket); entry.upstream?.destroy() })
    const port = this.upstream()
    if ((from != null && this.blocked.has(from)) || port == null) {
      // a dead path: nothing is forwarded and nothing answered
      this.stats.held++
      socket.pause()
      return
    }
    this.stats.forwarded++
    const up = connect({ host: '127.0.0.1', port, noDelay: true })
    entry.upstream = up
    up.on('error', () => { socket.destroy() })
    up.once('close', () => { socket.destroy() })
    const delayMs = this.options.delayMs ?? 0
    if (delayMs > 0) {
      delayedPipe(socket, up, delayMs)
      delayedPipe(up, socket, delayMs)
    } else {
      socket.pipe(up)
      up.pipe(socket)
    }
  }

  private drop (socket: Socket): void {
    const c = this.live.get(socket)
    c?.upstream?.destroy()
    socket.destroy()
    this.live.delete(socket)
  }

  async close (): Promise<void> {
    for (const socket of [...this.live.keys()]) this.drop(socket)
    const server = this.server
    this.server = null
    if (server != null) await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  }
}
