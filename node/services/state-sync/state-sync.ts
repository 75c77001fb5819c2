/**
 * State sync: the node's half of protocol/engine/state-sync.ts. Serving: a connected member that opens a stream
 * on STATE_PROTOCOL gets this peer's current model as one sealed, signed envelope (at most one answer per member
 * per STATE_ANSWER_INTERVAL_MS; non-members are refused). Asking: every STATE_CHECK_MS, while the engine wants
 * state, up to STATE_ASK_PEERS connected members are asked at once (waiting up to STATE_WAIT_FOR_MORE_MS for
 * STATE_MIN_ANSWERS of them to be connected), each answer bounded by the network's largest envelope and timed
 * out, and the answers go to the engine, which checks each one and adopts their robust choice.
 */
import type { PeerId, Stream } from '@libp2p/interface'
import type { PeerEngine, StateResponse, StateSyncResult } from '../../../protocol/engine/index.js'
import { peerKeyFromPeerId } from '../../transport/index.js'
import { readMessage, writeMessage } from '../../transport/update-stream.js'
import type { ServiceNetwork } from '../../transport/service-network.js'
import type { Logger } from '../../logger.js'
import type { Startable } from '../types.js'
import {
  STATE_ANSWER_INTERVAL_MS, STATE_ASK_PEERS, STATE_CHECK_MS, STATE_CHUNK_BYTES, STATE_DEADLINE_MS, STATE_MAX_STREAMS,
  STATE_MIN_ANSWERS, STATE_PROTOCOL, STATE_READ_TIMEOUT_MS, STATE_WAIT_FOR_MORE_MS
} from './constants.js'

export interface StateSyncInit {
  /** Largest answer accepted (the network's largest envelope: the transport's message limit). */
  maxBytes: number
  checkMs?: number
  askPeers?: number
  minAnswers?: number
  waitForMoreMs?: number
  readTimeoutMs?: number
}

export interface StateSyncComponents {
  network: Pick<ServiceNetwork, 'handle' | 'unhandle' | 'dialProtocol' | 'connections' | 'started'>
  engine: Pick<PeerEngine, 'wantsState' | 'stateEnvelope' | 'adoptState'>
  keyring: { isMember: (peerKey: string) => boolean }
  logger: Logger
}

/** What `/status` shows of state sync. */
export interface StateSyncStatus {
  wanted: boolean
  /** The last attempt's outcome, when there was one. */
  last: (StateSyncResult & { at: string, asked: number }) | null
  adoptions: number
  answered: number
}

export class StateSyncService implements Startable {
  private controller = new AbortController()
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private wantedSince: number | null = null
  private readonly answeredAt = new Map<string, number>()
  private last: StateSyncStatus['last'] = null
  private adoptions = 0
  private answered = 0

  constructor (private readonly init: StateSyncInit, private readonly c: StateSyncComponents) {}

  async start (options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    if (this.timer != null) return
    this.controller = new AbortController()
    await this.c.network.handle(STATE_PROTOCOL, (stream, connection) => { void this.serve(stream, connection.remotePeer) },
      { maxInboundStreams: STATE_MAX_STREAMS, maxOutboundStreams: STATE_MAX_STREAMS })
    this.timer = setInterval(() => { this.tick() }, this.init.checkMs ?? STATE_CHECK_MS)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    if (this.timer == null) return
    clearInterval(this.timer)
    this.timer = null
    this.controller.abort(new Error('state sync stopped'))
    await this.running
    await this.c.network.unhandle(STATE_PROTOCOL).catch(() => {})
  }

  status (): StateSyncStatus {
    return { wanted: this.c.engine.wantsState, last: this.last, adoptions: this.adoptions, answered: this.answered }
  }

  /** One look: ask when the engine wants state and no attempt is running (attempts never overlap). */
  private tick (): void {
    if (this.running != null || !this.c.network.started) return
    if (!this.c.engine.wantsState) { this.wantedSince = null; return }
    this.wantedSince ??= Date.now()
    this.running = this.attempt().catch((err: Error) => {
      if (!this.controller.signal.aborted) this.c.logger.warn({ err: err.message }, 'state sync attempt failed (will retry)')
    }).finally(() => { this.running = null })
  }

  private members (): PeerId[] {
    const seen = new Map<string, PeerId>()
    for (const conn of this.c.network.connections()) {
      const key = peerKeyFromPeerId(conn.remotePeer)
      if (key != null && this.c.keyring.isMember(key)) seen.set(key, conn.remotePeer)
    }
    return [...seen.values()]
  }

  private async attempt (): Promise<void> {
    const members = this.members()
    const minAnswers = this.init.minAnswers ?? STATE_MIN_ANSWERS
    const waited = Date.now() - (this.wantedSince ?? Date.now())
    if (members.length === 0) return
    if (members.length < minAnswers && waited < (this.init.waitForMoreMs ?? STATE_WAIT_FOR_MORE_MS)) return
    const asked = members.slice(0, this.init.askPeers ?? STATE_ASK_PEERS)
    const signal = this.controller.signal
    const settled = await Promise.allSettled(asked.map(async (peer) => await this.fetch(peer, signal)))
    const responses: StateResponse[] = []
    settled.forEach((s, i) => {
      if (s.status === 'fulfilled') responses.push(s.value)
      else this.c.logger.debug({ peer: asked[i].toString(), err: (s.reason as Error).message }, 'no state answer from member')
    })
    signal.throwIfAborted()
    const result = await this.c.engine.adoptState(responses, { signal })
    this.last = { ...result, at: new Date().toISOString(), asked: asked.length }
    if (result.adopted) this.adoptions++
    else if (result.reason === 'no-valid-answer') this.c.logger.warn({ asked: asked.length, answers: responses.length, refused: result.refused }, 'behind the network, but no member sent a valid state (will retry)')
  }

  private async fetch (peer: PeerId, signal: AbortSignal): Promise<StateResponse> {
    const key = peerKeyFromPeerId(peer)
    if (key == null) throw new Error('peer id without a Murmur key')
    const s = AbortSignal.any([signal, AbortSignal.timeout(STATE_DEADLINE_MS)])
    const stream = await this.c.network.dialProtocol(peer, STATE_PROTOCOL, { signal: s })
    try {
      const bytes = await readMessage(stream, this.init.maxBytes, { readTimeoutMs: this.init.readTimeoutMs ?? STATE_READ_TIMEOUT_MS, deadlineMs: STATE_DEADLINE_MS, signal: s })
      await stream.close().catch(() => {})
      return { from: key, bytes }
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  private async serve (stream: Stream, remote: PeerId): Promise<void> {
    try {
      const key = peerKeyFromPeerId(remote)
      if (key == null || !this.c.keyring.isMember(key)) throw new Error('state requested by a non-member')
      const now = Date.now()
      if (now - (this.answeredAt.get(key) ?? -Infinity) < STATE_ANSWER_INTERVAL_MS) throw new Error('state requested again too soon')
      this.answeredAt.set(key, now)
      if (this.answeredAt.size > 4096) this.answeredAt.delete(this.answeredAt.keys().next().value as string)
      const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(STATE_DEADLINE_MS)])
      const bytes = await this.c.engine.stateEnvelope({ signal })
      await writeMessage(stream, bytes, STATE_CHUNK_BYTES, signal)
      this.answered++
    } catch (err) {
      stream.abort(err as Error)
    }
  }
}
