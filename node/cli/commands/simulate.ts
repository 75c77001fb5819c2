import type { Command } from 'commander'

/** Registers `murmur simulate`. (Placeholder registration: its owner replaces this file.) */
export function register (program: Command): void {
  program.command('simulate').description('(not built yet)').action(() => {
    throw new Error('murmur simulate is not built yet')
  })
}
