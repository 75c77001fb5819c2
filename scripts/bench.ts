/**
 * `npm run bench`: runs every benchmark module in scripts/bench/ (or those named on the command line),
 * prints a readable table on stderr and one JSON object with stable keys on stdout.
 *
 * Each module exports `name` and `run(options) => Promise<Record<string, number | string | boolean | null>>`;
 * keys come back prefixed with the module name (`envelope.sealOpen1MiBMs`).
 *
 *   npm run bench                 # all
 *   npm run bench -- crypto       # only scripts/bench/crypto.ts
 *   npm run bench -- --quick      # smaller sizes, for a smoke run
 */
import { readdirSync } from 'node:fs'
import { cpus } from 'node:os'

export type BenchValue = number | string | boolean | null
export interface BenchModule {
  /** Key prefix for this module's figures. */
  name: string
  run: (options: { quick: boolean, signal?: AbortSignal }) => Promise<Record<string, BenchValue>>
}

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const only = args.filter((a) => !a.startsWith('--'))
const dir = new URL('./bench/', import.meta.url)
const files = readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()
  .filter((f) => only.length === 0 || only.includes(f.replace(/\.ts$/, '')))

const results: Record<string, BenchValue> = {
  'meta.node': process.version,
  'meta.cpus': cpus().length,
  'meta.cpuModel': cpus()[0]?.model ?? 'unknown',
  'meta.quick': quick,
  'meta.date': new Date().toISOString()
}
let failed = 0
for (const file of files) {
  const mod = await import(new URL(file, dir).href) as BenchModule
  const started = performance.now()
  process.stderr.write(`bench ${file} ...\n`)
  try {
    const figures = await mod.run({ quick })
    for (const [k, v] of Object.entries(figures)) results[`${mod.name}.${k}`] = v
  } catch (err) {
    failed++
    results[`${mod.name}.error`] = (err as Error).message
    process.stderr.write(`bench ${file} failed: ${(err as Error).stack ?? String(err)}\n`)
  }
  process.stderr.write(`bench ${file} done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
}

const width = Math.max(...Object.keys(results).map((k) => k.length))
process.stderr.write('\n' + Object.entries(results)
  .map(([k, v]) => `${k.padEnd(width)}  ${typeof v === 'number' ? Number(v.toPrecision(6)) : String(v)}`).join('\n') + '\n\n')
process.stdout.write(JSON.stringify(results, null, 2) + '\n')
if (failed > 0) process.exitCode = 1
