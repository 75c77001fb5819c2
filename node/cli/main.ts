/**
 * The `murmur` command line. Each subcommand lives in its own file under `commands/` and exports
 * `register(program)`; heavy modules (TF.js, libp2p, level) load inside the action, so `--help` is instant.
 */
import '../polyfills.js'
import { Command, CommanderError } from 'commander'
import { register as baseline } from './commands/baseline.js'
import { register as simulate } from './commands/simulate.js'
import { register as init } from './commands/init.js'
import { register as network } from './commands/network.js'
import { register as update } from './commands/update.js'
import { register as daemon } from './commands/daemon.js'
import { register as db } from './commands/db.js'

export function buildProgram (): Command {
  const program = new Command('murmur')
    .description('Peer-to-peer learning: train one shared model without pooling data.\n' +
      'Peers sign and encrypt their model updates, gossip them over libp2p and merge by gossip averaging.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
  for (const register of [simulate, baseline, init, network, update, daemon, db]) register(program)
  return program
}

/** Exit codes: 0 ok, 1 failure, 2 usage error, 3 a refused update (update inspect). */
export async function main (argv: string[]): Promise<void> {
  const program = buildProgram()
  program.exitOverride()
  try {
    await program.parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2
      return
    }
    const e = err as Error
    process.stderr.write(`murmur: ${e.name !== 'Error' ? e.name + ': ' : ''}${e.message}\n`)
    if (process.env.MURMUR_DEBUG != null) process.stderr.write(`${e.stack ?? ''}\n`)
    process.exitCode = 1
  }
}
