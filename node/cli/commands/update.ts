import type { Command } from 'commander'

/** Registers `murmur update`. (Placeholder registration: its owner replaces this file.) */
export function register (program: Command): void {
  program.command('update').description('(not built yet)').action(() => {
    throw new Error('murmur update is not built yet')
  })
}
