/**
 * The built-in faults of `murmur testnet --faults`. Each one does to the running network what an operator or a
 * hostile member would, then measures how it recovers against the goals of the long-lived-network issue (a
 * member that catches up is merged within CATCH_UP_GOAL_S; after kills and restarts every member merges again
 * within RECONNECT_GOAL_S; a round jump splits nothing) and says what it checked.
 */
import { rmSync } from 'node:fs'
import { createKeyring } from '../../protocol/membership/index.js'
import { createLibp2pTransport } from '../transport/index.js'
import { createDaemonEnvelopes } from '../wiring.js'
import { toHex } from '../../crypto/index.js'
import type { CatchUpPrediction } from './prediction.js'
import { simulatePartitionHeal, spreadTolerance, CONSENSUS_BACK_FACTOR, type PartitionHealPrediction } from './partition-prediction.js'
import { FaultNet, secondsSince as seconds, type PeerStatus } from './harness.js'
import { diskFull } from './disk-full.js'
import { CATCH_UP_GOAL_S, CONSENSUS_WATCH_ROUNDS, PARTITION_WINDOWS, RECONNECT_GOAL_S, ROUND_JUMP, ROUND_JUMP_WATCH_MS, SPREAD_GOAL_S } from './constants.js'

/** What one fault reports (the harness adds the metric spread before and after). */
export interface FaultOutcome {
  passed: boolean
  /** Why the fault could not run here (e.g. it needs root); it then counts as passed and says so. */
  skipped?: string
  recoverySeconds: number | null
  checks: Record<string, unknown>
  /** The simulator's figures for the same fault beside the daemons' (prediction.ts), where it models it. */
  prediction?: CatchUpPrediction | PartitionHealPrediction
}

export interface Fault {
  name: string
  description: string
  /** Members the harness must not start before this fault runs (late joiners). */
  holdBack?: (net: { peers: number }) => number[]
  /** Rounds the network must have run before the fault (as a multiple of the window). */
  warmUpWindows?: number
  run: (net: FaultNet) => Promise<FaultOutcome>
}

const BAD_RESTART = ['EQUIVOCATION', 'REPLAYED']

/** For each member of `a` and `b`, its connections to members of the other group (by peer key). */
async function crossLinks (net: FaultNet, a: number[], b: number[]): Promise<number[]> {
  const keyOf = new Map(net.identities.map((id, i) => [toHex(id.signPublicKey), i]))
  const inA = new Set(a)
  return await Promise.all([...a, ...b].map(async (i) => {
    const p = await net.daemon(i).get<{ connections: Array<{ peerKey: string | null }> }>('/peers')
    return p.connections.filter((c) => { const j = keyOf.get(c.peerKey ?? ''); return j != null && inA.has(j) !== inA.has(i) }).length
  }))
}

/** Waits until member `i` adopted the network's state, merges, and runs within the window of the others. */
async function caughtUp (net: FaultNet, i: number, since: number): Promise<{ status: PeerStatus, seconds: number, networkRound: number }> {
  const others = net.running().filter((j) => j !== i)
  const status = await net.waitFor(`member ${i} to catch up and merge`, async () => {
    const [s, rest] = await Promise.all([net.status(i), net.statuses(others)])
    return { s, top: Math.max(...rest.map((r) => r.round)) }
  }, ({ s, top }) => (s.stateSync?.adoptions ?? 0) >= 1 && s.totals.updatesMerged > 0 && top - s.round <= net.window)
  return { status: status.s, seconds: seconds(since), networkRound: status.top }
}

/** Member `i`'s held-out metric minus the other running members' mean, now. */
async function gapOf (net: FaultNet, i: number): Promise<number | null> {
  const members = net.running()
  const q = await net.evaluate()
  const k = members.indexOf(i)
  if (q == null || k < 0 || members.length < 2) return null
  const others = q.values.filter((_, j) => j !== k)
  return Number((q.values[k] - others.reduce((a, b) => a + b, 0) / others.length).toFixed(4))
}

/**
 * Starts member `i` (after `prepare` took it down, or for the first time) and measures its catch-up: merged within
 * CATCH_UP_GOAL_S, and none of its updates refused by the others as EQUIVOCATION or REPLAYED.
 */
