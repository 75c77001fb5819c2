/**
 * The peer environment's half of catching up (catch-up.ts): which peers want state, their neighbours' answers
 * (each peer's current model sealed and signed as an update envelope) and the adoption, all through the engine's
 * own state-sync calls, as the daemon's state-sync service makes them.
 */
import type { PeerKey } from '../../protocol/interfaces.js'
import type { PeerEngine } from '../../protocol/engine/index.js'

export interface AdoptOutcome { peer: number, adopted: boolean, round: number, previousRound: number, from: number[] }

export function stateSyncTasks (engines: ReadonlyMap<number, PeerEngine>, keys: readonly PeerKey[]): Record<string, (args: any) => Promise<unknown>> {
  return {
    stateWanted: async (args: { peers: number[] }) => args.peers.filter((i) => engines.get(i)?.wantsState === true),
    stateEnvelopes: async (args: { peers: number[] }) => {
      const out: Array<[number, Uint8Array]> = []
      for (const i of args.peers) { const e = engines.get(i); if (e != null) out.push([i, await e.stateEnvelope()]) }
      return out
    },
    adoptStates: async (args: { asks: Array<{ peer: number, answers: Array<{ from: number, bytes: Uint8Array }> }> }) => {
      const out: AdoptOutcome[] = []
      for (const ask of args.asks) {
        const e = engines.get(ask.peer)
        if (e == null) continue
        const r = await e.adoptState(ask.answers.map((a) => ({ from: keys[a.from], bytes: a.bytes })))
        out.push(r.adopted
          ? { peer: ask.peer, adopted: true, round: r.round, previousRound: r.previousRound, from: r.from.map((k) => keys.indexOf(k)) }
          : { peer: ask.peer, adopted: false, round: -1, previousRound: -1, from: [] })
      }
      return out
    }
  }
}
