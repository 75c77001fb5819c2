/**
 * Scenario files: what a simulation runs. JSON or YAML, validated with zod; every error names the file and the
 * field (`scenario byzantine.yaml: network.loss: Too big: expected number to be <=1`).
 *
 * @example
 * ```ts
 * const scenario = await loadScenario('default')              // a built-in from simulations/scenarios/
 * const custom = await loadScenario('./my-run.yaml', { peers: 20, rounds: 5 })
 * ```
 */
import { readFile, readdir } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { basename, extname, join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import YAML from 'yaml'
import { parseAveragingParams } from '../protocol/engine/rules/index.js'
import { phasesWithin } from '../learning/glm/phases.js'
import type { PartitionOptions } from '../learning/partition.js'
import { PrivacySpecSchema, parseModelSpec } from '../learning/specs.js'
import { GOAL_METRICS } from '../learning/metrics.js'
import { deepMerge } from './merge.js'
import { redialSchema, type RedialSpec } from './redial.js'

export class ScenarioError extends Error {
  static override name = 'ScenarioError'
  override name = 'ScenarioError'
}

const positive = z.number().positive()
const fraction = z.number().min(0).max(1)

const latencySchema = z.union([
  positive.transform((ms) => ({ dist: 'constant' as const, ms })),
  z.discriminatedUnion('dist', [
    z.object({ dist: z.literal('constant'), ms: positive }).strict(),
    z.object({ dist: z.literal('uniform'), minMs: positive, maxMs: positive }).strict()
      .refine((v) => v.maxMs >= v.minMs, { message: 'maxMs must be >= minMs', path: ['maxMs'] }),
    z.object({ dist: z.literal('lognormal'), medianMs: positive, sigma: z.number().min(0).max(3), minMs: positive.default(1) }).strict()
  ])
])
export type LatencySpec = z.infer<typeof latencySchema>

const bandwidthSchema = z.union([
  positive.transform((mbps) => ({ minMbps: mbps, maxMbps: mbps })),
  z.object({ minMbps: positive, maxMbps: positive }).strict()
    .refine((v) => v.maxMbps >= v.minMbps, { message: 'maxMbps must be >= minMbps', path: ['maxMbps'] })
])

const partitionEventSchema = z.object({
  /** First round (0-based) during which the network is split. */
  fromRound: z.number().int().min(0),
  /** Round at which it heals (exclusive); omit for a split that never heals. */
  toRound: z.number().int().min(1).optional(),
  /** Number of groups (2 = two halves). */
  groups: z.number().int().min(2).default(2),
  /** `contiguous`: peers 0..n/g-1 form group 0, and so on; `random`: a seeded random assignment. */
  assign: z.enum(['contiguous', 'random']).default('contiguous')
}).strict().refine((p) => p.toRound == null || p.toRound > p.fromRound, { message: 'toRound must be after fromRound', path: ['toRound'] })
export type PartitionEvent = z.infer<typeof partitionEventSchema>

export type { RedialSpec }

const networkSchema = z.object({
  /** Virtual duration of one round (ms). Messages that arrive later count in the next round. */
  roundMs: positive.default(1000),
  latency: latencySchema.default({ dist: 'lognormal', medianMs: 40, sigma: 0.5, minMs: 5 }),
  /** Per-peer link speed, drawn uniformly in [minMbps, maxMbps] for each peer (same up and down). */
  bandwidthMbps: bandwidthSchema.default({ minMbps: 100, maxMbps: 100 }),
  /** Probability that a message is lost. */
  loss: fraction.default(0),
  partitions: z.array(partitionEventSchema).default([]),
  churn: z.object({
    /** Share of peers that change state (leave or rejoin) at each round boundary. */
    rate: fraction.default(0),
    /** Rounds a peer stays away after leaving. */
    downRounds: z.number().int().min(1).default(1),
    /** First round with churn. */
    fromRound: z.number().int().min(0).default(1)
  }).strict().default({ rate: 0, downRounds: 1, fromRound: 1 }),
  /** The last `peers` peers join late: offline until round `atRound`, then they catch up (harness/catch-up.ts). */
  lateJoin: z.object({ peers: z.number().int().min(1), atRound: z.number().int().min(1) }).strict().optional(),
  /** Links across a healed split come back when a keeper redials them (redial.ts). Absent: a split heals at once. */
  redial: redialSchema.optional()
}).strict()
export type NetworkSpec = z.infer<typeof networkSchema>

const topologySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('complete') }).strict(),
  z.object({ kind: z.literal('ring'), k: z.number().int().min(2).default(2) }).strict(),
  z.object({ kind: z.literal('k-regular'), k: z.number().int().min(1) }).strict(),
  z.object({ kind: z.literal('small-world'), k: z.number().int().min(2), beta: fraction }).strict(),
  z.object({ kind: z.literal('erdos-renyi'), p: z.number().gt(0).max(1) }).strict(),
  z.object({ kind: z.literal('s-random'), s: z.number().int().min(1) }).strict()
])

