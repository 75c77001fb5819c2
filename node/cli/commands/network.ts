import type { Command } from 'commander'

/** Registers `murmur network`. (Placeholder registration: its owner replaces this file.) */
export function register (program: Command): void {
  program.command('network').description('(not built yet)').action(() => {
    throw new Error('murmur network is not built yet')
  })
}
