/**
 * `--transport libp2p`: the same scenario over REAL libp2p nodes (node/transport's memory transport, gossipsub,
 * the direct update stream) in this process, with the same peers (PeerEngine, learner, sealed envelopes), on the
 * wall clock. Rounds are driven the same way: every peer begins its round, the run waits until deliveries stop,
 * then every peer ends its round and honest peers are evaluated. For up to about 50 peers; used to check that
 * the virtual network's results agree with a real network's.
 *
 * This is the only module of simulations/ that imports node/ (allowed for this fidelity mode only).
 */
import type { Clock, Incoming, MetricValues, PeerKey, RefusalReason, Transport } from '../protocol/interfaces.js'
import { createRng } from '../protocol/rng.js'
import { toHex, sha256 } from '../crypto/index.js'
import type { Scenario } from './scenario.js'
import { chooseAdversaries, type SimPeer } from './world.js'
import type { DecentralizedResult, RoundRecord } from './harness/coordinator.js'
import { consensusDistance, peerSummary } from './stats.js'

export class Libp2pModeError extends Error {
  static override name = 'Libp2pModeError'
  override name = 'Libp2pModeError'
}

export const MAX_LIBP2P_PEERS = 64

const wallClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, options = {}) => {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ms)
      options.signal?.addEventListener('abort', () => { clearTimeout(t); reject(options.signal?.reason) }, { once: true })
    })
  }
}

/** Wraps a transport to count what arrives (so the driver can wait until deliveries stop). */
function counting (inner: Transport, counter: { arrived: number, handled: number, refused: Record<string, number> }): Transport {
  return {
    get self () { return inner.self },
    get maxAnnounceBytes () { return inner.maxAnnounceBytes },
    neighbours: () => inner.neighbours(),
    send: async (peer, bytes, options) => { await inner.send(peer, bytes, options) },
    announce: async (bytes, options) => { await inner.announce(bytes, options) },
    onMessage: (handler) => {
      inner.onMessage(async (m: Incoming): Promise<RefusalReason | null> => {
        counter.arrived++
        try {
          const verdict = await handler(m)
          if (verdict != null) counter.refused[verdict] = (counter.refused[verdict] ?? 0) + 1
          return verdict
        } finally { counter.handled++ }
      })
    }
  }
}

