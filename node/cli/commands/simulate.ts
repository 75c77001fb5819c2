/**
 * `murmur simulate`: runs a scenario (built-in name or JSON/YAML file) over the simulator's virtual network
 * with the real peer engine, prints decentralized results beside the centralized, local-only and FedAvg
 * baselines, and writes `results.json` and a self-contained `report.html` into `--out`.
 *
 *   npx murmur simulate                                   # the default scenario (100 peers, MNIST, non-IID)
 *   npx murmur simulate --scenario byzantine --json
 *   npx murmur simulate --scenario my.yaml --peers 50 --rule epidemic:fanout=4,merge=clipped --attack sign-flip:fraction=0.2
 *   npx murmur simulate --scenario digits-dirichlet --until-converged patience=3 --rounds 400
 *   npx murmur simulate --scenario fremtpl-regions --data-dir ~/data --local-steps 20 --batch-size 256 --metric devianceExplained
 */
import type { Command } from 'commander'
import { InvalidArgumentError, Option } from 'commander'

function positiveInt (name: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`--${name} must be a non-negative integer, got '${value}'`)
    return n
  }
}

export interface SimulateFlags {
  scenario: string
  peers?: number
  rounds?: number
  rule?: string
  topology?: string
  dataset?: string
  partition?: string
  model?: string
  codec?: string
  attack?: string
  seed?: string
  workers?: number
  backend?: string
  transport?: string
  localSteps?: number
  batchSize?: number
  metric?: string
  dataDir?: string
  /** true or 'patience=5,minDelta=0.001' (or JSON): stop at a plateau; false: run every round. */
  untilConverged?: boolean | string
  out: string
  json?: boolean
  baselines: boolean
  variants: boolean
  progress: boolean
}

/** Turns command-line flags into scenario overrides (a deep merge over the scenario file). */
export async function overridesFromFlags (flags: SimulateFlags): Promise<Record<string, unknown>> {
  const { parseCompactSpec } = await import('../../../simulations/scenario.js')
  const o: Record<string, unknown> = {}
  if (flags.peers != null) o.peers = flags.peers
  if (flags.rounds != null) o.rounds = flags.rounds
  if (flags.seed != null) o.seed = /^-?\d+$/.test(flags.seed) ? Number(flags.seed) : flags.seed
  if (flags.rule != null) o.rule = parseCompactSpec(flags.rule, 'rule', 'rule')
  if (flags.topology != null) o.topology = parseCompactSpec(flags.topology, 'topology')
  if (flags.partition != null) o.partition = parseCompactSpec(flags.partition, 'partition')
  if (flags.dataset != null) o.dataset = flags.dataset.trim().startsWith('{') ? parseCompactSpec(flags.dataset, 'dataset', 'name') : flags.dataset
  if (flags.model != null) o.model = flags.model.trim().startsWith('{') ? parseCompactSpec(flags.model, 'model', 'type') : flags.model
  if (flags.codec != null) o.codec = flags.codec.includes(':') || flags.codec.trim().startsWith('{') ? parseCompactSpec(flags.codec, 'codec', 'name') : flags.codec
  if (flags.attack != null) {
    if (flags.attack === 'none') o.adversaries = { fraction: 0 }
    else {
      const { fraction, ...attack } = parseCompactSpec(flags.attack, 'attack')
      o.adversaries = { fraction: fraction ?? 0.2, attack }
    }
  }
  if (flags.workers != null) o.workers = flags.workers
  if (flags.backend != null) o.backend = flags.backend
  if (flags.transport != null) o.transport = flags.transport
  if (flags.localSteps != null) o.localSteps = flags.localSteps
  if (flags.batchSize != null) o.batchSize = flags.batchSize
  if (flags.metric != null) o.metric = flags.metric
  if (flags.untilConverged === false) o.untilConverged = null
  else if (flags.untilConverged === true) o.untilConverged = {}
  else if (typeof flags.untilConverged === 'string') {
    const t = flags.untilConverged.trim()
    const { _: _head, ...spec } = parseCompactSpec(t.startsWith('{') ? t : `plateau:${t}`, 'until-converged', '_')
    o.untilConverged = spec
  }
  return o
}

