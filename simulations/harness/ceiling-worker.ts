/** Worker: trains one model in a tight loop for a while and reports steps done (the raw training-step ceiling). */
import { parentPort, workerData } from 'node:worker_threads'
import { setBackend, type BackendName } from '../../learning/backend.js'
import { loadDataset } from '../../learning/builtin.js'
import { Model } from '../../learning/model.js'
import { DatasetLearner } from '../../learning/learner.js'
import type { ModelSpecInput } from '../../learning/specs.js'

const { dataset: name, model: spec, seconds, batchSize, stepsPerCall, backend } = workerData.args as {
  dataset: string, model: ModelSpecInput, seconds: number, batchSize: number, stepsPerCall: number, backend: BackendName
}
await setBackend(backend)
const dataset = await loadDataset(name)
const model = new Model(spec, dataset.info)
const learner = new DatasetLearner({ model, dataset, seed: 1, batchSize })
learner.trainSync(stepsPerCall) // warm-up (kernel compilation, buffers)
parentPort?.postMessage({ ready: true })
await new Promise<void>((resolve) => parentPort?.once('message', () => { resolve() }))
let steps = 0
const started = performance.now()
while (performance.now() - started < seconds * 1000) {
  learner.trainSync(stepsPerCall)
  steps += stepsPerCall
}
parentPort?.postMessage({ steps, ms: performance.now() - started })
