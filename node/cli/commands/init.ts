import type { Command } from 'commander'

/** Registers `murmur init`. (Placeholder registration: its owner replaces this file.) */
export function register (program: Command): void {
  program.command('init').description('(not built yet)').action(() => {
    throw new Error('murmur init is not built yet')
  })
}
