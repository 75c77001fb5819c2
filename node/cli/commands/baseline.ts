/**
 * `murmur baseline`: trains one model on the pooled training split of a dataset and evaluates it on the
 * held-out test split: the centralized reference that decentralized runs are compared with.
 */
import type { Command } from 'commander'

interface BaselineFlags {
  dataset: string
  model?: string
  epochs: string
  seed: string
  batchSize?: string
  backend?: string
  dataDir?: string
  maxRows?: string
  json?: boolean
}

const positiveInt = (name: string, value: string | undefined): number | undefined => {
  if (value == null) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got "${value}"`)
  return n
}

function fmt (v: number | undefined): string {
  if (v == null) return 'n/a'
  return Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4)
}

/** The skipped bad rows of a load, for a command's summary: the count and the first few (none: no lines). */
export function badRowLines (report: { count: number, examples: readonly string[] }, shown = 3): string[] {
  if (report.count === 0) return []
  return [`skipped ${report.count} bad row(s) (onBadRow skip); first:`, ...report.examples.slice(0, shown).map((e) => `  ${e}`)]
}

export function register (program: Command): void {
  program.command('baseline')
    .description('Train a model on the pooled training split and evaluate it on the held-out test split\n' +
      '(the centralized reference for decentralized runs).\n' +
      'Datasets: mnist (embedded, default), fremtpl2freq, adult, digits, sms-spam, or a JSON spec file.\n' +
      'Models: logistic, softmax, linear, mlp, poisson-glm, poisson-mlp, cnn (cpu/tensorflow backends), or a JSON spec file.')
    .option('--dataset <spec|name>', 'dataset: built-in name, JSON spec file or JSON text', 'mnist')
    .option('--model <spec|name>', 'model: built-in name, JSON spec file or JSON text (default per dataset: mnist/digits mlp, fremtpl2freq poisson-glm, adult/sms-spam logistic)')
    .option('--epochs <n>', 'passes over the training split', '3')
    .option('--seed <s>', 'seed of initialization and minibatch order', '1')
    .option('--batch-size <n>', 'minibatch size (default: the model spec\'s, else 32)')
    .option('--backend <name>', 'TF.js backend: wasm (default), cpu, tensorflow, tensorflow-gpu')
    .option('--data-dir <dir>', 'data directory (default: $MURMUR_DATA_DIR, else ../shared/datasets)')
    .option('--max-rows <n>', 'read at most this many rows (quick runs)')
    .option('--json', 'print one JSON object on stdout')
    .addHelpText('after', '\nExamples:\n  murmur baseline                                   # MLP on the embedded MNIST digits\n' +
      '  murmur baseline --dataset fremtpl2freq --json     # Poisson GLM on freMTPL2freq\n' +
      '  murmur baseline --dataset my-data.json --model \'{"type":"mlp","hidden":[64,32]}\'')
    .action(async (flags: BaselineFlags) => {
      const { runBaseline, BACKEND_NAMES } = await import('../../../learning/index.js')
      const epochs = positiveInt('epochs', flags.epochs)!
      const batchSize = positiveInt('batch-size', flags.batchSize)
      const maxRows = positiveInt('max-rows', flags.maxRows)
      if (flags.backend != null && !(BACKEND_NAMES as readonly string[]).includes(flags.backend)) {
        throw new Error(`--backend must be one of ${BACKEND_NAMES.join(', ')}, got "${flags.backend}"`)
      }
      const seed = /^-?\d+$/.test(flags.seed) ? Number(flags.seed) : flags.seed
      const tty = process.stderr.isTTY === true && flags.json !== true
      let bar: import('cli-progress').SingleBar | null = null
      if (tty) {
        const { default: cliProgress } = await import('cli-progress')
        bar = new cliProgress.SingleBar({
          format: 'training |{bar}| {percentage}% | epoch {epoch}/{epochs} | step {value}/{total} | loss {loss} | ETA {eta_formatted}',
          hideCursor: true,
          stream: process.stderr
        }, cliProgress.Presets.shades_classic)
      }
      const controller = new AbortController()
      const onSignal = (): void => { controller.abort(new Error('interrupted')) }
      process.once('SIGINT', onSignal)
      let started = false
      try {
        const result = await runBaseline({
          dataset: flags.dataset,
          model: flags.model,
          epochs,
          seed,
          batchSize,
          backend: flags.backend as 'wasm' | undefined,
          dataDir: flags.dataDir,
          maxRows,
          signal: controller.signal,
          onProgress: (done, total, epoch, loss) => {
            if (bar == null) return
            if (!started) { bar.start(total, 0, { epoch, epochs, loss: 'n/a' }); started = true }
            bar.update(done, { epoch, epochs, loss: Number.isFinite(loss) ? loss.toFixed(4) : 'n/a' })
          }
        })
        bar?.stop()
        const { weights: _w, ...out } = result
        if (flags.json === true) {
          process.stdout.write(JSON.stringify(out, null, 2) + '\n')
          return
        }
        const m = result.metric
        const lines = [
          `dataset ${result.dataset}  model ${result.model} (${result.numParams} parameters)  backend ${result.backend}`,
          `trained ${result.epochs} epochs, ${result.steps} steps of ${result.batchSize} on ${result.trainRows} rows in ${result.wallSeconds.toFixed(1)} s`,
          `test (${result.testRows} held-out rows): ${m.name} = ${fmt(result.test[m.name])} (${m.higherIsBetter ? 'higher' : 'lower'} is better)`,
          ...badRowLines(result.badRows),
          '',
          `${'metric'.padEnd(28)}${'test'.padStart(12)}${'train'.padStart(12)}`,
          ...Object.keys(result.test).map((k) => `${k.padEnd(28)}${fmt(result.test[k]).padStart(12)}${(result.train[k] != null ? fmt(result.train[k]) : '').padStart(12)}`)
        ]
        process.stdout.write(lines.join('\n') + '\n')
      } finally {
        bar?.stop()
        process.off('SIGINT', onSignal)
      }
    })
}
