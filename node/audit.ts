/**
 * The update log audit behind `murmur log` and `murmur log --verify`: lists entries and re-checks the hash
 * chain and, for every accepted entry, the envelope's signature, its payload hash, that the header names the
 * logged sender, round and sequence, and that the sender was a member in a manifest version this peer stored.
 * Works without the group key (auditors need no secret).
 */
import { verifyEnvelopeSignature } from '../protocol/messages/index.js'
import { parseManifest, isMember, type NetworkManifest } from '../protocol/membership/index.js'
import type { LevelStore, StoredLogEntry } from './store/index.js'

export interface LogLine {
  index: number
  receivedAt: string
  sender: string
  round: number
  seq: number
  kind: number
  verdict: string
  reason: string | null
  merged: boolean
  id: string
  parents: string[]
  bytes: number
}

export function logLine (e: StoredLogEntry): LogLine {
  return {
    index: e.index,
    receivedAt: new Date(e.receivedAt).toISOString(),
    sender: e.sender,
    round: e.round,
    seq: e.seq,
    kind: e.kind,
    verdict: e.verdict,
    reason: e.reason,
    merged: e.merged,
    id: e.id,
    parents: e.parents,
    bytes: e.envelopeBytes
  }
}

export async function readLogLines (store: LevelStore, options: { from?: number, limit?: number, reverse?: boolean } = {}): Promise<LogLine[]> {
  const out: LogLine[] = []
  for await (const e of store.log({ from: options.from, limit: options.limit, reverse: options.reverse })) out.push(logLine(e))
  return out
}

export interface VerifyReport {
  ok: boolean
  entries: number
  /** The first entry verified: retention deleted older ones, and the chain is checked from its anchor. */
  retainedFrom: number
  accepted: number
  signaturesChecked: number
  head: { count: number, hash: string }
  errors: string[]
}

async function storedManifests (store: LevelStore): Promise<NetworkManifest[]> {
  const out: NetworkManifest[] = []
  const latest = await store.latestManifest()
  if (latest == null) return out
  for (let v = 1; v <= latest.version; v++) {
    const bytes = await store.manifest(v)
    if (bytes != null) out.push(parseManifest(new TextDecoder().decode(bytes), `stored manifest version ${v}`))
  }
  return out
}

export async function verifyStoredLog (store: LevelStore): Promise<VerifyReport> {
  const manifests = await storedManifests(store)
  let accepted = 0
  let checked = 0
  const { entries, retainedFrom, errors } = await store.verifyLog((entry, envelope) => {
    if (entry.verdict !== 'accepted') return null
    accepted++
    if (envelope.length === 0) return null // envelope bytes not kept
    checked++
    const r = verifyEnvelopeSignature(envelope)
    if (!r.ok) return `accepted, but the envelope does not verify: ${r.reason} (${r.detail})`
    if (r.header.sender !== entry.sender) return `header sender ${r.header.sender.slice(0, 12)} differs from the logged sender ${entry.sender.slice(0, 12)}`
    if (entry.id !== '' && r.id !== entry.id) return `update id ${r.id.slice(0, 12)} differs from the logged id ${entry.id.slice(0, 12)}`
    if (r.header.round !== entry.round || r.header.seq !== entry.seq) return `header round/seq ${r.header.round}/${r.header.seq} differ from the logged ${entry.round}/${entry.seq}`
    if (manifests.length > 0 && !manifests.some((m) => isMember(m, r.header.sender))) return `sender ${r.header.sender.slice(0, 12)} is not a member in any stored manifest version`
    return null
  })
  return { ok: errors.length === 0, entries, retainedFrom, accepted, signaturesChecked: checked, head: store.logHead(), errors }
}
