import type { Command } from 'commander'

/** Registers `murmur daemon`. (Placeholder registration: its owner replaces this file.) */
export function register (program: Command): void {
  program.command('daemon').description('(not built yet)').action(() => {
    throw new Error('murmur daemon is not built yet')
  })
}
