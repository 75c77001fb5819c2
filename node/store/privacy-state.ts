/**
 * The privacy repository's record (bucket 0x0c): this peer's differential-privacy accountant (every DP-SGD
 * step it has taken on its data, learning/privacy/accountant.ts), written before each send so that a restart,
 * even after a crash, continues from what was spent. One record, keyed 'accountant', tied to the network id.
 * The record is checked on the way out (AccountantStateError names what is wrong): a damaged one is refused,
 * never read as "nothing spent".
 */
import { RdpAccountant, type AccountantState } from '../../learning/privacy/index.js'
import { CorruptRecordError } from './buckets.js'

export interface PrivacyRecord {
  version: 1
  /** The network this budget was spent in. */
  networkId: string
  accountant: AccountantState
  /** When it was written (ms since the epoch). */
  at: number
}

export function encodePrivacyRecord (r: PrivacyRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(r))
}

/** Parses and checks a stored record (its accountant state must rebuild). */
export function decodePrivacyRecord (bytes: Uint8Array): PrivacyRecord {
  let v: Partial<PrivacyRecord>
  try { v = JSON.parse(new TextDecoder().decode(bytes)) as Partial<PrivacyRecord> } catch (err) {
    throw new CorruptRecordError(`privacy record: not JSON (${(err as Error).message})`)
  }
  if (v == null || v.version !== 1 || typeof v.networkId !== 'string' || typeof v.at !== 'number') throw new CorruptRecordError('privacy record: expected { version: 1, networkId, accountant, at }')
  RdpAccountant.fromJSON(v.accountant) // throws AccountantStateError naming the field
  return v as PrivacyRecord
}