export const ATTACK_KINDS = ['sign-flip', 'noise', 'alie', 'ipm', 'label-flip', 'dissensus', 'replay', 'equivocation', 'scale', 'weight', 'flood', 'half-streams'] as const
/**
 * Attacks only a daemon can run (`murmur daemon --attack`): half-streams opens update streams and never finishes
 * them, and the simulator's transport delivers whole messages, with no streams to leave half-sent.
 */
export const DAEMON_ONLY_ATTACKS: readonly AttackKind[] = ['half-streams']
export type AttackKind = typeof ATTACK_KINDS[number]

export const attackSchema = z.object({
  kind: z.enum(ATTACK_KINDS),
  /** sign-flip: multiplier of the flipped update. */
  scale: positive.optional(),
  /** noise: standard deviation of the Gaussian noise added to every weight. */
  sigma: positive.optional(),
  /** alie: how many standard deviations to shift (default: from the number of peers, as in Baruch et al.). */
  z: positive.optional(),
  /** ipm and dissensus: strength epsilon. */
  epsilon: positive.optional(),
  /** scale: factor every weight is multiplied by. */
  factor: positive.optional(),
  /** weight: the mass / push-sum weight and example count the attacker claims. */
  value: positive.optional(),
  /** flood: extra messages per second to each neighbour (valid signed copies of its update, or junk). */
  perSecond: positive.max(10_000).optional(),
  /** flood: the fraction of the flood that is junk (random bytes the size of an envelope); default 0. */
  junk: fraction.optional(),
  /** half-streams: update streams opened to each neighbour, each sent part of a message and never finished. */
  count: z.number().int().min(1).max(4096).optional(),
  /** half-streams: the message length each stream declares (default: the network's largest message). */
  bytes: z.number().int().min(1).max(0xffff_ffff).optional()
}).strict()
export type AttackSpec = z.infer<typeof attackSchema>

const adversariesSchema = z.object({
  fraction: fraction.default(0),
  attack: attackSchema.default({ kind: 'sign-flip', scale: 1000 }).refine((a) => !DAEMON_ONLY_ATTACKS.includes(a.kind), {
    path: ['kind'],
    message: 'half-streams needs streams, which the simulator\'s transport does not have (it delivers whole messages): run it against real daemons with `murmur testnet --attack half-streams:count=N`'
  })
}).strict()

const nameOrObject = z.union([z.string().min(1), z.looseObject({})])

/** The averaging rule and its parameters, exactly as in a network manifest (`protocol/engine/rules/`). */
const ruleSchema = z.union([
  z.string().min(1).transform((rule) => ({ rule })),
  z.looseObject({ rule: z.string().min(1) })
])
export type RuleSpec = z.infer<typeof ruleSchema>

const partitionSchema = z.union([
  z.string().min(1).transform((kind) => ({ kind })),
  z.looseObject({ kind: z.string().min(1) })
])

/** A variant: a name and any scenario fields to change (merged into the scenario, then validated as a whole). */
const variantSchema = z.looseObject({ name: z.string().min(1), description: z.string().optional() })
export type VariantSpec = z.infer<typeof variantSchema>