export async function runOverLibp2p (scenario: Scenario, options: { metric: { name: string, higherIsBetter: boolean }, onRound?: (e: { round: number, rounds: number, mean: number | null, metric: string, elapsedMs: number }) => void, quietMs?: number }): Promise<DecentralizedResult> {
  if (scenario.peers > MAX_LIBP2P_PEERS) throw new Libp2pModeError(`--transport libp2p runs at most ${MAX_LIBP2P_PEERS} peers in one process (asked ${scenario.peers})`)
  const { createMemoryTransports } = await import('../node/transport/index.js')
  const peersModule = await import('./harness/peers.js')
  const keys = peersModule.peerKeys(scenario)
  const seeds = keys.map((_, i) => peersModule.identitySeed(scenario, i))
  const networkId = toHex(sha256(new TextEncoder().encode(`murmur-sim:${scenario.name}:${String(scenario.seed)}`)))
  const adversaries = chooseAdversaries(scenario)
  const transports = await createMemoryTransports(seeds, networkId, { targetPeers: Math.min(8, scenario.peers - 1) })
  const counter = { arrived: 0, handled: 0, refused: {} as Record<string, number> }
  const started = performance.now()
  try {
    for (let i = 0; i < keys.length; i++) {
      if (transports[i].self !== keys[i]) throw new Libp2pModeError(`libp2p peer ${i} has key ${transports[i].self.slice(0, 12)}, expected ${keys[i].slice(0, 12)}`)
    }
    const env = await peersModule.createPeerEnvironment({ scenario, keys, owned: keys.map((_, i) => i), adversaries, workerIndex: 0 })
    const root = createRng(scenario.seed)
    const peers: SimPeer[] = []
    for (let i = 0; i < keys.length; i++) {
      peers.push(await env.createPeer({
        index: i,
        key: keys[i],
        keys,
        transport: counting(transports[i], counter),
        clock: wallClock,
        rng: root.fork(`peer:${i}`),
        attack: adversaries.includes(i) ? scenario.adversaries.attack : null,
        scenario
      }))
    }
    const quietMs = options.quietMs ?? 300
    const rounds: RoundRecord[] = []
    let final: Array<[number, MetricValues]> = []
    let sent = 0
    for (let r = 0; r < scenario.rounds; r++) {
      const t0 = performance.now()
      const before = transports.reduce((s, t) => s + t.stats.bytesSent, 0)
      const refusedBefore = { ...counter.refused }
      for (const p of peers) await p.beginRound(r)
      // Wait until deliveries stop (nothing new for quietMs, everything arrived handled), at most 30 s.
      let last = -1
      const deadline = Date.now() + 30_000
      while (Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, quietMs))
        if (counter.arrived === last && counter.handled === counter.arrived) break
        last = counter.arrived
      }
      for (const p of peers) await p.endRound()
      const lastRound = r === scenario.rounds - 1
      const evaluations: Array<[number, MetricValues]> = []
      const weights: Float32Array[] = []
      for (let i = 0; i < peers.length; i++) {
        if (adversaries.includes(i)) continue
        if (lastRound || (r + 1) % scenario.evaluation.every === 0) evaluations.push([i, await peers[i].evaluate(lastRound ? 'final' : 'curve')])
        weights.push(peers[i].weights())
      }
      if (lastRound) final = evaluations
      const values = evaluations.map(([, m]) => m[options.metric.name]).filter((v): v is number => typeof v === 'number')
      const s = values.length > 0 ? peerSummary(values, options.metric.higherIsBetter) : null
      const cd = consensusDistance(weights)
      const bytes = transports.reduce((acc, t) => acc + t.stats.bytesSent, 0) - before
      sent += bytes
      const refused: Record<string, number> = {}
      for (const [k, v] of Object.entries(counter.refused)) if (v - (refusedBefore[k] ?? 0) > 0) refused[k] = v - (refusedBefore[k] ?? 0)
      rounds.push({
        round: r, peersActive: peers.length, peersOffline: 0, evaluated: evaluations.length > 0,
        mean: s?.mean ?? null, min: s?.min ?? null, p10: s?.p10 ?? null, spread: values.length > 0 ? Math.max(...values) - Math.min(...values) : null,
        consensusDistance: cd.rms, relativeConsensusDistance: cd.relative,
        bytesSent: bytes, bytesReceived: bytes, messagesLost: 0, messagesUnreachable: 0, messagesDropped: 0,
        refused, partitioned: false, wallMs: performance.now() - t0
      })
      options.onRound?.({ round: r, rounds: scenario.rounds, mean: s?.mean ?? null, metric: options.metric.name, elapsedMs: performance.now() - started })
    }
    void sent
    for (const p of peers) p.dispose?.()
    await env.close?.()
    return {
      scenario,
      keys,
      adversaries,
      stragglers: [],
      metric: options.metric,
      rounds,
      final,
      counters: transports.map((t, i) => [i, { bytesSent: t.stats.bytesSent, bytesReceived: 0, messagesSent: 0, messagesLost: 0, messagesUnreachable: 0, messagesDropped: 0 }]),
      refused: { ...counter.refused },
      trainingSteps: scenario.rounds * scenario.localSteps * scenario.peers,
      wallSeconds: (performance.now() - started) / 1000,
      busyMs: { begin: 0, deliver: 0, end: 0 },
      maxRssMiB: process.memoryUsage().rss / (1024 * 1024),
      workers: 0,
      // untilConverged is refused with this transport (scenario.ts): every round runs
      convergence: { cap: scenario.rounds, roundsRun: rounds.length, stoppedBy: 'cap', plateauAt: null, untilConverged: null }
    }
  } finally {
    await Promise.allSettled(transports.map(async (t) => { await t.stop() }))
  }
}