export function register (program: Command): void {
  program.command('simulate')
    .description('Simulate a decentralized learning network on this machine: hundreds to thousands of virtual peers ' +
      'running the real peer engine (real sealing and validation) over a virtual network, compared with centralized, ' +
      'local-only and FedAvg baselines. Writes results.json and report.html.')
    .option('-s, --scenario <file|name>', 'scenario file (JSON or YAML) or built-in name', 'default')
    .option('--peers <n>', 'number of peers', positiveInt('peers'))
    .option('--rounds <n>', 'number of rounds', positiveInt('rounds'))
    .option('--rule <rule>', "averaging rule and parameters, e.g. 'epidemic:fanout=3,merge=trimmed-mean' or JSON")
    .option('--topology <t>', "complete | ring | k-regular:k=6 | small-world:k=6,beta=0.1 | erdos-renyi:p=0.05 | s-random:s=3")
    .option('--dataset <d>', 'dataset name (mnist, digits, adult, fremtpl2freq, sms-spam) or spec file')
    .option('--partition <p>', "iid | dirichlet:alpha=0.3 | by-key (the dataset's partition column; more peers than keys subdivide the largest) | size-skew:exponent=1.5")
    .option('--model <m>', 'model name or JSON spec (softmax, logistic, mlp, poisson-glm, poisson-mlp, ...)')
    .option('--codec <c>', 'payload codec: float32 | float16 | int8 | topk:fraction=0.01')
    .option('--attack <a>', "adversaries: 'sign-flip:scale=1000,fraction=0.2', 'alie', 'ipm', 'noise', 'label-flip', 'dissensus', 'replay', 'equivocation', or 'none'")
    .option('--local-steps <n>', 'local training steps per round', positiveInt('local-steps'))
    .option('--batch-size <n>', 'minibatch size of every peer and baseline', positiveInt('batch-size'))
    .addOption(new Option('--metric <m>', 'goal metric of the table and goals (the task must have it; default auc for binary labels, else accuracy, poissonDeviance or mse)')
      .choices(['accuracy', 'auc', 'gini', 'logLoss', 'poissonDeviance', 'devianceExplained', 'mse']))
    .option('--until-converged [spec]', "stop once the goal metric and the consensus distance plateau, --rounds being the cap; spec e.g. 'patience=5,minDelta=0.001,consensusMinDelta=0.05'")
    .option('--no-until-converged', "run every round even if the scenario sets untilConverged")
    .option('--data-dir <dir>', 'folder the datasets are read from (default: MURMUR_DATA_DIR, else ../shared/datasets)')
    .option('--seed <s>', 'seed (every random choice follows from it)')
    .option('--workers <n>', 'worker threads (default: 2, or fewer for tiny runs; 0 runs in the main thread)', positiveInt('workers'))
    .addOption(new Option('--backend <b>', 'TF.js backend').choices(['wasm', 'cpu', 'tensorflow', 'tensorflow-gpu']))
    .addOption(new Option('--transport <t>', 'sim: virtual network; libp2p: real libp2p nodes in one process (up to ~50 peers)').choices(['sim', 'libp2p']))
    .option('-o, --out <dir>', 'directory for results.json and report.html', 'murmur-run')
    .option('--json', 'print the summary as one JSON object on stdout (no table, no progress bar)')
    .option('--no-baselines', 'skip the centralized, local-only and FedAvg baselines')
    .option('--no-variants', "skip the scenario's variants")
    .option('--no-progress', 'no progress bar')
    .action(async (flags: SimulateFlags) => {
      const { loadScenario, ScenarioError } = await import('../../../simulations/scenario.js')
      const { runScenario, writeOutputs } = await import('../../../simulations/run.js')
      const { renderTable, summaryOf } = await import('../../../simulations/results.js')
      if (flags.dataDir != null) {
        // every dataset load (this thread and the worker threads, which inherit the environment) reads from here
        const { resolve } = await import('node:path')
        const { existsSync } = await import('node:fs')
        const dir = resolve(flags.dataDir)
        if (!existsSync(dir)) throw new ScenarioError(`--data-dir ${flags.dataDir}: no such folder`)
        process.env.MURMUR_DATA_DIR = dir
      }
      const scenario = await loadScenario(flags.scenario, await overridesFromFlags(flags))
      const showProgress = flags.progress && flags.json !== true && process.stderr.isTTY === true
      let bar: { start: (total: number, value: number, payload?: object) => void, update: (value: number, payload?: object) => void, stop: () => void, setTotal: (n: number) => void } | null = null
      let phase = ''
      if (showProgress) {
        const { SingleBar, Presets } = (await import('cli-progress')).default
        bar = new SingleBar({
          format: ' {phase} |{bar}| round {value}/{total} | ETA {eta_formatted} | {metric} {mean}',
          hideCursor: true,
          clearOnComplete: true,
          stream: process.stderr
        }, Presets.shades_classic)
      } else if (flags.json !== true) {
        process.stderr.write(`simulating ${scenario.name}: ${scenario.peers} peers, ${scenario.untilConverged != null ? 'until converged, at most ' : ''}${scenario.rounds} rounds\n`)
      }
      const results = await runScenario(scenario, {
        workers: flags.workers ?? scenario.workers,
        baselines: flags.baselines,
        variants: flags.variants,
        onPhase: (p) => {
          phase = p
          if (flags.json !== true && !p.startsWith('decentralized') && !p.startsWith('variant')) process.stderr.write(`  ${p}...\n`)
          if (flags.json !== true && p.startsWith('variant') && bar == null) process.stderr.write(`  ${p}...\n`)
        },
        onRound: (e) => {
          if (bar == null) {
            // Not a terminal: a plain line every tenth of the run (logs stay readable).
            const step = Math.max(1, Math.round(e.rounds / 10))
            if (flags.json !== true && ((e.round + 1) % step === 0 || e.round + 1 === e.rounds)) {
              process.stderr.write(`  ${e.phase}: round ${e.round + 1}/${e.rounds}, ${e.metric} ${e.mean == null ? '-' : e.mean.toFixed(4)}, ${(e.elapsedMs / 1000).toFixed(0)} s\n`)
            }
            return
          }
          const payload = { phase: e.phase, metric: e.metric, mean: e.mean == null ? '-' : e.mean.toFixed(4) }
          if (e.round === 0) { bar.stop(); bar.start(e.rounds, 1, payload) } else { bar.setTotal(e.rounds); bar.update(e.round + 1, payload) }
          if (e.round + 1 === e.rounds) bar.stop()
        }
      })
      void phase
      bar?.stop()
      const paths = await writeOutputs(results, flags.out)
      if (flags.json === true) {
        process.stdout.write(JSON.stringify(summaryOf(results)) + '\n')
      } else {
        process.stdout.write(renderTable(results) + '\n\n')
        process.stdout.write(`wrote ${paths.json}\nwrote ${paths.html}\n`)
      }
    })
}
