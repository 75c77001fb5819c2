/**
 * Simulator shortcut over the engine's real envelopes (`sealedEnvelopes` of protocol/engine: real encoding,
 * sealing and validation): a memo of the PURE crypto work on one envelope, shared by every receiver of the
 * simulation.
 *
 * A peer sends the same sealed bytes to all its targets, and a world hands every receiver it hosts one shared
 * copy of them. The full validator (size, decode with limits, network, schema, membership, epoch, replay check,
 * ed25519 signature, payload hash, secretbox, decode, norm bound) runs ONCE per envelope in the simulation:
 * - bytes that leave for another world (worker thread) are validated by the sending world when its outbox is
 *   taken (`notes.send`, under a reference validator of the same configuration that is no peer, with a replay
 *   guard of its own); the successful result is remembered for the copy its own receivers get, and travels with
 *   the bytes as a note to the other world (`notes.receive`), which remembers it for the copy it got, after
 *   checking that it was made under the same configuration (`fingerprint`: network, schema, sizes, norm bound,
 *   codec, member keys and group key);
 * - bytes that stay in one world are validated by their first receiver there (with its own replay guard).
 * The result is keyed by the byte array's identity, so only the very same bytes can hit. Every receiver of
 * remembered bytes still runs every check that depends on the receiver: not its own envelope (SELF), the sender
 * is a member of ITS membership view (which must be the very object the entry was made for, so epoch keys and
 * manifest rules are the same), and its OWN replay guard (REPLAYED / EQUIVOCATION). All receivers share the
 * decoded weights read-only (the engine never writes into received weights: OpenResult in
 * protocol/engine/types.ts). Anything unusual (a check fails, another validator configuration) falls back to the
 * full validator, so verdicts, weights and therefore results are bit-identical with and without the memo, with
 * any number of worker threads (test/simulations/harness-envelopes.test.ts).
 *
 * What it skips is what a real network cannot skip: each real receiver verifies the signature and decrypts
 * itself. The benchmark reports merge+crypto time with and without it (`cryptoMemo: false`).
 */
import type { MembershipView } from '../../protocol/messages/index.js'
import { createMemoryReplayGuard } from '../../protocol/messages/index.js'
import type { PeerKey } from '../../protocol/interfaces.js'
import type { Envelopes, OpenContext, OpenResult } from '../../protocol/engine/types.js'
import { sharedCopy, type WorldNotes } from '../world.js'
import { fast, observedProvider, totalTimeObserver, type CryptoProvider } from '../../crypto/index.js'

/** A world's crypto timing: the provider its envelopes use, and the wall time and calls spent in its primitives. */
export interface CryptoTiming {
  crypto: CryptoProvider
  readonly observer: { readonly ms: number, readonly calls: number }
}

/**
 * The provider that times its primitives (sign, verify, secretbox, BLAKE3) for this world, when the thread's
 * environment has MURMUR_CRYPTO_TIMING=1 (the simulate benchmark sets it for its worker threads); null
 * otherwise: the world then uses the fast provider as it is, and nothing is timed.
 */
export function cryptoTiming (env: Record<string, string | undefined> = process.env): CryptoTiming | null {
  if (env.MURMUR_CRYPTO_TIMING !== '1') return null
  const observer = totalTimeObserver()
  return { crypto: observedProvider(fast, observer), observer }
}

type Accepted = Extract<OpenResult, { ok: true }>
interface Entry { result: Accepted, membership: MembershipView, config: object }

/** What travels with envelope bytes to another world: a validation result and the configuration it holds for. */
interface MemoNote { fingerprint: string, result: Accepted }

export interface EnvelopeMemo {
  readonly entries: WeakMap<Uint8Array, Entry>
  /** Opens answered from the memo / full validations (by a receiver, or by the sending world for others). */
  hits: number
  misses: number
  /** Results received from other worlds with their bytes. */
  imported: number
  /** The world's notes hooks (null: this memo does not cross worlds). */
  notes: WorldNotes | null
}

