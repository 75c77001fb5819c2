/**
 * Adversaries for the simulator, plugged into honest peer code through the engine's behaviour seam
 * (`Behaviour` in protocol/engine/types.ts). Each attack rewrites what a peer sends; `label-flip` poisons the
 * peer's data instead (the learner trains on flipped labels) and sends honestly-computed updates.
 *
 * | kind          | what the attacker sends                                                                 |
 * |---------------|-----------------------------------------------------------------------------------------|
 * | sign-flip     | ref - scale * (honest - ref), ref = mean of the models it received (0 before any)       |
 * | noise         | honest + N(0, sigma^2) on every weight                                                  |
 * | alie          | mean - z * std of the models it sees (Baruch et al. 2019), z from n and f by default     |
 * | ipm           | -epsilon * mean of the models it sees (Xie, Koyejo and Gupta 2020)                       |
 * | label-flip    | an honest update trained on flipped labels (class c -> C-1-c)                           |
 * | dissensus     | to each neighbour i: x_i - epsilon * (mean - x_i), pushing i away from consensus (He et al. 2022) |
 * | replay        | from its second round on, old signed envelopes again instead of new ones (refused REPLAYED) |
 * | equivocation  | two different envelopes with the same sequence number to every recipient (EQUIVOCATION)  |
 * | scale         | honest * factor (default 1e29): one finite, signed, absurdly large model                 |
 * | weight        | -honest, claiming weight `value` (default 1e30) and the largest example count, to dominate merges |
 * | flood         | `perSecond` extra messages a second to each neighbour: fresh signed copies of its update, a `junk` fraction of random bytes (RATE_LIMITED, MALFORMED) |
 * | half-streams  | daemon only (node/attack.ts): `count` update streams to each neighbour, part of a message each, never finished; the simulator refuses it (no streams) |
 *
 * @example
 * ```ts
 * const behaviour = createBehaviour({ kind: 'sign-flip', scale: 1000 }, { peers: 100, adversaries: 20 })
 * peerEngine(init)({ ...components, behaviour })
 * ```
 */
import type { Behaviour, BehaviourContext, OutgoingUpdate } from '../../protocol/engine/types.js'
import { ScenarioError, type AttackSpec } from '../scenario.js'
import { alieZ, meanOf, stdOf } from './math.js'

export { alieZ, meanOf, stdOf, normalQuantile } from './math.js'

export interface AttackContext {
  /** Peers in the network. */
  peers: number
  /** Byzantine peers in the network. */
  adversaries: number
  /** Length of a round (ms): the simulator's `network.roundMs`, the daemon's round interval. */
  roundMs?: number
  /** A clock (ms) for rates in real time (the daemon); without it a round lasts `roundMs`. */
  now?: () => number
}

export const DEFAULT_ATTACK_PARAMS = {
  signFlipScale: 1000,
  noiseSigma: 10,
  ipmEpsilon: 0.5,
  dissensusEpsilon: 1.5,
  scaleFactor: 1e29,
  weightValue: 1e30,
  floodPerSecond: 50,
  floodJunk: 0,
  halfStreams: 64,
  roundMs: 1000
} as const

/** The models an attacker sees this round: its own honest one and the last one from each neighbour. */
function observed (ctx: BehaviourContext): Float32Array[] {
  const out = [ctx.honest]
  for (const key of [...ctx.received.keys()].sort()) {
    const r = ctx.received.get(key)
    if (r != null && r.weights.length === ctx.honest.length) out.push(r.weights)
  }
  return out
}

function received (ctx: BehaviourContext): Float32Array[] {
  return [...ctx.received.keys()].sort().map((k) => ctx.received.get(k)?.weights).filter((w): w is Float32Array => w != null && w.length === ctx.honest.length)
}

function replaceWeights (update: OutgoingUpdate, weights: Float32Array): OutgoingUpdate {
  return { ...update, weights }
}

export function signFlip (scale: number): Behaviour {
  return {
    name: `sign-flip x${scale}`,
    outgoing: (update, ctx) => {
      const seen = received(ctx)
      const ref = seen.length > 0 ? meanOf(seen, ctx.honest.length) : new Float32Array(ctx.honest.length)
      const w = new Float32Array(ctx.honest.length)
      for (let j = 0; j < w.length; j++) w[j] = ref[j] - scale * (update.weights[j] - ref[j])
      return replaceWeights(update, w)
    }
  }
}

export function noise (sigma: number): Behaviour {
  return {
    name: `noise sigma=${sigma}`,
    outgoing: (update, ctx) => {
      const w = new Float32Array(update.weights.length)
      for (let j = 0; j < w.length; j++) w[j] = update.weights[j] + sigma * ctx.rng.normal()
      return replaceWeights(update, w)
    }
  }
}

export function alie (z: number): Behaviour {
  return {
    name: `alie z=${z.toFixed(2)}`,
    outgoing: (update, ctx) => {
      const models = observed(ctx)
      const mu = meanOf(models, ctx.honest.length)
      const sd = stdOf(models, mu)
      const w = new Float32Array(mu.length)
      for (let j = 0; j < w.length; j++) w[j] = mu[j] - z * sd[j]
      return replaceWeights(update, w)
    }
  }
}

export function ipm (epsilon: number): Behaviour {
  return {
    name: `ipm epsilon=${epsilon}`,
    outgoing: (update, ctx) => {
      const mu = meanOf(observed(ctx), ctx.honest.length)
      const w = new Float32Array(mu.length)
      for (let j = 0; j < w.length; j++) w[j] = -epsilon * mu[j]
      return replaceWeights(update, w)
    }
  }
}

