/**
 * Results sections that other issues add (fault recovery, personal models, privacy accounting). The report reads
 * them when present, in these shapes; anything else under those keys is ignored (its chart is left out), so a
 * results.json from before or after those issues still renders.
 */
import type { Results } from '../results.js'

export interface FaultsSection { perRound: Array<{ round: number, peersDown: number, mean: number | null }> }
/** simulations/personal.ts writes more (localOnly, region, z, own and shared-split figures, perRegion); these keys suffice. */
export interface PersonalSection { perPeer: Array<{ index: number, personal: number | null, network: number | null, localOnly?: number | null }> }
export interface PrivacySection { perRound: Array<{ round: number, epsilon: number }>, budget?: number | null }

export interface ReportExtras {
  faults?: FaultsSection
  personal?: PersonalSection
  privacy?: PrivacySection
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const numOrNull = (v: unknown): boolean => v === null || isNum(v)
const rows = (v: unknown, key: string): unknown[] | null => {
  const a = (v as Record<string, unknown> | null | undefined)?.[key]
  return Array.isArray(a) ? a : null
}
const every = (a: unknown[], ok: (x: Record<string, unknown>) => boolean): boolean =>
  a.every((x) => x != null && typeof x === 'object' && ok(x as Record<string, unknown>))

/** The extra sections of `results` (top level or under `details`) that have the expected shape. */
export function extrasOf (results: Results): ReportExtras {
  const r = results as unknown as Record<string, unknown>
  const d = (r.details ?? {}) as Record<string, unknown>
  const pick = (key: string): unknown => r[key] ?? d[key]
  const out: ReportExtras = {}
  const faults = rows(pick('faults'), 'perRound')
  if (faults != null && every(faults, (x) => isNum(x.round) && isNum(x.peersDown) && numOrNull(x.mean))) out.faults = pick('faults') as FaultsSection
  const personal = rows(pick('personal'), 'perPeer')
  if (personal != null && every(personal, (x) => isNum(x.index) && numOrNull(x.personal) && numOrNull(x.network))) out.personal = pick('personal') as PersonalSection
  const privacy = rows(pick('privacy'), 'perRound')
  if (privacy != null && every(privacy, (x) => isNum(x.round) && isNum(x.epsilon))) out.privacy = pick('privacy') as PrivacySection
  return out
}
