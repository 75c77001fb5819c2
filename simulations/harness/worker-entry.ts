/**
 * Entry of a simulation worker thread: hosts one `World` (a share of the peers) and serves the coordinator's
 * calls. The peer factory is loaded from a module named by the coordinator (`harness/peers.ts` for real runs).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { WorldHost, type WorldInit } from './world-host.js'

if (parentPort == null) throw new Error('worker-entry must run in a worker thread')
const host = new WorldHost()
const port = parentPort
const { serve } = await import('./rpc.js')
serve(port, {
  init: async (init: WorldInit) => { await host.init(init) },
  startRound: async (round: number, offline: number[]) => await host.world.startRound(round, offline),
  runWindow: async (until: number, inbound: any[]) => await host.world.runWindow(until, inbound),
  endRound: async (round: number, options: any) => await host.world.endRound(round, options),
  counters: async () => host.world.counters(),
  task: async (name: string, args: unknown) => await host.task(name, args),
  close: async () => { await host.close() }
})
void workerData
