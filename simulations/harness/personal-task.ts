/**
 * The simulator's side of personal models (learning/personal.ts): each peer's own validation rows held out of
 * its shard, the training view of the dataset the centralized baseline pools, and the world task that chooses
 * and scores every honest peer's personal model after the run.
 *
 * Own rows (where "better off" is judged, never used to choose): for key partitions the peer's key value's rows
 * of the shared test split (the policies that region would price, as in regions.ts); for other partitions the
 * shared test split itself (iid shards come from the same population; for label-skewed splits it is only an
 * approximation of the peer's own population, and the results say `ownRows: 'shared split'`).
 */
import type { Dataset } from '../../learning/dataset.js'
import type { Model } from '../../learning/model.js'
import type { Shard } from '../../learning/partition.js'
import { holdOutRows } from '../../learning/personal.js'
import { choosePersonal, evaluatePersonal, type PersonalFigures } from '../../learning/personal-model.js'

/** Each shard less its own validation rows (seeded per peer from the scenario seed), and those rows. */
export function holdOutShards (shards: readonly Shard[], fraction: number, seed: number | string): { shards: Shard[], validation: Uint32Array[] } {
  const split = shards.map((s, i) => holdOutRows(s.indices, fraction, `${String(seed)}:personal:${i}`))
  return { shards: shards.map((s, i) => ({ ...s, indices: split[i].train })), validation: split.map((x) => x.validation) }
}

/** The dataset with `train` = the union of the shards' training rows (features shared, not copied). */
export function trainingView (dataset: Dataset, shards: readonly Shard[]): Dataset {
  let n = 0
  for (const s of shards) n += s.indices.length
  const train = new Uint32Array(n)
  let o = 0
  for (const s of shards) { train.set(s.indices, o); o += s.indices.length }
  train.sort()
  return Object.create(dataset, { train: { value: train } }) as Dataset
}

/** One honest peer's personal model and its figures (computed in the worlds). */
export interface PersonalPeerFigures {
  index: number
  /** The peer's key value (region) for key partitions, else null. */
  region: string | null
  mode: 'parameters' | 'predictions'
  z: number
  /** Selection loss name and its values on the peer's own validation rows. */
  loss: string
  validation: { rows: number, network: number, localOnly: number, personal: number, canTell: boolean }
  own: PersonalFigures
  shared: PersonalFigures
}

export interface PersonalTaskContext {
  model: Model
  dataset: Dataset
  shards: readonly Shard[]
  validation: readonly Uint32Array[]
  owned: readonly number[]
  adversaries: readonly number[]
  byKey: boolean
  /** The peer's final network model (null when it has none). */
  networkWeights: (index: number) => Float32Array | null
  /** The peer's local-only model (the localOnly task's, else trained the same way). */
  localWeights: (index: number) => Float32Array
}

/** The world task `personal`: every honest peer of this world, in index order. */
export function personalTask (ctx: PersonalTaskContext): (args: { metric: { name: string, higherIsBetter: boolean }, rule?: 'one-se' | 'min' }) => Promise<{ ownRows: 'region test rows' | 'shared split', peers: PersonalPeerFigures[] }> {
  return async (args) => {
    const { dataset, model } = ctx
    const codes = dataset.partitionCodes
    const values = dataset.partitionValues
    const byRegion = ctx.byKey && codes != null && values != null
    const testByCode = new Map<number, Uint32Array>()
    if (byRegion) {
      const lists = new Map<number, number[]>()
      for (const r of dataset.test) {
        let g = lists.get(codes[r])
        if (g == null) { g = []; lists.set(codes[r], g) }
        g.push(r)
      }
      for (const [c, l] of lists) testByCode.set(c, Uint32Array.from(l))
    }
    const peers: PersonalPeerFigures[] = []
    for (const index of [...ctx.owned].sort((a, b) => a - b)) {
      if (ctx.adversaries.includes(index)) continue
      const network = ctx.networkWeights(index)
      if (network == null) continue
      const local = ctx.localWeights(index)
      const choice = choosePersonal(model, dataset, ctx.validation[index] ?? new Uint32Array(0), network, local, { metric: args.metric, rule: args.rule })
      const shared = evaluatePersonal(model, dataset, dataset.test, choice, args.metric)
      const code = byRegion && ctx.shards[index].indices.length > 0 ? codes[ctx.shards[index].indices[0]] : null
      const own = code != null ? evaluatePersonal(model, dataset, testByCode.get(code) ?? new Uint32Array(0), choice, args.metric) : shared
      peers.push({
        index,
        region: code != null && values != null ? values[code] : null,
        mode: choice.mode,
        z: choice.z,
        loss: choice.loss,
        validation: choice.validation,
        own,
        shared
      })
    }
    return { ownRows: byRegion ? 'region test rows' : 'shared split', peers }
  }
}
