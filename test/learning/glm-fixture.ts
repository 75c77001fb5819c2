/** The R reference fixture (test/fixtures/glm-r-reference.json) and its rows encoded as the dataset loader would. */
import { readFileSync } from 'node:fs'
import type { ColumnSpecInput } from '../../learning/specs.js'
import type { FamilyName, GlmRows } from '../../learning/glm/index.js'

export interface Term { name: string, role: 'categorical' | 'numeric' | 'log-numeric', levels?: string[] }
export interface Case {
  name: string, call: string, family: FamilyName, power: number | null, response: string, exposure: string | null, weight: string | null
  terms: Term[], data: Record<string, Array<number | string>>
  names: string[], estimate: Array<number | null>, stdError: Array<number | null>, statistic: Array<number | null>, pValue: Array<number | null>
  deviance: number, nullDeviance: number, dfResidual: number, dfNull: number, aic: number | null, dispersion: number, iterDefaultControl: number
}
export const fixture = JSON.parse(readFileSync(new URL('../fixtures/glm-r-reference.json', import.meta.url), 'utf8')) as { rVersion: string, command: string, cases: Case[] }

/** One case by name (throws naming the known ones). */
export function fixtureCase (name: string): Case {
  const c = fixture.cases.find((k) => k.name === name)
  if (c == null) throw new Error(`no case '${name}' in the fixture (${fixture.cases.map((k) => k.name).join(', ')})`)
  return c
}

/** The spec columns and encoded rows (float64) the dataset loader would make, with values as they are (no standardization). */
export function encodeCase (c: Case): { columns: ColumnSpecInput[], featureNames: string[], rows: GlmRows } {
  const columns: ColumnSpecInput[] = [{ name: c.response, role: 'label', kind: 'numeric' }]
  const featureNames: string[] = []
  for (const t of c.terms) {
    if (t.role === 'categorical') {
      columns.push({ name: t.name, role: 'categorical', categories: t.levels })
      featureNames.push(...t.levels!.map((l) => `${t.name}=${l}`), `${t.name}=other`)
    } else {
      columns.push({ name: t.name, role: t.role, standardize: false })
      featureNames.push(t.role === 'log-numeric' ? `log(${t.name})` : t.name)
    }
  }
  const n = c.data[c.response].length
  const d = featureNames.length
  const x = new Float64Array(n * d)
  for (let r = 0; r < n; r++) {
    let off = 0
    for (const t of c.terms) {
      const v = c.data[t.name][r]
      if (t.role === 'categorical') {
        x[r * d + off + t.levels!.indexOf(String(v))] = 1
        off += t.levels!.length + 1
      } else {
        x[r * d + off] = t.role === 'log-numeric' ? Math.log(Number(v)) : Number(v)
        off++
      }
    }
  }
  const y = Float64Array.from(c.data[c.response], Number)
  const offset = c.exposure != null ? Float64Array.from(c.data[c.exposure], (v) => Math.log(Number(v))) : null
  const weight = c.weight != null ? Float64Array.from(c.data[c.weight], Number) : null
  return { columns, featureNames, rows: { x, numFeatures: d, y, offset, weight } }
}
