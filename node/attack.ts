/**
 * `murmur daemon --attack SPEC` (for testing only): turns a real daemon into a rogue member that sends what one
 * of the simulator's adversaries sends (simulations/attacks/), through the engine's behaviour seam. SPEC is the
 * simulator's compact form, `kind[:key=value,...]` or JSON, e.g. `scale:factor=1e29`, `weight:value=1e30`,
 * `sign-flip:scale=1000`, `flood:perSecond=50,junk=0.5`, and the daemon-only `half-streams:count=64`
 * (attack-streams.ts). The daemon's own training and its view of the network stay honest; only what it sends
 * is rewritten, so `murmur testnet --attack` measures what the honest members' defences (bounded influence,
 * rate limits, stream limits) do.
 */
import type { Behaviour } from '../protocol/engine/types.js'
import type { AttackSpec } from '../simulations/scenario.js'
import { halfStreams, type HalfStreamsInit } from './attack-streams.js'
import type { Logger } from './logger.js'

/** A bad `--attack` value: unknown kind, unknown or invalid parameter, or an attack a daemon cannot run. */
export class DaemonAttackError extends Error {
  static override name = 'DaemonAttackError'
  override name = 'DaemonAttackError'
}

/** A parsed `--attack` value: the kind and its parameters (those given; the defaults are the simulator's). */
export interface DaemonAttack {
  kind: AttackSpec['kind']
  params: Record<string, number>
  spec: AttackSpec
}

/**
 * Parses and validates `--attack` (the field named in every error). label-flip is refused: it poisons the
 * attacker's data, not what it sends, and a daemon's data is the operator's own file.
 */
export async function parseDaemonAttack (text: string, field = 'attack'): Promise<DaemonAttack> {
  const { parseCompactSpec, attackSchema, ATTACK_KINDS, ScenarioError } = await import('../simulations/scenario.js')
  let raw: Record<string, unknown>
  try { raw = parseCompactSpec(text, field) } catch (err) {
    if (err instanceof ScenarioError) throw new DaemonAttackError(err.message)
    throw err
  }
  const kinds = ATTACK_KINDS.filter((k) => k !== 'label-flip')
  if (!(kinds as readonly unknown[]).includes(raw.kind)) {
    throw new DaemonAttackError(`--${field}: unknown attack kind '${String(raw.kind)}' (kinds a daemon can run: ${kinds.join(', ')})`)
  }
  const parsed = attackSchema.safeParse(raw)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`).join('; ')
    throw new DaemonAttackError(`--${field} ${String(raw.kind)}: ${issues}`)
  }
  const { kind, ...params } = parsed.data
  return { kind, params: params as Record<string, number>, spec: parsed.data }
}

/** What a daemon's attack works with. */
export interface DaemonAttackContext {
  /** The network's member count (alie derives its default z from it, with this daemon the one adversary). */
  members: number
  /** The daemon's round interval (ms): flood's rate per second is paced on the wall clock from it. */
  roundMs: number
  /** half-streams opens streams itself. */
  transport: HalfStreamsInit['transport']
  log?: Pick<Logger, 'info' | 'debug'>
}

/** The engine behaviour of a parsed attack. */
export async function daemonBehaviour (attack: DaemonAttack, context: DaemonAttackContext): Promise<Behaviour> {
  if (attack.spec.kind === 'half-streams') {
    const { DEFAULT_ATTACK_PARAMS } = await import('../simulations/attacks/index.js')
    return halfStreams({ count: attack.spec.count ?? DEFAULT_ATTACK_PARAMS.halfStreams, ...(attack.spec.bytes != null ? { bytes: attack.spec.bytes } : {}), transport: context.transport, ...(context.log != null ? { log: context.log } : {}) })
  }
  const { createBehaviour } = await import('../simulations/attacks/index.js')
  const b = createBehaviour(attack.spec, { peers: Math.max(2, context.members), adversaries: 1, roundMs: context.roundMs, now: Date.now })
  if (b == null) throw new DaemonAttackError(`--attack ${attack.kind}: this attack has no behaviour a daemon can run`)
  return b
}
