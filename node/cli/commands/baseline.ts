import type { Command } from 'commander'

/** Registers `murmur baseline`. (Placeholder registration: its owner replaces this file.) */
export function register (program: Command): void {
  program.command('baseline').description('(not built yet)').action(() => {
    throw new Error('murmur baseline is not built yet')
  })
}
