/**
 * The peer environment `murmur simulate` uses: the harness's real peers (`harness/peers.ts`: PeerEngine,
 * TF.js learners, sealed envelopes) with what the scenario reports need on top:
 *
 * - a `regions` task: for key partitions (freMTPL2freq by Region), each honest peer's final model and its
 *   local-only model scored on its own region's rows of the test split (see regions.ts).
 *
 * It wraps the harness's environment through its public interface only (createPeer, tasks), so the harness
 * can change inside.
 */
import { partitionOptions } from './scenario.js'
import type { SimPeer } from './world.js'
import type { EnvironmentInit, PeerEnvironment } from './harness/world-host.js'
import * as base from './harness/peers.js'
import type { RegionPeerFigures } from './regions.js'

export const peerKeys = base.peerKeys
export const describeMetric = base.describeMetric

export async function createPeerEnvironment (init: EnvironmentInit): Promise<PeerEnvironment> {
  const env = await base.createPeerEnvironment(init)
  const { scenario } = init
  const peers = new Map<number, SimPeer>()
  const honest = new Set(init.owned.filter((i) => !init.adversaries.includes(i)))

  const createPeer: PeerEnvironment['createPeer'] = async (ctx) => {
    const peer = await env.createPeer(ctx)
    peers.set(ctx.index, peer)
    return peer
  }

  /**
   * Each honest peer of this world: its final model and a fresh local-only model (the harness's local-only
   * baseline replayed: same seed, same steps), both scored on its region's test rows. Null when the
   * partition is not by key. Loads its own copy of the dataset for the time of the task.
   */
  const regions = async (args: { steps: number }): Promise<{ column: string | null, peers: RegionPeerFigures[] } | null> => {
    const p = scenario.partition as { kind: string }
    if (p.kind !== 'by-key') return null
    const [{ loadDataset }, { partition }, { Model }, { DatasetLearner, evaluateWeights }, { primaryMetric }] = await Promise.all([
      import('../learning/builtin.js'), import('../learning/partition.js'), import('../learning/model.js'),
      import('../learning/learner.js'), import('../learning/metrics.js')
    ])
    const dataset = await loadDataset(scenario.dataset as never)
    const codes = dataset.partitionCodes
    const values = dataset.partitionValues
    if (codes == null || values == null) return null
    const metric = primaryMetric(dataset.task).name
    const shards = partition(dataset, partitionOptions(scenario))
    const testByCode = new Map<number, number[]>()
    for (const r of dataset.test) {
      let g = testByCode.get(codes[r])
      if (g == null) { g = []; testByCode.set(codes[r], g) }
      g.push(r)
    }
    const model = new Model(base.resolveModelSpec(scenario.model), dataset.info)
    const out: RegionPeerFigures[] = []
    try {
      for (const index of init.owned) {
        if (!honest.has(index)) continue
        const shard = shards[index]
        const code = codes[shard.indices[0]]
        const rows = Uint32Array.from(testByCode.get(code) ?? [])
        let exposure = 0
        if (dataset.exposure != null) for (const r of shard.indices) exposure += dataset.exposure[r]
        else exposure = shard.indices.length
        const score = (weights: Float32Array): number | null => {
          if (rows.length === 0) return null
          const v = evaluateWeights(model, dataset, rows, weights)[metric]
          return typeof v === 'number' && Number.isFinite(v) ? v : null
        }
        const peer = peers.get(index)
        const decentralized = peer != null ? score(peer.weights()) : null
        // As the harness's localOnly task: same seeds, constant base rate, at most 20 epochs of the shard.
        const learner = new DatasetLearner({
          model,
          dataset,
          shard,
          seed: `${String(scenario.seed)}:baseline:${index}`,
          initSeed: `${String(scenario.seed)}:init`,
          batchSize: scenario.batchSize
        })
        learner.trainSync(Math.min(args.steps, 20 * learner.stepsPerEpoch()))
        const localOnly = score(learner.state.weights)
        learner.dispose()
        out.push({ index, region: values[code], policies: shard.indices.length, exposure, testPolicies: rows.length, decentralized, localOnly })
      }
    } finally {
      model.dispose()
    }
    return { column: dataset.partitionColumn, peers: out }
  }

  return {
    createPeer,
    tasks: { ...env.tasks, regions },
    close: env.close
  }
}
