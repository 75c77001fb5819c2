/**
 * The raw training-step ceiling: the same model trained in a tight loop (no engine, no network, no crypto) on
 * `threads` worker threads at once, in steps per second summed over threads. The benchmark compares the
 * simulator's peer training throughput with it.
 */
import { Worker } from 'node:worker_threads'
import type { ModelSpecInput } from '../../learning/specs.js'
import { siblingModule } from './module-url.js'

export interface CeilingOptions {
  dataset: string
  model: ModelSpecInput
  threads?: number
  seconds?: number
  batchSize?: number
  /** Steps per call (the simulator calls train(localSteps) per peer and round). */
  stepsPerCall?: number
  backend?: string
  /**
   * Train the simulator's peers instead of one learner over the whole split: the default scenario's shards at this
   * many peers, each thread its contiguous share (as the simulator's worlds hold them), the scenario's local steps
   * per peer in turn (`stepsPerCall` is ignored). The same training as inside a simulation, without the engine.
   */
  peerShards?: number
}

export async function measureCeiling (options: CeilingOptions): Promise<{ stepsPerSecond: number, threads: number }> {
  const threads = options.threads ?? 2
  const args = { dataset: options.dataset, model: options.model, seconds: options.seconds ?? 5, batchSize: options.batchSize ?? 32, stepsPerCall: options.stepsPerCall ?? 5, backend: options.backend ?? 'wasm', peerShards: options.peerShards ?? null, threads }
  const workers = Array.from({ length: threads }, (_, thread) => new Worker(new URL('./worker-boot.mjs', import.meta.url), {
    workerData: { entry: siblingModule('ceiling-worker', import.meta.url), args: { ...args, thread } },
    execArgv: []
  }))
  try {
    const next = (w: Worker): Promise<any> => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject) })
    await Promise.all(workers.map(next))
    const results = await Promise.all(workers.map(async (w) => { const p = next(w); w.postMessage('go'); return await p }))
    const stepsPerSecond = results.reduce((s, r: { steps: number, ms: number }) => s + r.steps / (r.ms / 1000), 0)
    return { stepsPerSecond, threads }
  } finally {
    await Promise.all(workers.map(async (w) => await w.terminate()))
  }
}
