/**
 * The real peer environment of a simulation world: the dataset (loaded once per thread), each peer's shard,
 * ONE shared TF.js model runtime per thread (`learning/model.ts`: a peer costs only its own weight arrays), and
 * per peer: a deterministic identity, a `DatasetLearner`, a `MemoryStore`, sealed envelopes and the real
 * `PeerEngine` with the scenario's averaging rule, plus the attack's behaviour for adversaries.
 *
 * Also the baseline jobs the coordinator runs on every world: local-only training, FedAvg client training,
 * the centralized (pooled) model, and evaluation of given weights.
 */
import type { MetricValues, PeerKey } from '../../protocol/interfaces.js'
import { createRng } from '../../protocol/rng.js'
import { peerEngine, MemoryStore, sealedEnvelopes, staticMembership, averagingRule, type PeerEngine } from '../../protocol/engine/index.js'
import type { CodecSpec } from '../../protocol/codecs/index.js'
import { generateIdentity, createSigner, toHex, sha256 } from '../../crypto/index.js'
import { partitionOptions, type Scenario } from '../scenario.js'
import type { SimPeer } from '../world.js'
import type { EnvironmentInit, PeerEnvironment } from './world-host.js'
import type { RegionPeerFigures } from '../regions.js'
import { holdOutShards, personalTask, trainingView } from './personal-task.js'
import { cryptoTiming, envelopeMemo, memoizedEnvelopes } from './envelopes.js'
import { stateSyncTasks } from './catch-up-tasks.js'
import { PrivacyWorld } from './privacy-peers.js'
import { testResampler } from './resampled.js'
import { createBehaviour, flipsLabels } from '../attacks/index.js'
import { loadDataset } from '../../learning/builtin.js'
import type { Dataset } from '../../learning/dataset.js'
import { Model, addPriorStats, priorBias } from '../../learning/model.js'
import { DatasetLearner, evaluateWeights } from '../../learning/learner.js'
import { partition } from '../../learning/partition.js'
import { runBaseline } from '../../learning/baseline.js'
import { DEFAULT_LEARNING_RATE } from '../../learning/constants.js'
import { setBackend, type BackendName } from '../../learning/backend.js'
import { resolveModelSpec, SimulationSetupError } from './sim-models.js'
import type { GlmNetworkLearner } from '../../learning/glm/index.js'
import { exactGlmSetup, exactGlmTasks } from './exact-glm.js'

export { describeMetric } from './peer-metric.js'

export { SIM_MODELS, resolveModelSpec, SimulationSetupError } from './sim-models.js'

/** The 32-byte identity seed of peer i (deterministic from the scenario seed). */
export function identitySeed (scenario: Scenario, i: number): Uint8Array {
  return createRng(scenario.seed).fork(`identity:${i}`).bytes(32)
}

export function peerKeys (scenario: Scenario): PeerKey[] {
  return Array.from({ length: scenario.peers }, (_, i) => toHex(generateIdentity(identitySeed(scenario, i)).signPublicKey))
}

function codecSpec (codec: Scenario['codec']): CodecSpec {
  return (typeof codec === 'string' ? { name: codec } : codec) as CodecSpec
}

/** The dataset with flipped labels (the label-flip attack's poisoned view; features shared, not copied). */
function flippedView (dataset: Dataset): Dataset {
  const y = dataset.y
  const flipped = new Float32Array(y.length)
  if (dataset.task === 'multiclass') { const c = dataset.numClasses; for (let i = 0; i < y.length; i++) flipped[i] = c - 1 - y[i] } else if (dataset.task === 'binary') { for (let i = 0; i < y.length; i++) flipped[i] = 1 - y[i] } else {
    throw new SimulationSetupError(`label-flip needs class labels; '${dataset.name}' has a ${dataset.task} label`)
  }
  return Object.create(dataset, { y: { value: flipped } }) as Dataset
}


const datasetCache = new Map<string, Promise<Dataset>>()

