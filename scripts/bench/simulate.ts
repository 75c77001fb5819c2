/**
 * Simulator benchmarks (`npm run bench -- simulate [--quick]`):
 * - ceiling: the same model (softmax on MNIST, 5 steps per call) trained in a tight loop on both cores;
 * - peer training steps/s at 500 peers (quick: 200) through the whole simulator, and its ratio to the ceiling
 *   (goal >= 0.75);
 * - share of thread time spent in the engine outside training (sealing, signing, validation, decryption,
 *   merging) (goal < 0.10);
 * - wall time per round at 100, 300 and 1,000 peers (quick: 100, 300), and memory per peer at the largest;
 * - built-in scenarios with their goals (default, byzantine, partition-heal; skipped with --quick).
 */
import { loadScenario, type Scenario } from '../../simulations/scenario.js'
import { Simulation } from '../../simulations/harness/coordinator.js'
import { measureCeiling } from '../../simulations/harness/ceiling.js'
import { SIM_MODELS } from '../../simulations/harness/peers.js'
import { runScenario } from '../../simulations/run.js'

export const name = 'simulate'

type Figures = Record<string, number | string | boolean | null>

async function throughput (peers: number, rounds: number): Promise<{ stepsPerSecond: number, msPerRound: number, mergeCryptoShare: number, trainShare: number, rssMiB: number, workers: number }> {
  const scenario: Scenario = await loadScenario('default', {
    peers,
    rounds,
    evaluation: { every: 100_000, curveRows: 100 },
    baselines: { centralized: false, localOnly: false, fedavg: false },
    variants: []
  })
  const sim = await Simulation.create(scenario, { workers: 2 })
  try {
    const r = await sim.run()
    const timing = await sim.task<{ trainMs: number, evaluateMs: number }>('timing', () => ({}))
    const trainMs = timing.reduce((s, t) => s + t.trainMs, 0)
    // The last round also evaluates every peer on the full test split: leave it out of the rates.
    const timed = r.rounds.slice(0, -1)
    const wallMs = timed.reduce((s, x) => s + x.wallMs, 0)
    const steps = timed.reduce((s, x) => s + x.peersActive * scenario.localSteps, 0)
    const busy = r.busyMs.begin + r.busyMs.deliver + r.busyMs.end
    const threadMs = r.rounds.reduce((s, x) => s + x.wallMs, 0) * r.workers - timing.reduce((s, t) => s + t.evaluateMs, 0)
    return {
      stepsPerSecond: steps / (wallMs / 1000),
      msPerRound: wallMs / timed.length,
      mergeCryptoShare: (busy - trainMs) / threadMs,
      trainShare: trainMs / threadMs,
      rssMiB: r.maxRssMiB,
      workers: r.workers
    }
  } finally {
    await sim.close()
  }
}

const round4 = (x: number): number => Number(x.toPrecision(4))

export async function run (options: { quick: boolean }): Promise<Figures> {
  const quick = options.quick
  const out: Figures = { note: 'timings on a shared 2-core machine are contended unless run alone' }
  const ceiling = await measureCeiling({ dataset: 'mnist', model: SIM_MODELS.softmax, threads: 2, seconds: quick ? 3 : 8, stepsPerCall: 5, batchSize: 32 })
  out.ceilingStepsPerSecond = round4(ceiling.stepsPerSecond)
  const n = quick ? 200 : 500
  const t = await throughput(n, quick ? 3 : 5)
  out[`peerStepsPerSecondAt${n}`] = round4(t.stepsPerSecond)
  out.throughputVsCeiling = round4(t.stepsPerSecond / ceiling.stepsPerSecond)
  out.throughputGoalMet = t.stepsPerSecond >= 0.75 * ceiling.stepsPerSecond
  out.mergeCryptoShareOfRound = round4(t.mergeCryptoShare)
  out.trainShareOfRound = round4(t.trainShare)
  out.mergeCryptoGoalMet = t.mergeCryptoShare < 0.10
  out[`msPerRoundAt${n}`] = round4(t.msPerRound)
  const sizes = quick ? [100, 300] : [100, 300, 1000]
  const rss = new Map<number, number>([[n, t.rssMiB]])
  for (const peers of sizes) {
    if (peers === n) continue
    const x = await throughput(peers, 3)
    out[`msPerRoundAt${peers}`] = round4(x.msPerRound)
    rss.set(peers, x.rssMiB)
  }
  // Memory per peer: slope of peak RSS between the smallest and the largest run (the fixed cost of the worker
  // threads, TF.js and the dataset cancels out). The runs share one process, so memory an earlier run left
  // behind can hide the slope: a slope that is not positive is reported as null (not measured), never as 0.
  const lo = Math.min(...rss.keys()); const hi = Math.max(...rss.keys())
  const slopeKiB = ((rss.get(hi) as number) - (rss.get(lo) as number)) * 1024 / (hi - lo)
  out.memoryPerPeerKiB = slopeKiB > 0 ? round4(slopeKiB) : null
  out[`peakRssMiBAt${hi}`] = round4(rss.get(hi) as number)
  // Fidelity: the same small scenario over the virtual network and over real libp2p nodes (memory transport).
  {
    const fidelity = await loadScenario('default', { peers: quick ? 8 : 20, rounds: quick ? 3 : 8, baselines: { centralized: false, localOnly: false, fedavg: false }, variants: [] })
    const simRun = await runScenario(fidelity, { workers: 2, baselines: false })
    const p2pRun = await runScenario({ ...fidelity, transport: 'libp2p' }, { workers: 2, baselines: false })
    out.fidelityPeers = fidelity.peers
    out.fidelitySimMean = simRun.decentralized.mean
    out.fidelityLibp2pMean = p2pRun.decentralized.mean
    const gap = simRun.decentralized.mean != null && p2pRun.decentralized.mean != null ? Math.abs(simRun.decentralized.mean - p2pRun.decentralized.mean) * 100 : null
    out.fidelityGapPoints = gap == null ? null : round4(gap)
    out.fidelityGoalMet = gap != null && gap <= 2
  }
  if (!quick) {
    for (const name of ['default', 'byzantine', 'partition-heal']) {
      const scenario = await loadScenario(name)
      const r = await runScenario(scenario, { workers: 2 })
      out[`${name}.mean`] = r.decentralized.mean
      out[`${name}.worst`] = r.decentralized.min
      out[`${name}.centralized`] = r.centralized.value
      out[`${name}.wallSeconds`] = round4(r.wallSeconds)
      for (const v of r.details.variants) out[`${name}.variant.${v.name}.mean`] = v.decentralized.mean
      r.details.goals.forEach((g, i) => {
        out[`${name}.goal${i + 1}`] = `${g.pass == null ? '?' : g.pass ? 'PASS' : 'FAIL'} ${g.goal}: ${g.measured} (target ${g.target})`
      })
      out[`${name}.goalsMet`] = r.details.goals.every((g) => g.pass === true)
    }
  }
  return out
}
