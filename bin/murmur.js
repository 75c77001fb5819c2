#!/usr/bin/env node
// The `murmur` command: runs the TypeScript sources through tsx, polyfills first.
import { register } from 'tsx/esm/api'
register()
await import('../node/polyfills.ts')
const { main } = await import('../node/cli/main.ts')
await main(process.argv)