export const scenarioSchema = z.object({
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  seed: z.union([z.number().int(), z.string().min(1)]).default(1),
  peers: z.number().int().min(2).max(100_000),
  rounds: z.number().int().min(1).max(100_000),
  localSteps: z.number().int().min(0).default(10),
  batchSize: z.number().int().min(1).default(32),
  dataset: nameOrObject,
  partition: partitionSchema.default({ kind: 'iid' }),
  model: nameOrObject,
  rule: ruleSchema.default({ rule: 'epidemic' }),
  topology: topologySchema.default({ kind: 's-random', s: 3 }),
  codec: nameOrObject.default('float32'),
  network: networkSchema.default(networkSchema.parse({})),
  compute: z.object({
    /** Virtual milliseconds one local training step takes on a normal peer. */
    stepMs: positive.default(20),
    /** Relative spread of each peer's speed (uniform in [1 - jitter, 1 + jitter]). */
    jitter: z.number().min(0).max(0.9).default(0.1)
  }).strict().default({ stepMs: 20, jitter: 0.1 }),
  stragglers: z.object({ fraction: fraction.default(0), slowdown: z.number().min(1).default(5) }).strict()
    .default({ fraction: 0, slowdown: 5 }),
  adversaries: adversariesSchema.default({ fraction: 0, attack: { kind: 'sign-flip', scale: 1000 } }),
  evaluation: z.object({
    /** Evaluate every peer every N rounds (the last round is always evaluated). */
    every: z.number().int().min(1).default(1),
    /** Rows of the held-out test split used for the per-round curve (the final figures use all of it). */
    curveRows: z.number().int().min(10).default(1000),
    /** Bootstrap resamples of the test rows behind every final figure's interval (0: no intervals). */
    resamples: z.number().int().min(0).max(2000).default(200),
    /** Peers (evenly spaced) whose models give the interval of a mean over peers. */
    intervalPeers: z.number().int().min(1).max(10_000).default(24)
  }).strict().default({ every: 1, curveRows: 1000, resamples: 200, intervalPeers: 24 }),
  baselines: z.object({
    centralized: z.boolean().default(true),
    localOnly: z.boolean().default(true),
    fedavg: z.boolean().default(true),
    /** FedAvg: share of clients sampled per round (McMahan et al.'s C). */
    fedavgFraction: z.number().gt(0).max(1).default(0.1),
    /** FedAvg: at least this many clients per round (all honest peers when fewer). */
    fedavgMinClients: z.number().int().min(1).default(10),
    /** Epochs of the centralized baseline (default: as many examples as the peers see together). */
    centralizedEpochs: z.number().int().min(1).optional()
  }).strict().default({ centralized: true, localOnly: true, fedavg: true, fedavgFraction: 0.1, fedavgMinClients: 10 }),
  /**
   * Personal models (simulations/personal.ts): each peer holds out `validation` of its shard (seeded; also
   * withheld from its network and local-only training and from the centralized baseline) and ends with the blend
   * of its network and local-only models chosen on those rows.
   */
  personal: z.object({
    validation: z.number().gt(0).max(0.5).default(0.2),
    /** How z is chosen (learning/personal.ts chooseBlend): the one-standard-error rule, or the lowest loss. */
    rule: z.enum(['one-se', 'min']).default('one-se')
  }).strict().optional(),
  /**
   * Stop before `rounds` (then the cap) once the goal metric on the curve and the consensus distance plateau:
   * neither improved for `patience` evaluations (harness/plateau.ts). The learning-rate schedule still spans
   * `rounds`. `true` takes the defaults.
   */
  untilConverged: z.union([z.literal(true).transform(() => ({})), z.object({
    patience: z.number().int().min(1).max(10_000).optional(),
    minDelta: z.number().min(0).optional(),
    consensusMinDelta: z.number().min(0).max(1).optional()
  }).strict()]).pipe(z.object({ patience: z.number().default(5), minDelta: z.number().default(0.001), consensusMinDelta: z.number().default(0.05) }))
    .nullable().default(null),
  /** Extra runs of the same scenario with a few fields changed, shown side by side (e.g. plain mean under attack). */
  variants: z.array(variantSchema).default([]),
  /**
   * Differential privacy of every honest peer's local training (DP-SGD with a per-peer budget), the same block
   * as a network manifest's `privacy`. Without `noiseMultiplier` or `steps`, the noise is derived from epsilon
   * over the run's planned steps (rounds x localSteps).
   */
  privacy: PrivacySpecSchema.nullable().default(null),
  /**
   * Membership inference by honest-but-curious members: each honest peer attacks every neighbour it heard
   * from, with the last model it received from it, on that neighbour's training rows against `nonMembers`
   * rows of the test split (simulations/harness/privacy-peers.ts). `withoutPrivacy`: also run the same scenario (same seed)
   * without the privacy block and attack it the same way.
   */
  membershipInference: z.object({
    withoutPrivacy: z.boolean().default(true),
    /** Test-split rows per attack as non-members (default: as many as the neighbour's training rows). */
    nonMembers: z.number().int().min(1).max(1_000_000).optional()
  }).strict().nullable().default(null),
  /**
   * The metric goals and the table are stated in (learning/metrics.ts GOAL_METRICS; the task must have it).
   * Default: auc for binary labels, else the task's primary metric (accuracy, poissonDeviance, mse).
   */
  metric: z.enum(GOAL_METRICS).optional(),
  /** Goals this scenario is meant to show; the report and the benchmark print pass or fail. */
  goals: z.looseObject({ worstWithinOfCentralized: z.number().gt(0).max(1).optional() }).default({}), // known goals: simulations/goals.ts
  workers: z.number().int().min(0).max(64).optional(),
  backend: z.string().optional(),
  transport: z.enum(['sim', 'libp2p']).default('sim')
}).strict()

