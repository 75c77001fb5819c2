/** What every world and the coordinator derive identically from a scenario: topology, partitions, bandwidth, compute, adversaries. */
import { createRng } from '../protocol/rng.js'
import { buildTopology, type Topology } from './topology.js'
import { PartitionSchedule, computeFactors, minLatency, peerBandwidths } from './network.js'
import type { Scenario } from './scenario.js'

/** Everything about the network the coordinator and every world derive identically from the scenario. */
export interface NetworkPlan {
  topology: Topology
  partitions: PartitionSchedule
  bandwidth: Float64Array
  computeFactor: Float64Array
  stragglers: number[]
  lookaheadMs: number
}

export function planNetwork (scenario: Scenario): NetworkPlan {
  const rng = createRng(scenario.seed)
  const n = scenario.peers
  const topology = buildTopology(scenario.topology, n, rng.fork('topology'))
  const partitions = new PartitionSchedule(scenario.network.partitions, n, rng.fork('partitions'), scenario.network.redial)
  const bandwidth = peerBandwidths(scenario.network, n, rng)
  const { factors, stragglers } = computeFactors(n, scenario.compute.jitter, scenario.stragglers.fraction, scenario.stragglers.slowdown, rng)
  return { topology, partitions, bandwidth, computeFactor: factors, stragglers, lookaheadMs: minLatency(scenario.network.latency) }
}

/** Peers chosen as adversaries (deterministic from the seed). */
export function chooseAdversaries (scenario: Scenario): number[] {
  const count = Math.round(scenario.adversaries.fraction * scenario.peers)
  if (count === 0) return []
  return createRng(scenario.seed).fork('adversaries')
    .sample(Array.from({ length: scenario.peers }, (_, i) => i), count).sort((a, b) => a - b)
}
