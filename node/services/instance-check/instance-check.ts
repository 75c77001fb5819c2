/**
 * The instance check service (index.ts says what and why). Bounded: requests and answers are at most
 * INSTANCE_MAX_BYTES of JSON, every exchange times out, at most INSTANCE_MAX_PER_PEER instances are kept per
 * peer and they count for INSTANCE_SEEN_MS after their last answer.
 */
import { randomBytes } from 'node:crypto'
import type { PeerId, Stream, Startable } from '@libp2p/interface'
import { z } from 'zod'
import type { Logger } from '../../logger.js'
import type { ServiceConnection, ServiceNetwork } from '../../transport/service-network.js'
import { readMessage, writeMessage } from '../../transport/update-stream.js'
import { INSTANCE_CHECK_MS, INSTANCE_MAX_BYTES, INSTANCE_MAX_PER_PEER, INSTANCE_PROTOCOL, INSTANCE_SEEN_MS, INSTANCE_TIMEOUT_MS } from './constants.js'

export interface InstanceCheckInit {
  checkMs?: number
  now?: () => number
}

export interface InstanceCheckComponents {
  network: Pick<ServiceNetwork, 'handle' | 'unhandle' | 'connections'>
  logger: Logger
}

const instanceId = z.string().regex(/^[0-9a-f]{32}$/)
const requestSchema = z.object({ seen: z.array(instanceId).max(INSTANCE_MAX_PER_PEER) }).strict()
const answerSchema = z.object({ instance: instanceId }).strict()

export interface InstanceCheckStats {
  /** Exchanges answered by a peer, and asked of us. */
  asked: number
  answered: number
  /** Peers seen answering from two or more instances (receiver side). */
  membersInTwoProcesses: number
  /** Times a peer told us it saw another instance with our identity. */
  clashes: number
}

export class InstanceCheckService implements Startable {
  /** This process's instance: random, not from the seed (two copies of one datadir share the seed). */
  readonly instance = randomBytes(16).toString('hex')
  readonly stats: InstanceCheckStats = { asked: 0, answered: 0, membersInTwoProcesses: 0, clashes: 0 }
  /** The last time a peer told us another process uses our identity (ms), or null. */
  clashAt: number | null = null
  private readonly seen = new Map<string, Map<string, number>>()
  private readonly warnedPeers = new Set<string>()
  private timer: ReturnType<typeof setInterval> | null = null
  private controller = new AbortController()
  private running: Promise<void> | null = null
  private readonly now: () => number

  constructor (private readonly init: InstanceCheckInit, private readonly c: InstanceCheckComponents) {
    this.now = init.now ?? Date.now
  }

  async start (options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    if (this.timer != null) return
    this.controller = new AbortController()
    await this.c.network.handle(INSTANCE_PROTOCOL, (stream, connection) => { void this.serve(stream, connection.remotePeer) }, { maxInboundStreams: 4, maxOutboundStreams: 4 })
    this.timer = setInterval(() => { this.tick() }, this.init.checkMs ?? INSTANCE_CHECK_MS)
    this.timer.unref()
    this.tick()
  }

  async stop (): Promise<void> {
    if (this.timer == null) return
    clearInterval(this.timer)
    this.timer = null
    this.controller.abort(new Error('instance check stopped'))
    await this.running
    await this.c.network.unhandle(INSTANCE_PROTOCOL).catch(() => {})
  }

  /** The instances seen recently for `peer` (its id string). */
  instancesOf (peer: string): string[] {
    const m = this.seen.get(peer)
    if (m == null) return []
    const now = this.now()
    for (const [id, at] of m) if (now - at > INSTANCE_SEEN_MS) m.delete(id)
    return [...m.keys()]
  }

  private tick (): void {
    if (this.running != null) return
    this.running = this.checkAll().catch(() => {}).finally(() => { this.running = null })
  }

  /** Asks every connection (all of them: two connections of one peer id may be two processes). */
  async checkAll (): Promise<void> {
    await Promise.allSettled(this.c.network.connections().map(async (conn) => { await this.ask(conn) }))
    for (const [peer] of this.seen) {
      const instances = this.instancesOf(peer)
      if (instances.length < 2) { this.warnedPeers.delete(peer); continue }
      if (this.warnedPeers.has(peer)) continue
      this.warnedPeers.add(peer)
      this.stats.membersInTwoProcesses++
      this.c.logger.warn({ peer, instances: instances.length }, 'a member answers from two processes with one identity (a copied datadir?): both are told')
    }
  }

  private async ask (conn: ServiceConnection): Promise<void> {
    if (conn.newStream == null) return
    const peer = conn.remotePeer.toString()
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(INSTANCE_TIMEOUT_MS)])
    const stream = await conn.newStream(INSTANCE_PROTOCOL, { signal })
    try {
      await writeMessage(stream, new TextEncoder().encode(JSON.stringify({ seen: this.instancesOf(peer).slice(0, INSTANCE_MAX_PER_PEER) })), INSTANCE_MAX_BYTES, signal)
      const bytes = await readMessage(stream, INSTANCE_MAX_BYTES, { readTimeoutMs: INSTANCE_TIMEOUT_MS, deadlineMs: INSTANCE_TIMEOUT_MS, signal })
      const answer = answerSchema.parse(JSON.parse(new TextDecoder().decode(bytes)))
      await stream.close().catch(() => {})
      this.stats.asked++
      let m = this.seen.get(peer)
      if (m == null) {
        m = new Map()
        this.seen.set(peer, m)
        if (this.seen.size > 4_096) this.seen.delete(this.seen.keys().next().value as string)
      }
      m.delete(answer.instance)
      m.set(answer.instance, this.now())
      if (m.size > INSTANCE_MAX_PER_PEER) m.delete(m.keys().next().value as string)
    } catch (err) {
      stream.abort(err as Error)
    }
  }

  private async serve (stream: Stream, remote: PeerId): Promise<void> {
    try {
      const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(INSTANCE_TIMEOUT_MS)])
      const bytes = await readMessage(stream, INSTANCE_MAX_BYTES, { readTimeoutMs: INSTANCE_TIMEOUT_MS, deadlineMs: INSTANCE_TIMEOUT_MS, signal })
      const request = requestSchema.parse(JSON.parse(new TextDecoder().decode(bytes)))
      await writeMessage(stream, new TextEncoder().encode(JSON.stringify({ instance: this.instance })), INSTANCE_MAX_BYTES, signal)
      this.stats.answered++
      if (request.seen.some((id) => id !== this.instance)) {
        const first = this.clashAt == null || this.now() - this.clashAt > INSTANCE_SEEN_MS
        this.clashAt = this.now()
        this.stats.clashes++
        if (first) {
          this.c.logger.warn({ peer: remote.toString() },
            'IDENTITY_IN_USE: another process is using this identity (a member sees two processes with this key). Stop the other copy; a copy that must go on needs its own identity (murmur init) added to the manifest')
        }
      }
    } catch (err) {
      stream.abort(err as Error)
    }
  }
}