export interface EnvelopeMemoInit {
  /** The membership view every peer of this world validates under (the very object). */
  membership: MembershipView
  /** The validator configuration every peer of this world uses (the very object). */
  config: object
  /** Names the configuration across worlds: equal fingerprints validate alike (network, sizes, members, key). */
  fingerprint: string
  /** A full validator of this configuration that is no peer (validates bytes leaving for other worlds). */
  reference: Envelopes
}

/** A world's memo; with `init`, it also crosses worlds (`notes`, for the World). */
export function envelopeMemo (init?: EnvelopeMemoInit): EnvelopeMemo {
  const memo: EnvelopeMemo = { entries: new WeakMap(), hits: 0, misses: 0, imported: 0, notes: null }
  if (init == null) return memo
  memo.notes = {
    send (outgoing, local) {
      // `outgoing` is a fresh copy for other threads; this world's receivers may already have validated `local`
      let result = local != null ? memo.entries.get(local)?.result : undefined
      if (result == null) {
        memo.misses++
        const r = init.reference.open(outgoing, { round: 0, from: '', replay: createMemoryReplayGuard() })
        if (r instanceof Promise || !r.ok) return undefined // the engine's validator answers synchronously
        result = r
        if (local != null) memo.entries.set(local, { result, membership: init.membership, config: init.config })
      }
      // the note crosses to other threads: its arrays go to shared memory once (copyResult)
      const note: MemoNote = { fingerprint: init.fingerprint, result: copyResult(result) }
      return note
    },
    receive (bytes, note) {
      const n = note as MemoNote
      if (n?.fingerprint !== init.fingerprint || n.result?.ok !== true || memo.entries.has(bytes)) return
      memo.entries.set(bytes, { result: n.result, membership: init.membership, config: init.config })
      memo.imported++
    }
  }
  return memo
}

/**
 * The result for other worlds: its arrays in shared memory, one copy that every world it reaches reads (a plain
 * copy would be copied again by each postMessage on the way, since a note's arrays lie too deep to transfer).
 */
function copyResult (r: Accepted): Accepted {
  return { ok: true, id: r.id, header: { ...r.header, parents: [...r.header.parents] }, weights: sharedCopy(r.weights), indices: r.indices == null ? null : sharedCopy(r.indices) }
}

/**
 * Wraps one peer's real Envelopes with a world's memo. `config` identifies the validator configuration
 * (network, schema, sizes, norm bound): entries made under another configuration are never used.
 */
export function memoizedEnvelopes (inner: Envelopes, memo: EnvelopeMemo, peer: { self: PeerKey, membership: MembershipView, config: object }): Envelopes {
  const remember = (bytes: Uint8Array, r: OpenResult): OpenResult => {
    if (r.ok) memo.entries.set(bytes, { result: r, membership: peer.membership, config: peer.config })
    return r
  }
  return {
    seal: inner.seal,
    open: (bytes: Uint8Array, context: OpenContext): OpenResult | Promise<OpenResult> => {
      const entry = memo.entries.get(bytes)
      if (entry != null && entry.config === peer.config && entry.membership === peer.membership) {
        const r = entry.result
        const h = r.header
        if (h.sender !== peer.self && peer.membership.isMember(h.sender) && context.replay.check(h.sender, h.seq, r.id).ok) {
          memo.hits++
          // the header is the receiver's own; the weights are shared read-only
          return { ok: true, id: r.id, header: { ...h, parents: [...h.parents] }, weights: r.weights, indices: r.indices }
        }
      }
      memo.misses++
      const opened = inner.open(bytes, context)
      // the engine's validator answers synchronously: remember before anyone else can ask
      return opened instanceof Promise ? opened.then((r) => remember(bytes, r)) : remember(bytes, opened)
    }
  }
}