async function joinAndCatchUp (net: FaultNet, i: number, prepare: () => Promise<void>): Promise<FaultOutcome> {
  const others = net.running().filter((j) => j !== i)
  const before = FaultNet.refused(await net.statuses(others), BAD_RESTART)
  await prepare()
  const networkRound = await net.networkRound()
  const t0 = Date.now()
  await net.spawn(i)
  const { status, seconds: s, networkRound: caughtUpAt } = await caughtUp(net, i, t0)
  const gap = await gapOf(net, i)
  await net.runRounds(5)
  const refused = FaultNet.refused(await net.statuses(others), BAD_RESTART) - before
  const simulator = net.predict ? await net.predictCatchUp(networkRound) : null
  return {
    passed: s <= CATCH_UP_GOAL_S && refused === 0,
    recoverySeconds: s,
    checks: { member: i, networkRoundAtStart: networkRound, goalSeconds: CATCH_UP_GOAL_S, refusedAsEquivocationOrReplayed: refused, round: status.round, stateAdoptions: status.stateSync?.adoptions ?? 0 },
    ...(simulator != null ? { prediction: { simulator, daemons: { roundsToCatchUp: Math.max(0, caughtUpAt - networkRound), gap } } } : {})
  }
}

/** Member `i` down for longer than the window (SIGTERM or SIGKILL), optionally with its database deleted. */
async function comeBack (net: FaultNet, i: number, how: 'term' | 'kill', loseDb: boolean): Promise<FaultOutcome> {
  return await joinAndCatchUp(net, i, async () => {
    await net.stop(i, how)
    if (loseDb) rmSync(net.dbDir(i), { recursive: true, force: true })
    await net.runRounds(2 * net.window + 5)
  })
}