export type ScenarioInput = z.input<typeof scenarioSchema>
export type Scenario = z.infer<typeof scenarioSchema> & { name: string }

const here = dirname(fileURLToPath(import.meta.url))
/** Folder of the built-in scenarios. */
export const BUILTIN_DIR = join(here, 'scenarios')

export async function builtinScenarioNames (): Promise<string[]> {
  const files = await readdir(BUILTIN_DIR)
  return files.filter((f) => /\.(ya?ml|json)$/.test(f)).map((f) => f.replace(/\.(ya?ml|json)$/, '')).sort()
}

function formatIssues (where: string, error: z.ZodError): string {
  const lines = error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)'
    return `  ${field}: ${issue.message}`
  })
  return `scenario ${where}: ${error.issues.length} problem(s)\n${lines.join('\n')}`
}

/** Validates a parsed scenario object; throws ScenarioError naming each bad field. */
export function parseScenario (input: unknown, where = '(inline)', fallbackName = 'scenario'): Scenario {
  const result = scenarioSchema.safeParse(input)
  if (!result.success) throw new ScenarioError(formatIssues(where, result.error))
  const s = result.data
  if (s.network.lateJoin != null && s.network.lateJoin.peers >= s.peers) throw new ScenarioError(`scenario ${where}: network.lateJoin: ${s.network.lateJoin.peers} late joiners but only ${s.peers} peers (at least one must start)`)
  for (const p of s.network.partitions) {
    if (p.groups > s.peers) throw new ScenarioError(`scenario ${where}: network.partitions: ${p.groups} groups but only ${s.peers} peers`)
  }
  if (s.adversaries.fraction > 0 && Math.round(s.adversaries.fraction * s.peers) >= s.peers) {
    throw new ScenarioError(`scenario ${where}: adversaries.fraction: leaves no honest peer`)
  }
  try {
    parseAveragingParams(s.rule, 'rule')
    // a model given as a spec is checked whole here (a built-in name is resolved with the dataset's shape later)
    if (typeof s.model === 'object') parseModelSpec(s.model)
  } catch (err) {
    throw new ScenarioError(`scenario ${where}: ${(err as Error).message}`)
  }
  if (s.untilConverged != null && s.transport === 'libp2p') throw new ScenarioError(`scenario ${where}: untilConverged: not available with transport libp2p (it runs every round)`)
  const glm = (s.rule as { rule: string }).rule === 'glm-newton'
  if (glm && s.membershipInference != null) throw new ScenarioError(`scenario ${where}: membershipInference: the loss-threshold attack scores models, and rule glm-newton sends statistics; not available with it`)
  // a target epsilon without a noise multiplier: the budget is to last the planned steps (glm-newton: releases, one a phase)
  if (s.privacy != null && s.privacy.noiseMultiplier == null && s.privacy.steps == null) s.privacy = { ...s.privacy, steps: Math.max(1, glm ? phasesWithin(s.rounds, (parseAveragingParams(s.rule, 'rule') as { phases: number[] }).phases) : s.rounds * s.localSteps) }
  const scenario = { ...s, name: s.name ?? fallbackName }
  scenario.variants.forEach((v, i) => {
    try {
      variantScenario(scenario, v)
    } catch (err) {
      throw new ScenarioError(`scenario ${where}: variants.${i} (${v.name}): ${(err as Error).message.replace(/^scenario [^:]*: /, '')}`)
    }
  })
  return scenario
}