export function dissensus (epsilon: number): Behaviour {
  return {
    name: `dissensus epsilon=${epsilon}`,
    outgoing: (update, ctx) => {
      const mu = meanOf(observed(ctx), ctx.honest.length)
      return update.to.map((peer, k) => {
        const target = ctx.received.get(peer)?.weights ?? ctx.honest
        const w = new Float32Array(mu.length)
        for (let j = 0; j < w.length; j++) w[j] = target[j] - epsilon * (mu[j] - target[j])
        return { ...update, to: [peer], seq: k === 0 ? update.seq : ctx.nextSeq(), weights: w }
      })
    }
  }
}

export function replay (): Behaviour {
  return {
    name: 'replay',
    outgoing: (update, ctx) => (ctx.sentLog.length === 0 ? update : []),
    afterSend: async (ctx) => {
      const old = ctx.sentLog.at(-1)
      if (old == null || old.round === ctx.round) return
      for (const peer of ctx.neighbours) {
        try { await ctx.send(peer, old.bytes) } catch {}
      }
    }
  }
}

export function equivocation (): Behaviour {
  return {
    name: 'equivocation',
    outgoing: (update) => {
      const flipped = new Float32Array(update.weights.length)
      for (let j = 0; j < flipped.length; j++) flipped[j] = -update.weights[j]
      // Same seq, different content, to every recipient: each receiver sees both and refuses the second.
      return [update, { ...update, weights: flipped }]
    }
  }
}

export function scale (factor: number): Behaviour {
  return {
    name: `scale x${factor}`,
    outgoing: (update) => replaceWeights(update, Float32Array.from(update.weights, (v) => v * factor))
  }
}

/** A wrong model (the negated honest one) with an inflated mass and example count, to take over every merge. */
export function weight (value: number): Behaviour {
  return {
    name: `weight ${value}`,
    // the header carries the example count as a uint32: the largest it can claim
    outgoing: (update) => ({ ...update, weight: value, examples: Math.min(Math.floor(value), 0xffff_ffff), weights: Float32Array.from(update.weights, (v) => -v) })
  }
}

/**
 * After each round's sends, `perSecond` x (time since the last round) extra messages to every neighbour: valid
 * envelopes (this round's update again, each with a fresh sequence number, so no replay guard stops them) and,
 * for a `junk` fraction, random bytes the size of an envelope. Receivers refuse what is past the rule's rate
 * per round (RATE_LIMITED) and the junk (MALFORMED); the daemon's transport also limits messages per second.
 */
export function flood (perSecond: number, junk: number, clock: { roundMs: number, now?: () => number }): Behaviour {
  let last: OutgoingUpdate | null = null
  let lastAt: number | null = null
  let owed = 0
  return {
    name: `flood ${perSecond}/s${junk > 0 ? ` (${Math.round(junk * 100)}% junk)` : ''}`,
    outgoing: (update) => { last = update; return update },
    afterSend: async (ctx, options) => {
      const now = clock.now?.()
      const elapsed = now != null && lastAt != null ? Math.min(now - lastAt, 10 * clock.roundMs) : clock.roundMs
      if (now != null) lastAt = now
      owed += perSecond * elapsed / 1000
      const n = Math.floor(owed)
      owed -= n
      const update = last
      if (n === 0 || ctx.neighbours.length === 0) return
      const junkCount = update == null ? n : Math.round(n * junk)
      const size = ctx.sentLog[0]?.bytes.length ?? 1024
      for (let i = 0; i < n; i++) {
        options?.signal?.throwIfAborted()
        let bytes: Uint8Array
        if (i < junkCount || update == null) {
          bytes = ctx.rng.bytes(size)
        } else {
          const { to: _to, weights, ...fields } = update
          bytes = (await ctx.seal({ ...fields, seq: ctx.nextSeq() }, weights)).bytes
        }
        await Promise.all(ctx.neighbours.map(async (peer) => { try { await ctx.send(peer, bytes, options) } catch {} }))
      }
    }
  }
}

/** The engine behaviour for an attack, or null when the attack works on data only (label-flip). */
export function createBehaviour (attack: AttackSpec, context: AttackContext): Behaviour | null {
  switch (attack.kind) {
    case 'sign-flip': return signFlip(attack.scale ?? DEFAULT_ATTACK_PARAMS.signFlipScale)
    case 'noise': return noise(attack.sigma ?? DEFAULT_ATTACK_PARAMS.noiseSigma)
    case 'alie': return alie(attack.z ?? alieZ(context.peers, context.adversaries))
    case 'ipm': return ipm(attack.epsilon ?? DEFAULT_ATTACK_PARAMS.ipmEpsilon)
    case 'dissensus': return dissensus(attack.epsilon ?? DEFAULT_ATTACK_PARAMS.dissensusEpsilon)
    case 'replay': return replay()
    case 'equivocation': return equivocation()
    case 'scale': return scale(attack.factor ?? DEFAULT_ATTACK_PARAMS.scaleFactor)
    case 'weight': return weight(attack.value ?? DEFAULT_ATTACK_PARAMS.weightValue)
    case 'flood': return flood(attack.perSecond ?? DEFAULT_ATTACK_PARAMS.floodPerSecond, attack.junk ?? DEFAULT_ATTACK_PARAMS.floodJunk, { roundMs: context.roundMs ?? DEFAULT_ATTACK_PARAMS.roundMs, ...(context.now != null ? { now: context.now } : {}) })
    case 'half-streams': throw new ScenarioError('attack half-streams: the simulator\'s transport delivers whole messages and has no streams to leave half-sent; it runs on a daemon only (`murmur testnet --attack half-streams:count=N`)')
    case 'label-flip': return null
  }
}

/** Whether the attack poisons the attacker's training data (the learner flips labels). */
export function flipsLabels (attack: AttackSpec | null): boolean {
  return attack?.kind === 'label-flip'
}
