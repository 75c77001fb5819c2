/**
 * The privacy side of a world's peers (scenario `privacy` and `membershipInference`):
 * - each honest peer trains with DP-SGD under its own accountant and budget (learning/privacy/PeerPrivacy), its
 *   noise drawn from its own seeded stream; the epsilon it has spent is noted after every round;
 * - each honest peer is also an honest-but-curious member: it keeps the last model it decrypted from each
 *   neighbour it heard from (what its envelopes opened, exactly what the engine merges), and the `membership`
 *   task runs the loss-threshold attack on each: that neighbour's training rows against as many rows of the
 *   test split, which nobody trained on. Attacking every neighbour heard from (not one) averages over many
 *   shards: one shard of easy rows scores above 0.5 under any model, without any leak. The same member also runs
 *   the offline likelihood-ratio attack, with the models it received from its other neighbours as references
 *   (at most MAX_REFERENCES, the lowest indices first).
 */
import type { PeerKey } from '../../protocol/interfaces.js'
import type { Envelopes } from '../../protocol/engine/types.js'
import { createRng } from '../../protocol/rng.js'
import type { Dataset } from '../../learning/dataset.js'
import type { Model } from '../../learning/model.js'
import type { Shard } from '../../learning/partition.js'
import { PeerPrivacy, type PrivacyStatus } from '../../learning/privacy/index.js'
import { lossThresholdAttack, referenceAttack } from '../attacks/membership.js'
import type { Scenario } from '../scenario.js'

/** References of one likelihood-ratio attack at most (each costs one prediction over the candidate rows). */
const MAX_REFERENCES = 16

/** One peer's privacy at the end of the run, and the epsilon it had spent after each round it ran. */
export interface PeerPrivacyReport extends PrivacyStatus { index: number, perRound: Array<[number, number]> }

/** One curious member's attack on one neighbour it heard from. */
export interface MembershipPair {
  attacker: number
  target: number
  /** Round of the target's update the attack used. */
  round: number
  auc: number
  members: number
  nonMembers: number
  meanLossMembers: number
  meanLossNonMembers: number
  /**
   * The offline likelihood-ratio attack (simulations/attacks/membership.ts referenceAttack) on the same model and
   * rows, its references the models this member received from its other neighbours (null: it heard from no other).
   */
  liraAuc: number | null
  references: number
}

export interface PrivacyWorldInit {
  scenario: Scenario
  dataset: Dataset
  model: Model
  shards: Shard[]
  keys: PeerKey[]
  adversaries: number[]
}

export class PrivacyWorld {
  private readonly privacy = new Map<number, PeerPrivacy>()
  private readonly perRound = new Map<number, Array<[number, number]>>()
  private readonly heard = new Map<number, Map<number, { round: number, weights: Float32Array }>>()
  private readonly indexOf: Map<PeerKey, number>

  constructor (private readonly init: PrivacyWorldInit) {
    this.indexOf = new Map(init.keys.map((k, i) => [k, i]))
  }

  /**
   * The privacy of peer `index` (null without a privacy block, and for adversaries). `sampleRate`: that of one
   * step (default batch size / rows; 1 for the exact GLM, whose releases are over all its rows).
   */
  privacyFor (index: number, sampleRate?: number): PeerPrivacy | undefined {
    const { scenario, shards } = this.init
    if (scenario.privacy == null || this.init.adversaries.includes(index)) return undefined
    const rows = Math.max(1, shards[index].indices.length)
    const normal = createRng(scenario.seed).fork(`privacy:${index}`)
    const p = new PeerPrivacy({ spec: scenario.privacy, normal: () => normal.normal(), sampleRate: sampleRate ?? Math.min(1, scenario.batchSize / rows) })
    this.privacy.set(index, p)
    return p
  }

  /** Notes the epsilon peer `index` has spent after `round` (its training of that round is done). */
  afterRound (index: number, round: number): void {
    const p = this.privacy.get(index)
    if (p == null) return
    let list = this.perRound.get(index)
    if (list == null) { list = []; this.perRound.set(index, list) }
    list.push([round, p.status().epsilon])
  }

  /** Peer `index`'s envelopes, keeping what it opens from its target (curious members only). */
  watch (index: number, envelopes: Envelopes, round: () => number): Envelopes {
    if (this.init.scenario.membershipInference == null || this.init.adversaries.includes(index)) return envelopes
    return {
      seal: envelopes.seal.bind(envelopes),
      open: async (bytes, context) => {
        const r = await envelopes.open(bytes, context)
        if (r.ok && r.indices == null) {
          const sender = this.indexOf.get(r.header.sender)
          let seen = this.heard.get(index)
          if (seen == null) { seen = new Map(); this.heard.set(index, seen) }
          // the newest model from each sender (the engine never writes into received weights: kept as they are)
          if (sender != null) seen.set(sender, { round: round(), weights: r.weights })
        }
        return r
      }
    }
  }

  /** Privacy of the owned honest peers. */
  report (owned: number[]): PeerPrivacyReport[] {
    return owned.filter((i) => this.privacy.has(i)).map((i) => ({ index: i, ...(this.privacy.get(i) as PeerPrivacy).status(), perRound: this.perRound.get(i) ?? [] }))
  }

  /** Every owned curious member's attack on the last model it received from each neighbour (targets in index order). */
  membership (owned: number[]): MembershipPair[] {
    const { scenario, dataset, model, shards } = this.init
    const out: MembershipPair[] = []
    const testRows = Array.from(dataset.test)
    for (const i of owned) {
      const heard = this.heard.get(i)
      if (heard == null) continue
      const sorted = [...heard].sort((a, b) => a[0] - b[0])
      for (const [target, h] of sorted) {
        const members = shards[target].indices
        if (members.length === 0) continue
        const want = Math.min(testRows.length, scenario.membershipInference?.nonMembers ?? members.length)
        const nonMembers = Uint32Array.from(createRng(scenario.seed).fork(`membership:${i}:${target}`).sample(testRows, want))
        const references = sorted.filter(([s]) => s !== target).slice(0, MAX_REFERENCES).map(([, r]) => r.weights)
        const lira = references.length === 0 ? null : referenceAttack(model, h.weights, references, dataset, members, nonMembers).auc
        out.push({ attacker: i, target, round: h.round, ...lossThresholdAttack(model, h.weights, dataset, members, nonMembers), liraAuc: lira, references: references.length })
      }
    }
    return out
  }
}
