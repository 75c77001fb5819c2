/**
 * The simulator: hundreds to thousands of virtual peers running the real peer engine over a virtual network.
 *
 * @example
 * ```ts
 * import { loadScenario, runScenario, writeOutputs, summaryOf } from './simulations/index.js'
 *
 * const scenario = await loadScenario('byzantine', { peers: 30 })   // built-in name or JSON/YAML file
 * const results = await runScenario(scenario, { workers: 2 })
 * console.log(summaryOf(results))                                   // the stable summary keys
 * await writeOutputs(results, './murmur-run')                       // results.json + report.html
 * ```
 */
export { deepMerge } from './merge.js'
export { loadScenario, parseScenario, parseScenarioText, parseCompactSpec, builtinScenarioNames, variantScenario, scenarioSchema, ScenarioError, ATTACK_KINDS, type Scenario, type ScenarioInput, type AttackSpec, type NetworkSpec } from './scenario.js'
export { runScenario, writeOutputs, describeMetric, type RunOptions } from './run.js'
export { summaryOf, renderTable, type Results, type Summary, type CurvePoint } from './results.js'
export { renderReport } from './report.js'
export { evaluateGoals } from './goals.js'
export { Simulation, DEFAULT_FACTORY_MODULE, type DecentralizedResult, type RoundRecord, type SimulationOptions } from './harness/coordinator.js'
export { World, planNetwork, chooseAdversaries, type SimPeer, type PeerContext, type PeerFactory, type WireMessage } from './world.js'
export { SimTransport, PeerUnreachableError, AnnounceTooLargeError } from './sim-transport.js'
export { VirtualClock, ClockWentBackwardsError } from './clock.js'
export { buildTopology, isConnected, clusteringCoefficient, TopologyError, TOPOLOGY_KINDS, type Topology, type TopologySpec } from './topology.js'
export { ChurnSchedule, PartitionSchedule, sampleLatency, minLatency, transferMs, computeFactors } from './network.js'
export { healedLinkRounds, redialInRounds, worstRedialRounds, KEEPER_TIMERS_MS } from './redial.js'
export { createBehaviour, flipsLabels, signFlip, noise, alie, ipm, dissensus, replay, equivocation } from './attacks/index.js'
export { consensusDistance, peerSummary } from './stats.js'
