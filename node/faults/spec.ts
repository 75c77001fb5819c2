/**
 * The scenario-file form of the fault harness: `murmur testnet --faults faults.yaml` (or .json). The file names
 * the faults in order and, optionally, the daemons, the round window and the simulator scenario:
 *
 * ```yaml
 * peers: 4
 * window: 20
 * scenario: testnet
 * faults: [late-join, partition-heal, lost-db, disk-full]
 * rttMs: 100      # optional: added round-trip time on every member's link
 * loss: 0.02      # optional: packet loss on every link (root and iptables)
 * ```
 *
 * Validated with zod; every error names the file and the field. Unknown faults are refused with the known names.
 */
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { z } from 'zod'
import YAML from 'yaml'
import { FAULTS } from './builtins.js'

export class FaultSpecError extends Error {
  static override name = 'FaultSpecError'
  override name = 'FaultSpecError'
}

const faultSpecSchema = z.object({
  faults: z.array(z.string()).min(1),
  peers: z.number().int().min(3).max(32).optional(),
  window: z.number().int().min(1).max(100_000).optional(),
  scenario: z.string().min(1).optional(),
  rttMs: z.number().min(0).max(10_000).optional(),
  loss: z.number().min(0).max(0.5).optional(),
  description: z.string().optional()
}).strict()

export type FaultSpec = z.infer<typeof faultSpecSchema>

/** Whether a `--faults` value is a file (a path that exists, or one ending .yaml, .yml or .json). */
export function isFaultSpecFile (value: string): boolean {
  return /\.(ya?ml|json)$/i.test(value) || (value.includes('/') && existsSync(value))
}

/** Parses the text of a fault scenario file; `where` names it in errors. */
export function parseFaultSpec (text: string, where: string): FaultSpec {
  let raw: unknown
  try {
    raw = where.toLowerCase().endsWith('.json') ? JSON.parse(text) : YAML.parse(text, { prettyErrors: true })
  } catch (err) {
    throw new FaultSpecError(`fault scenario ${where}: not valid ${where.toLowerCase().endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`)
  }
  const r = faultSpecSchema.safeParse(raw)
  if (!r.success) {
    const issue = r.error.issues[0]
    throw new FaultSpecError(`fault scenario ${where}: field ${issue.path.length > 0 ? issue.path.join('.') : '(top level)'}: ${issue.message}`)
  }
  r.data.faults.forEach((name, i) => {
    if (!FAULTS.some((f) => f.name === name)) throw new FaultSpecError(`fault scenario ${where}: field faults.${i}: unknown fault '${name}' (built in: ${FAULTS.map((f) => f.name).join(', ')})`)
  })
  return r.data
}

export async function loadFaultSpec (path: string): Promise<FaultSpec> {
  let text: string
  try { text = await readFile(path, 'utf8') } catch (err) { throw new FaultSpecError(`fault scenario ${path}: cannot read it: ${(err as Error).message}`) }
  return parseFaultSpec(text, path)
}
