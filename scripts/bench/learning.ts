/**
 * Learning benchmarks: training steps per second per backend (MLP 784-128-10 at batch 32 on MNIST, Poisson GLM
 * on freMTPL2freq), the cost of sharing one model runtime between peers, dataset load time, and the
 * centralized baselines' test metrics.
 *
 *   npm run bench -- learning [--quick]
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  setBackend, loadDataset, Model, createLearner, runBaseline, defaultDataDir, type Dataset
} from '../../learning/index.js'
import type { BenchValue } from '../bench.js'

export const name = 'learning'

function stepsPerSecond (model: Model, data: Dataset, batchSize: number, steps: number): number {
  const learner = createLearner({ model, dataset: data, seed: 1, batchSize })
  learner.trainSync(Math.min(20, steps)) // warm-up: kernel setup, JIT
  const t = performance.now()
  learner.trainSync(steps)
  return steps / ((performance.now() - t) / 1000)
}

export async function run ({ quick }: { quick: boolean }): Promise<Record<string, BenchValue>> {
  const out: Record<string, BenchValue> = {}
  const mnist = await loadDataset('mnist')
  const mlp = { type: 'mlp' as const, hidden: [128], optimizer: { type: 'adam' as const, learningRate: 0.001 } }

  for (const backend of ['wasm', 'cpu'] as const) {
    const active = await setBackend(backend, { fallback: false }).catch(() => null)
    if (active !== backend) { out[`mlp784x128x10.${backend}.stepsPerSec`] = null; continue }
    const model = new Model(mlp, mnist.info)
    const steps = backend === 'cpu' ? (quick ? 20 : 60) : (quick ? 200 : 1000)
    const sps = stepsPerSecond(model, mnist, 32, steps)
    out[`mlp784x128x10.${backend}.stepsPerSec`] = sps
    out[`mlp784x128x10.${backend}.msPerStep`] = 1000 / sps
    model.dispose()
  }
  await setBackend('wasm')

  // Softmax regression on MNIST (7,850 parameters), 1,000 peers x 1 step: plain-JS step vs TF.js step on wasm
  for (const engine of ['js', 'tfjs'] as const) {
    const model = new Model({ type: 'softmax', optimizer: { type: 'sgd', learningRate: 0.05 } }, mnist.info, { engine })
    const peers = Array.from({ length: 1000 }, (_, i) => createLearner({ model, dataset: mnist, seed: i, batchSize: 8, shard: mnist.train.subarray(i * 8, i * 8 + 8) }))
    for (const p of peers) p.trainSync(1)
    let best = 0
    for (let rep = 0; rep < (quick ? 1 : 3); rep++) {
      const t = performance.now()
      for (const p of peers) p.trainSync(1)
      best = Math.max(best, 1000 / ((performance.now() - t) / 1000))
    }
    out[`softmax1000peers.${engine}.stepsPerSec`] = best
    model.dispose()
  }

  // Peers sharing one runtime: 100 peers x 5 steps, round-robin, vs one learner doing the same 500 steps.
  {
    const model = new Model(mlp, mnist.info)
    const peers = Array.from({ length: 100 }, (_, i) => createLearner({
      model, dataset: mnist, seed: i, batchSize: 32, shard: mnist.train.subarray(i * 80, i * 80 + 80)
    }))
    const big = createLearner({ model, dataset: mnist, seed: 1, batchSize: 32 })
    for (const p of peers) p.trainSync(1)
    big.trainSync(20)
    // alternate the two measurements and keep each one's best, so that load from other processes biases neither
    let shared = 0; let tight = 0
    for (let rep = 0; rep < (quick ? 2 : 4); rep++) {
      let t = performance.now()
      for (const p of peers) p.trainSync(5)
      shared = Math.max(shared, 500 / ((performance.now() - t) / 1000))
      t = performance.now()
      big.trainSync(500)
      tight = Math.max(tight, 500 / ((performance.now() - t) / 1000))
    }
    out['sharedRuntime.peers'] = peers.length
    out['sharedRuntime.stepsPerSec'] = shared
    out['sharedRuntime.tightLoopStepsPerSec'] = tight
    out['sharedRuntime.efficiency'] = shared / tight
    out['sharedRuntime.bytesPerPeerAdam'] = model.numParams * 4 * 3 + 80 * 4
    model.dispose()
  }

  const fre = join(defaultDataDir(), 'freMTPL2freq.csv.gz')
  if (!existsSync(fre)) {
    out['fremtpl2freq.loadSeconds'] = null
    out['poissonGlm.wasm.stepsPerSec'] = null
    return out
  }
  const t0 = performance.now()
  const data = await loadDataset('fremtpl2freq')
  out['fremtpl2freq.loadSeconds'] = (performance.now() - t0) / 1000
  out['fremtpl2freq.rows'] = data.size
  out['fremtpl2freq.features'] = data.numFeatures
  const glm = { type: 'poisson-glm' as const, outputBiasInit: -2.3, optimizer: { type: 'adam' as const, learningRate: 0.01 } }
  // linear models train with a plain-JS step by default (engine 'js'); the TF.js step per backend for comparison
  for (const backend of ['js', 'wasm', 'cpu'] as const) {
    if (backend !== 'js') await setBackend(backend)
    const model = new Model(glm, data.info, { engine: backend === 'js' ? 'js' : 'tfjs' })
    for (const batch of [32, 512]) {
      out[`poissonGlm.${backend}.batch${batch}.stepsPerSec`] = stepsPerSecond(model, data, batch, quick ? 200 : 1000)
    }
    model.dispose()
  }
  await setBackend('wasm')
  if (!quick) {
    const glm = await runBaseline({ dataset: data, model: 'poisson-glm', epochs: 3, seed: 1 })
    out['fremtpl2freq.glm.testPoissonDeviance'] = glm.test.poissonDeviance
    out['fremtpl2freq.glm.testNullDeviance'] = glm.test.nullDeviance
    out['fremtpl2freq.glm.testDevianceExplained'] = glm.test.devianceExplained
    out['fremtpl2freq.glm.wallSeconds'] = glm.wallSeconds
    const nn = await runBaseline({ dataset: data, model: 'poisson-mlp', epochs: 5, seed: 1 })
    out['fremtpl2freq.poissonMlp.testPoissonDeviance'] = nn.test.poissonDeviance
    out['fremtpl2freq.poissonMlp.testDevianceExplained'] = nn.test.devianceExplained
    out['fremtpl2freq.poissonMlp.wallSeconds'] = nn.wallSeconds
    const m = await runBaseline({ dataset: mnist, model: 'mlp', epochs: 3, seed: 1 })
    out['mnist.mlp.testAccuracy'] = m.test.accuracy
    out['mnist.mlp.wallSeconds'] = m.wallSeconds
  }
  return out
}
