/**
 * Simulator shortcut over the engine's real envelopes (`sealedEnvelopes` of protocol/engine: real encoding,
 * sealing and validation): a per-world memo of the PURE crypto work on one envelope.
 *
 * A peer sends the same sealed bytes to all its targets, and the world hands every receiver it hosts one shared
 * copy of them. The first receiver in a world runs the full validator (size, decode with limits, network,
 * schema, membership, epoch, replay check, ed25519 signature, payload hash, secretbox, decode, norm bound); its
 * successful result is remembered for those bytes (keyed by the array's identity, so only the very same bytes
 * can hit). Every later receiver of the same bytes in that world still runs every check that depends on the
 * receiver: not its own envelope (SELF), the sender is a member of ITS membership view (which must be the very
 * object the entry was validated under, so epoch keys and manifest rules are the same), and its OWN replay
 * guard (REPLAYED / EQUIVOCATION); it gets its own copy of the decoded weights. Anything unusual (a check fails,
 * a different validator configuration) falls back to the full validator, so verdicts, weights and therefore
 * results are bit-identical with and without the memo (test/simulations/harness-envelopes.test.ts).
 *
 * What it skips is what a real network cannot skip: each real receiver verifies the signature and decrypts
 * itself. The benchmark reports merge+crypto time with and without it (`cryptoMemo: false`).
 */
import type { MembershipView } from '../../protocol/messages/index.js'
import type { PeerKey } from '../../protocol/interfaces.js'
import type { Envelopes, OpenContext, OpenResult } from '../../protocol/engine/types.js'

interface Entry { result: Extract<OpenResult, { ok: true }>, membership: MembershipView, config: object }

export interface EnvelopeMemo {
  readonly entries: WeakMap<Uint8Array, Entry>
  /** Opens answered from the memo / opens that ran the full validator. */
  hits: number
  misses: number
}

export function envelopeMemo (): EnvelopeMemo {
  return { entries: new WeakMap(), hits: 0, misses: 0 }
}

/**
 * Wraps one peer's real Envelopes with a world's memo. `config` identifies the validator configuration
 * (network, schema, sizes, norm bound): entries made under another configuration are never used.
 */
export function memoizedEnvelopes (inner: Envelopes, memo: EnvelopeMemo, peer: { self: PeerKey, membership: MembershipView, config: object }): Envelopes {
  const remember = (bytes: Uint8Array, r: OpenResult): OpenResult => {
    if (r.ok) {
      // keep a pristine copy: the receiver owns the arrays it was given
      memo.entries.set(bytes, {
        result: { ok: true, id: r.id, header: { ...r.header, parents: [...r.header.parents] }, weights: r.weights.slice(), indices: r.indices == null ? null : r.indices.slice() },
        membership: peer.membership,
        config: peer.config
      })
    }
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
          return { ok: true, id: r.id, header: { ...h, parents: [...h.parents] }, weights: r.weights.slice(), indices: r.indices == null ? null : r.indices.slice() }
        }
      }
      memo.misses++
      const opened = inner.open(bytes, context)
      // the engine's validator answers synchronously: remember before anyone else can ask
      return opened instanceof Promise ? opened.then((r) => remember(bytes, r)) : remember(bytes, opened)
    }
  }
}