/** The scenario a variant describes: the base with the variant's fields merged in (variants never nest). */
export function variantScenario (base: Scenario, variant: VariantSpec): Scenario {
  const { name, description, ...fields } = variant
  const { variants: _ignored, ...rest } = base
  const merged = deepMerge(rest as Record<string, unknown>, fields)
  const parsed = parseScenario({ ...merged, variants: [] }, `${base.name}/${name}`, base.name)
  return { ...parsed, name: `${base.name}/${name}`, description: description ?? parsed.description }
}

/** Parses JSON or YAML text (by extension, else by trying JSON first). */
export function parseScenarioText (text: string, where: string): unknown {
  const ext = extname(where).toLowerCase()
  try {
    if (ext === '.json') return JSON.parse(text)
    return YAML.parse(text, { prettyErrors: true })
  } catch (err) {
    throw new ScenarioError(`scenario ${where}: not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`)
  }
}

/** Resolves a scenario by built-in name or by path, applies overrides (deep merge), validates. */
export async function loadScenario (nameOrPath: string = 'default', overrides: Record<string, unknown> = {}): Promise<Scenario> {
  let path = nameOrPath
  if (!existsSync(path)) {
    const candidates = ['.yaml', '.yml', '.json'].map((e) => join(BUILTIN_DIR, nameOrPath + e))
    const found = candidates.find((c) => existsSync(c))
    if (found == null) {
      const names = await builtinScenarioNames()
      throw new ScenarioError(`scenario ${nameOrPath}: no such file, and not a built-in (built-ins: ${names.join(', ')})`)
    }
    path = found
  }
  const text = await readFile(path, 'utf8')
  const raw = parseScenarioText(text, path)
  if (raw == null || typeof raw !== 'object' || Array.isArray(raw)) throw new ScenarioError(`scenario ${path}: must be a mapping of fields`)
  const merged = deepMerge(raw as Record<string, unknown>, overrides)
  const fallback = basename(path).replace(/\.(ya?ml|json)$/, '')
  return parseScenario(merged, basename(path), fallback)
}


/**
 * Parses the compact command-line form of a spec: `kind`, `kind:key=value,key=value`, or JSON.
 * Numbers and booleans are converted. `field` names the flag in errors.
 */
export function parseCompactSpec (text: string, field: string, keyName = 'kind'): Record<string, unknown> {
  const t = text.trim()
  if (t.startsWith('{')) {
    try { return JSON.parse(t) as Record<string, unknown> } catch (err) {
      throw new ScenarioError(`--${field}: not valid JSON: ${(err as Error).message}`)
    }
  }
  const [head, rest] = t.split(/:(.*)/s, 2)
  if (head === '') throw new ScenarioError(`--${field}: empty value`)
  const out: Record<string, unknown> = { [keyName]: head }
  if (rest != null && rest !== '') {
    for (const part of rest.split(/[,:]/)) {
      const m = /^([A-Za-z][\w-]*)=(.*)$/.exec(part)
      if (m == null) throw new ScenarioError(`--${field}: expected key=value after '${head}:', got '${part}'`)
      const v = m[2]
      out[m[1]] = v === 'true' ? true : v === 'false' ? false : (v !== '' && Number.isFinite(Number(v)) ? Number(v) : v)
    }
  }
  return out
}

/**
 * The options learning's `partition()` gets for a scenario's partition spec: `by-key` is learning's `key` kind,
 * `column` its `key`, and the seed is `<scenario seed>:partition`. The one mapping the simulator's peers, the
 * scenario reports and `murmur testnet` (which must hand daemon i exactly the simulator's peer i's rows) share.
 */
export function partitionOptionsFor (partitionSpec: { kind: string, [k: string]: unknown }, peers: number, seed: number | string): PartitionOptions {
  const { kind, column, ...rest } = partitionSpec
  return { ...rest, ...(column != null ? { key: column } : {}), kind: (kind === 'by-key' ? 'key' : kind) as PartitionOptions['kind'], peers, seed: `${String(seed)}:partition` } as PartitionOptions
}

/** `partitionOptionsFor` of a whole scenario. */
export function partitionOptions (scenario: Scenario): PartitionOptions {
  return partitionOptionsFor(scenario.partition as { kind: string, [k: string]: unknown }, scenario.peers, scenario.seed)
}
