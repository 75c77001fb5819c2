/**
 * Worker: trains in a tight loop for a while and reports steps done (the raw training-step ceiling): one learner
 * over the whole training split, or (`peerShards`) this thread's share of the simulator's peers, in turn.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { setBackend, type BackendName } from '../../learning/backend.js'
import { loadDataset } from '../../learning/builtin.js'
import { Model } from '../../learning/model.js'
import { DatasetLearner } from '../../learning/learner.js'
import { partition } from '../../learning/partition.js'
import type { ModelSpecInput } from '../../learning/specs.js'
import { loadScenario, partitionOptions } from '../scenario.js'
import { peerShares } from './coordinator.js'

const { dataset: name, model: spec, seconds, batchSize, stepsPerCall, backend, peerShards, thread, threads } = workerData.args as {
  dataset: string, model: ModelSpecInput, seconds: number, batchSize: number, stepsPerCall: number, backend: BackendName,
  peerShards: number | null, thread: number, threads: number
}
await setBackend(backend)
const dataset = await loadDataset(name)
const model = new Model(spec, dataset.info)
let learners: DatasetLearner[]
let perCall = stepsPerCall
if (peerShards == null) {
  learners = [new DatasetLearner({ model, dataset, seed: 1, batchSize })]
} else {
  // the simulator's split: contiguous shares of the default scenario's peers, one per thread
  const scenario = await loadScenario('default', { peers: peerShards, dataset: name })
  const shards = partition(dataset, partitionOptions(scenario))
  perCall = scenario.localSteps // a peer's round
  learners = peerShares(shards.length, threads)[thread].map((i) => new DatasetLearner({ model, dataset, shard: shards[i], seed: `ceiling:${i}`, batchSize }))
}
for (const l of learners) l.trainSync(perCall) // warm-up (kernel compilation, buffers)
parentPort?.postMessage({ ready: true })
await new Promise<void>((resolve) => parentPort?.once('message', () => { resolve() }))
let steps = 0
const started = performance.now()
while (performance.now() - started < seconds * 1000) {
  for (const l of learners) l.trainSync(perCall)
  steps += perCall * learners.length
}
parentPort?.postMessage({ steps, ms: performance.now() - started })