export const FAULTS: Fault[] = [
  {
    name: 'late-join',
    description: 'a member added after the network ran 10x the round window',
    holdBack: (n) => [n.peers - 1],
    warmUpWindows: 10,
    run: async (net) => await joinAndCatchUp(net, net.peers - 1, async () => {})
  },
  {
    name: 'return',
    description: 'a member stopped (SIGTERM) for longer than the round window, then restarted',
    run: async (net) => await comeBack(net, 1, 'term', false)
  },
  {
    name: 'lost-db',
    description: 'a member killed (SIGKILL), its database deleted (identity kept), restarted after the window',
    run: async (net) => await comeBack(net, Math.min(2, net.peers - 2), 'kill', true)
  },
  {
    name: 'kill-9',
    description: 'a member killed with SIGKILL mid-round: its log verifies offline, and it merges again on restart',
    run: async (net) => {
      const i = 1
      await net.stop(i, 'kill')
      const verify = await net.verifyLog(i)
      const t0 = Date.now()
      await net.spawn(i)
      await net.waitFor(`member ${i} merging after the restart`, async () => await net.status(i), (s) => s.totals.updatesMerged > 0 && s.connections > 0)
      const s = seconds(t0)
      return { passed: verify.ok && s <= RECONNECT_GOAL_S, recoverySeconds: s, checks: { member: i, logVerifies: verify.ok, verifyErrors: verify.errors.slice(0, 3), goalSeconds: RECONNECT_GOAL_S } }
    }
  },
  {
    name: 'partition-heal',
    description: `every link between two halves of the members cut (connections die, new ones hang) until every member warns of a split and ${PARTITION_WINDOWS}x the round window more, then healed`,
    run: async (net) => {
      const members = net.running()
      const half = Math.ceil(members.length / 2)
      const a = members.slice(0, half)
      const b = members.slice(half)
      const pre = await net.evaluate()
      const splits = async (): Promise<number[]> => await Promise.all(members.map(async (i) => (await net.daemon(i).get<{ keeper: { splitEpisodes: number } }>('/status')).keeper.splitEpisodes))
      const splitsBefore = await splits()
      const cutRound = await net.networkRound()
      net.partition(a, b)
      const cut = Date.now()
      await net.waitFor('the halves cut off from each other', async () => await crossLinks(net, a, b), (links) => links.every((n) => n === 0))
      // every member of a half of two or more says so: the keeper's split warning (its dials across the cut fail
      // while its half answers); a member alone in its half sees no one answer, which is isolation, not a split
      const inPairs = members.map((i) => (a.includes(i) ? a : b).length > 1)
      await net.waitFor('every member (of a half of two or more) to suspect a split', splits, (n) => n.every((x, k) => !inPairs[k] || x > splitsBefore[k]))
      const splitSuspectedSeconds = seconds(cut)
      await net.runRounds(PARTITION_WINDOWS * net.window)
      const split = await net.evaluate()
      const atHeal = await net.statuses(members)
      const splitRounds = atHeal.map((s) => s.round)
      const merged = atHeal.map((s) => s.totals.updatesMerged)
      const healRound = Math.max(...splitRounds)
      const splitMs = Date.now() - cut
      net.heal()
      const t0 = Date.now()
      await net.waitFor('every member connected across the healed split and merging', async () => ({ links: await crossLinks(net, a, b), ss: await net.statuses(members) }),
        ({ links, ss }) => links.every((n) => n > 0) && ss.every((s, k) => s.totals.updatesMerged > merged[k]), RECONNECT_GOAL_S * 3 * 1000)
      const reconnected = seconds(t0)
      const reconnectRound = await net.networkRound()
      // the metric spread across members back to what it was before the split (or within a point of it)
      const tolerance = spreadTolerance(pre?.spread ?? null)
      // and the consensus distance back under CONSENSUS_BACK_FACTOR x its value before (for the prediction; it may
      // take longer than the spread: watched for at most CONSENSUS_WATCH_ROUNDS after the heal)
      const consensusBack = (q: { consensus: number } | null): boolean => q != null && pre != null && q.consensus <= CONSENSUS_BACK_FACTOR * pre.consensus
      let after = await net.evaluate()
      let spreadRound = await net.networkRound()
      let consensusRound = consensusBack(after) ? spreadRound : null
      while ((after?.spread ?? Infinity) > (pre?.spread ?? 0) + tolerance && seconds(t0) < SPREAD_GOAL_S) {
        await net.runRounds(5)
        after = await net.evaluate()
        spreadRound = await net.networkRound()
        if (consensusRound == null && consensusBack(after)) consensusRound = spreadRound
      }
      const spreadSeconds = seconds(t0)
      const spreadBack = (after?.spread ?? Infinity) <= (pre?.spread ?? 0) + tolerance
      while (net.predict && consensusRound == null && (await net.networkRound()) - healRound < CONSENSUS_WATCH_ROUNDS) {
        await net.runRounds(5)
        const q = await net.evaluate()
        if (consensusBack(q)) consensusRound = await net.networkRound()
      }
      const rounds = (await net.statuses(members)).map((s) => s.round)
      const msPerRound = Number((splitMs / Math.max(1, healRound - cutRound)).toFixed(3))
      const simulator = net.predict
        ? await simulatePartitionHeal({ scenario: net.simScenario, peers: net.peers, windowRounds: net.window, localSteps: net.localSteps, halves: [a, b], cutRound, splitRounds: healRound - cutRound, msPerRound })
        : null
      return {
        passed: reconnected <= RECONNECT_GOAL_S && spreadBack && spreadSeconds <= SPREAD_GOAL_S,
        recoverySeconds: reconnected,
        checks: {
          halves: [a, b], goalSeconds: RECONNECT_GOAL_S, spreadGoalSeconds: SPREAD_GOAL_S, splitSuspectedSeconds,
          consensusBefore: pre?.consensus ?? null, consensusDuringSplit: split?.consensus ?? null,
          spreadBefore: pre?.spread ?? null, spreadDuringSplit: split?.spread ?? null, spreadAfter: after?.spread ?? null, spreadBackSeconds: spreadBack ? spreadSeconds : null,
          roundsAtHeal: splitRounds, roundsAfter: rounds, heldConnections: net.proxies.reduce((n, p) => n + p.stats.held, 0)
        },
        ...(simulator != null
          ? { prediction: { simulator, daemons: { splitRounds: healRound - cutRound, msPerRound, roundsToReconnect: Math.max(0, reconnectRound - healRound), roundsToSpreadBack: spreadBack ? Math.max(0, spreadRound - healRound) : null, roundsToConsensusBack: consensusRound == null ? null : consensusRound - healRound, consensusBefore: pre?.consensus ?? null } } }
          : {})
      }
    }
  },
  {
    name: 'restart-all',
    description: 'every member stopped (SIGTERM) and restarted, the first without --bootstrap',
    run: async (net) => {
      const members = net.running()
      const rounds = new Map((await net.statuses(members)).map((s, k) => [members[k], s.round]))
      for (const i of members) await net.stop(i, 'term')
      const t0 = Date.now()
      await net.spawn(members[0], { bootstrap: [] })
      for (const i of members.slice(1)) await net.spawn(i, { bootstrap: [net.address(members[0])] })
      const all = await net.waitFor('every member connected and merging again', async () => await net.statuses(members),
        (ss) => ss.every((s) => s.connections > 0 && s.totals.updatesMerged > 0))
      const s = seconds(t0)
      const resumed = all.every((st, k) => st.round >= (rounds.get(members[k]) ?? 0))
      return { passed: s <= RECONNECT_GOAL_S && resumed, recoverySeconds: s, checks: { resumedFromCheckpoints: resumed, goalSeconds: RECONNECT_GOAL_S } }
    }
  },
  {
    name: 'round-jump',
    description: `one member sends three signed updates claiming the network's round + ${ROUND_JUMP} to one daemon`,
    run: async (net) => {
      const rogue = net.identities[net.peers] // a member of the manifest that runs no daemon
      const target = net.running()[0]
      const d = net.daemon(target)
      const model = await d.get<{ schemaHash: string, numParams: number, weights: string }>('/model')
      const buf = Buffer.from(model.weights, 'base64')
      const weights = new Float32Array(buf.length / 4)
      new Uint8Array(weights.buffer).set(buf)
      const envelopes = createDaemonEnvelopes({ manifest: net.manifest, keyring: createKeyring(net.manifest, { identity: rogue }), identity: rogue, schemaHash: model.schemaHash, numParams: model.numParams, maxBytes: 1 << 24 })
      const transport = await createLibp2pTransport({ seed: rogue.seed, networkId: net.manifest.id, listen: ['/ip4/127.0.0.1/tcp/0'], targetPeers: 0 })
      await transport.start()
      const verdicts: string[] = []
      try {
        await transport.dial(net.address(target), { signal: AbortSignal.timeout(10_000) })
        const claimed = (await net.networkRound()) + ROUND_JUMP
        const key = (await d.get<{ peerKey: string }>('/status')).peerKey
        for (let k = 0; k < 3; k++) {
          const sealed = await envelopes.seal({ kind: 0, round: claimed, seq: Date.now() * 1000 + k, examples: 100, weight: 100, parents: [] }, weights)
          verdicts.push(String(await transport.sendWithVerdict(key, sealed.bytes, { signal: AbortSignal.timeout(10_000) }).catch((err: Error) => err.name)))
        }
      } finally {
        await transport.stop()
      }
      // watch the honest rounds: no member may be moved past the others' window
      const t0 = Date.now()
      let widest = 0
      while (Date.now() - t0 < ROUND_JUMP_WATCH_MS) {
        const rounds = (await net.statuses()).map((s) => s.round)
        widest = Math.max(widest, Math.max(...rounds) - Math.min(...rounds))
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
      const merged = (await net.statuses()).map((s) => s.totals.updatesMerged)
      await net.runRounds(5)
      const still = (await net.statuses()).every((s, k) => s.totals.updatesMerged > merged[k])
      return {
        passed: widest <= net.window && still,
        recoverySeconds: null,
        checks: { target, verdicts, widestRoundSpread: widest, window: net.window, stillMerging: still }
      }
    }
  }
]

FAULTS.push(diskFull)

/** The named faults, in the order given; an unknown name is an error that lists the known ones. */
export function resolveFaults (names: string[]): Fault[] {
  return names.map((n) => {
    const f = FAULTS.find((x) => x.name === n)
    if (f == null) throw new RangeError(`unknown fault '${n}' (built in: ${FAULTS.map((x) => x.name).join(', ')})`)
    return f
  })
}