export async function createPeerEnvironment (init: EnvironmentInit): Promise<PeerEnvironment> {
  const { scenario, keys } = init
  await setBackend((scenario.backend ?? 'wasm') as BackendName)
  const cacheKey = JSON.stringify(scenario.dataset)
  let loading = datasetCache.get(cacheKey)
  if (loading == null) {
    loading = loadDataset(scenario.dataset as never)
    datasetCache.set(cacheKey, loading)
  }
  const dataset = await loading
  const partitioned = partition(dataset, partitionOptions(scenario))
  if (partitioned.length !== scenario.peers) {
    throw new SimulationSetupError(`partition ${JSON.stringify(scenario.partition)} made ${partitioned.length} shards for ${scenario.peers} peers; set peers: ${partitioned.length}`)
  }
  // Personal models: each peer's own validation rows leave its shard (and the centralized baseline's pool)
  const held = scenario.personal != null ? holdOutShards(partitioned, scenario.personal.validation, scenario.seed) : null
  const shards = held?.shards ?? partitioned
  const model = new Model(resolveModelSpec(scenario.model), dataset.info)
  // rule glm-newton: every peer is an exact-GLM learner (harness/exact-glm.ts) gossiping statistics
  const exact = (scenario.rule as { rule: string }).rule === 'glm-newton' ? exactGlmSetup(dataset, model, held != null ? trainingView(dataset, shards).train : dataset.train) : null
  const glmLearners = new Map<number, GlmNetworkLearner>()
  // The learning rate decays linearly to 5% over the run, for peers, FedAvg and the centralized baseline alike
  // (learning's runBaseline does the same): every model gets the same schedule.
  const baseRate = model.spec.optimizer.learningRate ?? DEFAULT_LEARNING_RATE[model.spec.optimizer.type]
  const rateAt = (round: number): number => baseRate * (1 - 0.95 * Math.min(1, Math.max(0, round) / scenario.rounds))
  const rootRng = createRng(scenario.seed)
  // One network: real sealing and validation (the engine's sealedEnvelopes) under one static membership and
  // group key; the validator configuration is shared by every peer of this world (the memo relies on it).
  const envelopeInit = {
    networkId: toHex(sha256(new TextEncoder().encode(`murmur-sim:${scenario.name}:${String(scenario.seed)}`))),
    schemaHash: exact?.schemaHash ?? model.schemaHash,
    numParams: exact?.numParams ?? model.numParams,
    codec: codecSpec(scenario.codec),
    maxBytes: 64 * 1024 * 1024,
    normBound: null
  }
  // the envelopes' crypto provider: the fast one, timed when the benchmark asks (harness/envelopes.ts)
  const timer = cryptoTiming()
  const sealInit = timer != null ? { ...envelopeInit, crypto: timer.crypto } : envelopeInit
  const groupKey = rootRng.fork('epoch-key').bytes(32)
  const membership = staticMembership(keys, groupKey)
  // The envelope memo (harness/envelopes.ts), shared across worlds through notes carried with the bytes: every
  // world of this simulation builds the same configuration, so the fingerprint matches; its reference validator
  // is an identity outside the network (fixed seed, no draw from the scenario's streams).
  const memo = (init.options?.cryptoMemo ?? process.env.MURMUR_SIM_CRYPTO_MEMO !== '0')
    ? envelopeMemo({
      membership,
      config: envelopeInit,
      fingerprint: toHex(sha256(new TextEncoder().encode(JSON.stringify([envelopeInit, keys, toHex(groupKey)])))),
      reference: sealedEnvelopes(sealInit)({ signer: createSigner(generateIdentity(sha256(new TextEncoder().encode('murmur-sim:memo-reference')))), membership })
    })
    : null
  // The per-round curve uses a seeded random sample of the test split (test rows may be ordered by class).
  const curveRows = dataset.test.length <= scenario.evaluation.curveRows
    ? dataset.test
    : Uint32Array.from(rootRng.fork('curve-rows').sample(Array.from(dataset.test), scenario.evaluation.curveRows)).sort()
  const poisoned = scenario.adversaries.fraction > 0 && flipsLabels(scenario.adversaries.attack) ? flippedView(dataset) : null
  const adversaryCount = init.adversaries.length
  const initSeed = `${String(scenario.seed)}:init`
  // The network's common start: every peer (and FedAvg's server) starts its output bias at the pooled training
  // rows' mean (log claim frequency, log-odds, log class priors), the figure a consortium publishes in the
  // manifest's model spec as outputBiasInit (docs/design-notes.md, "Honest starts"). Local-only models start
  // from their own shard's mean; the centralized baseline from the pooled rows'.
  const networkStart = model.fixedOutputBias ? null : priorBias(addPriorStats(shards.map((s) => model.priorStats(dataset, s.indices))))
  const batchSize = scenario.batchSize
  // a count task's Gini costs a sort per evaluation: only when it is the goal metric (the intervals have it anyway)
  const gini = scenario.metric === 'gini'
  const learners = new Map<number, DatasetLearner>()
  const privacy = scenario.privacy != null || scenario.membershipInference != null
    ? new PrivacyWorld({ scenario, dataset, model, shards, keys, adversaries: init.adversaries })
    : null
  const simPeers = new Map<number, SimPeer>()
  const engines = new Map<number, PeerEngine>()
  // Key partitions (regions): the local-only task keeps each peer's model for the regions task to score
  const byKey = (scenario.partition as { kind: string }).kind === 'by-key'
  const localOnlyWeights = new Map<number, Float32Array>()
  const keepLocal = byKey || held != null
  const localOnlySteps = (index: number, steps: number): number => Math.min(steps, 20 * (learners.get(index)?.stepsPerEpoch() ?? Math.max(1, Math.ceil(shards[index].indices.length / batchSize))))
  const timing = { trainMs: 0, evaluateMs: 0, memoHits: 0, memoMisses: 0, trainMsByRound: [] as number[], evaluateMsByRound: [] as number[], examplesByRound: [] as number[], cryptoMsByRound: [] as number[] }
  let currentRound = 0
  const addTo = (list: number[], ms: number): void => { list[currentRound] = (list[currentRound] ?? 0) + ms }
  // Wall time in the crypto primitives (only with MURMUR_CRYPTO_TIMING=1), booked to the round this world is in
  let cryptoSeenMs = 0
  const bookCrypto = (): void => {
    const now = timer?.observer.ms
    if (now == null) return
    addTo(timing.cryptoMsByRound, now - cryptoSeenMs)
    cryptoSeenMs = now
  }

  const createPeer = async (ctx: Parameters<PeerEnvironment['createPeer']>[0]): Promise<SimPeer> => {
    const identity = generateIdentity(identitySeed(scenario, ctx.index))
    const glmLearner = exact?.learner(shards[ctx.index].indices, (w, split) => evaluateWeights(model, dataset, split === 'test' ? dataset.test : curveRows, w), privacy?.privacyFor(ctx.index, 1)) ?? null
    if (glmLearner != null) glmLearners.set(ctx.index, glmLearner)
    const datasetLearner = glmLearner != null ? null : new DatasetLearner({
      model,
      dataset: ctx.attack != null && poisoned != null ? poisoned : dataset,
      shard: shards[ctx.index],
      seed: `${String(scenario.seed)}:learner:${ctx.index}`,
      initSeed,
      outputBias: networkStart,
      batchSize,
      privacy: privacy?.privacyFor(ctx.index)
    })
    if (datasetLearner != null) learners.set(ctx.index, datasetLearner)
    const learner = glmLearner ?? (datasetLearner as DatasetLearner)
    const train = learner.train.bind(learner)
    learner.train = async (steps, options) => {
      const t0 = performance.now()
      let examples = 0
      try {
        const r = await train(steps, options)
        examples = r.examples
        return r
      } finally {
        addTo(timing.examplesByRound, examples)
        const ms = performance.now() - t0
        timing.trainMs += ms
        addTo(timing.trainMsByRound, ms)
      }
    }
    // The secretbox nonce comes from the peer's seeded stream (not the OS), so envelope bytes and update ids
    // are reproducible.
    const nonces = ctx.rng.fork('nonces')
    const real = sealedEnvelopes(sealInit)({ signer: createSigner(identity, timer?.crypto), membership, randomBytes: (n) => nonces.bytes(n) })
    const memoized = memo == null ? real : memoizedEnvelopes(real, memo, { self: ctx.key, membership, config: envelopeInit })
    const envelopes = privacy?.watch(ctx.index, memoized, () => currentRound) ?? memoized
    const behaviour = ctx.attack != null ? createBehaviour(ctx.attack, { peers: scenario.peers, adversaries: adversaryCount, roundMs: scenario.network.roundMs }) : null
    const engine = peerEngine({
      averaging: scenario.rule,
      localSteps: scenario.localSteps,
      evaluateEveryRounds: 0,
      checkpointEveryRounds: 0,
      checkpointOnMerge: false,
      logEnvelopeBytes: false,
      keepLastReceived: behaviour != null,
      // the coordinator measures consensus distance over all peers; the per-peer estimate would go unread
      consensusEstimate: false
    })({
      transport: ctx.transport,
      learner,
      store: new MemoryStore({ maxLogEntries: 64, maxMetricsSnapshots: 4, maxEvidence: 16 }),
      clock: ctx.clock,
      rng: ctx.rng,
      envelopes,
      metrics: null,
      behaviour
    })
    await engine.init()
    engines.set(ctx.index, engine)
    const peer: SimPeer = {
      beginRound: async (round) => {
        if (round !== currentRound) bookCrypto()
        currentRound = round
        if (datasetLearner != null) datasetLearner.learningRate = rateAt(round)
        await engine.beginRound()
        privacy?.afterRound(ctx.index, round)
      },
      endRound: async () => { await engine.endRound() },
      handle: async (incoming) => await engine.handleMessage(incoming),
      weights: () => glmLearner?.modelWeights() ?? engine.weights(),
      // the rule says whether handling a message may send (pairwise answers a request); the others send when a
      // round begins, and the scheduler then delivers the rest of a round in one window
      sendsOnReceive: averagingRule(engine.params.rule).traits.sendsOnReceive,
      evaluate: async (which) => {
        const t0 = performance.now()
        try { return evaluateWeights(model, dataset, which === 'curve' ? curveRows : dataset.test, glmLearner?.modelWeights() ?? (datasetLearner as DatasetLearner).state.weights, { gini }) } finally {
          const ms = performance.now() - t0
          timing.evaluateMs += ms
          addTo(timing.evaluateMsByRound, ms)
        }
      },
      dispose: () => { datasetLearner?.dispose() }
    }
    simPeers.set(ctx.index, peer)
    return peer
  }

  const resample = testResampler(model, dataset, scenario.evaluation.resamples, `${String(scenario.seed)}:bootstrap`)

  const trainFresh = (index: number, steps: number, weights?: Float32Array, learningRate?: number): DatasetLearner => {
    const l = new DatasetLearner({ model, dataset, shard: shards[index], seed: `${String(scenario.seed)}:baseline:${index}`, initSeed, batchSize, weights })
    if (learningRate != null) l.learningRate = learningRate
    l.trainSync(steps)
    return l
  }

  /** A peer's local-only model: the localOnly task's, else trained the same way (and kept). */
  const localWeights = (index: number, steps: number): Float32Array => {
    let local = localOnlyWeights.get(index)
    if (local == null) {
      const l = trainFresh(index, localOnlySteps(index, steps))
      local = l.weights()
      l.dispose()
      localOnlyWeights.set(index, local)
    }
    return local
  }

  return {
    createPeer,
    ...(memo?.notes != null ? { notes: memo.notes } : {}),
    tasks: {
      ...stateSyncTasks(engines, keys),
      /** Wall milliseconds this world spent training (inside the engine's beginRound) and evaluating. */
      timing: async () => {
        bookCrypto()
        return {
          ...timing,
          trainMsByRound: Array.from(timing.trainMsByRound, (x) => x ?? 0),
          evaluateMsByRound: Array.from(timing.evaluateMsByRound, (x) => x ?? 0),
          examplesByRound: Array.from(timing.examplesByRound, (x) => x ?? 0),
          cryptoMsByRound: Array.from(timing.cryptoMsByRound, (x) => x ?? 0),
          cryptoTimed: timer != null,
          memoHits: memo?.hits ?? 0,
          memoMisses: memo?.misses ?? 0,
          memoImported: memo?.imported ?? 0
        }
      },
      /** Each honest peer alone: the same number of steps as in the network, at most 20 epochs of its shard. */
      localOnly: async (args: { steps: number, intervalPeers?: number[] }) => {
        const out: Array<[number, MetricValues]> = []
        const sampled: Array<[number, Float32Array]> = []
        for (const index of init.owned) {
          if (init.adversaries.includes(index)) continue
          const l = trainFresh(index, localOnlySteps(index, args.steps))
          out.push([index, evaluateWeights(model, dataset, dataset.test, l.state.weights, { gini })])
          if (keepLocal) localOnlyWeights.set(index, l.weights())
          if (args.intervalPeers?.includes(index) === true) sampled.push([index, l.weights()])
          l.dispose()
        }
        return { perPeer: out, resampled: resample(sampled) }
      },
      /**
       * Key partitions (freMTPL2freq by Region): each honest peer's final model and its local-only model (kept by
       * the localOnly task, else trained here the same way) scored on its own region's rows of the test split
       * (regions.ts). Null for other partitions.
       */
      regions: async (args: { steps: number, metric: string }): Promise<{ column: string | null, peers: RegionPeerFigures[] } | null> => {
        const codes = dataset.partitionCodes
        const values = dataset.partitionValues
        if (!byKey || codes == null || values == null) return null
        const metric = args.metric
        const testByCode = new Map<number, number[]>()
        for (const r of dataset.test) {
          let g = testByCode.get(codes[r])
          if (g == null) { g = []; testByCode.set(codes[r], g) }
          g.push(r)
        }
        const out: RegionPeerFigures[] = []
        for (const index of init.owned) {
          if (init.adversaries.includes(index)) continue
          const shard = shards[index]
          const code = codes[shard.indices[0]]
          const rows = Uint32Array.from(testByCode.get(code) ?? [])
          let exposure = 0
          if (dataset.exposure != null) for (const r of shard.indices) exposure += dataset.exposure[r]
          else exposure = shard.indices.length
          const score = (weights: Float32Array): number | null => {
            if (rows.length === 0) return null
            const v = evaluateWeights(model, dataset, rows, weights, { gini })[metric]
            return typeof v === 'number' && Number.isFinite(v) ? v : null
          }
          const peer = simPeers.get(index)
          const local = localWeights(index, args.steps)
          out.push({
            index, region: values[code], policies: shard.indices.length, exposure, testPolicies: rows.length,
            decentralized: peer != null ? score(peer.weights()) : null, localOnly: score(local)
          })
        }
        return { column: dataset.partitionColumn, peers: out }
      },
      /** Personal models (personal-task.ts); absent when the scenario has no `personal` section. */
      ...(held != null
        ? {
            personal: async (args: { metric: { name: string, higherIsBetter: boolean }, steps: number, rule?: 'one-se' | 'min' }) => await personalTask({
              model, dataset, shards, validation: held.validation, owned: init.owned, adversaries: init.adversaries, byKey,
              networkWeights: (i) => simPeers.get(i)?.weights() ?? null,
              localWeights: (i) => localWeights(i, args.steps)
            })(args)
          }
        : {}),
      /** What was loaded: rows, the split, and the rows the load skipped as bad (for the run's summary). */
      dataInfo: async () => ({ name: dataset.name, rows: dataset.size, trainRows: dataset.train.length, testRows: dataset.test.length, badRows: dataset.badRows }),
      /** Each owned honest peer's privacy spent, and the curious members' membership-inference attacks. */
      privacy: async () => ({ peers: privacy?.report(init.owned) ?? [], membership: privacy?.membership(init.owned) ?? [] }),
      initialWeights: async () => model.initialWeights(initSeed, networkStart),
      ...exactGlmTasks(exact, glmLearners, init, scenario.peers),
      fedavgClients: async (args: { weights: Float32Array, clients: number[], steps: number, round: number }) => args.clients.map((c) => {
        const l = trainFresh(c, args.steps, args.weights, rateAt(args.round))
        const result: [number, Float32Array, number] = [c, l.weights(), l.numExamples()]
        l.dispose()
        return result
      }),
      evaluateWeights: async (args: { weights: Float32Array, which: 'curve' | 'final' }) =>
        evaluateWeights(model, dataset, args.which === 'curve' ? curveRows : dataset.test, args.weights, { gini }),
      /** Bootstrap sums (harness/resampled.ts) of given weights, or of these honest peers' current models. */
      resampled: async (args: { weights?: Float32Array, peers?: number[] }) =>
        resample(args.weights != null ? [[-1, args.weights]] : (args.peers ?? []).filter((i) => simPeers.has(i)).map((i) => [i, simPeers.get(i)!.weights()])),
      /** Each owned peer's shard name (`Rhone-Alpes#3`, `peer-7`). */
      peerNames: async () => init.owned.map((i): [number, string] => [i, shards[i].id]),
      /** Pooled data, one model, `epochs` passes (default 10), learning's runBaseline (linear rate decay). */
      centralized: async (args: { epochs: number | null }) => {
        const epochs = args.epochs ?? 10
        const r = await runBaseline({
          dataset: held != null ? trainingView(dataset, shards) : dataset,
          model: resolveModelSpec(scenario.model),
          epochs,
          seed: `${String(scenario.seed)}:centralized`,
          batchSize,
          evaluateTrain: false
        })
        return { metrics: r.test, epochs, resampled: r.weights != null ? resample([[-1, r.weights]]) : [] }
      }
    },
    close: () => { model.dispose() }
  }
}
