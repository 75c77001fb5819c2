/**
 * Hosts one World and the peer environment (dataset, shared model, envelopes) it needs, in a worker thread or
 * in the coordinator's own thread. The peer environment comes from a module (`factoryModule`) exporting
 * `createPeerEnvironment`, so tests can drive the world with light peers and real runs with PeerEngine.
 */
import type { PeerKey } from '../../protocol/interfaces.js'
import type { Scenario } from '../scenario.js'
import { World, type PeerFactory, type WorldNotes } from '../world.js'

export interface EnvironmentInit {
  scenario: Scenario
  keys: PeerKey[]
  owned: number[]
  adversaries: number[]
  workerIndex: number
  /** Simulator shortcuts (default: on). `cryptoMemo`: see harness/envelopes.ts. */
  options?: { cryptoMemo?: boolean }
}

export interface PeerEnvironment {
  createPeer: PeerFactory
  /** Notes carried with envelope bytes between worlds (the harness's envelope memo: harness/envelopes.ts). */
  notes?: WorldNotes
  /** Named jobs the coordinator runs on every world (baselines). */
  tasks?: Record<string, (args: any) => Promise<unknown>>
  close?: () => Promise<void> | void
}

/** What a peer-environment module exports. */
export interface PeerEnvironmentModule {
  createPeerEnvironment: (init: EnvironmentInit) => Promise<PeerEnvironment>
  /** Every peer's key, deterministic from the scenario (the coordinator calls this once). */
  peerKeys: (scenario: Scenario) => PeerKey[] | Promise<PeerKey[]>
}

export interface WorldInit extends EnvironmentInit {
  factoryModule: string
}

export class WorldNotReadyError extends Error {
  static override name = 'WorldNotReadyError'
  override name = 'WorldNotReadyError'
}

/** A task the peer environment does not offer (light test environments offer only some). */
export class UnknownTaskError extends Error {
  static override name = 'UnknownTaskError'
  override name = 'UnknownTaskError'
}

export class WorldHost {
  #world: World | null = null
  #env: PeerEnvironment | null = null

  get world (): World {
    if (this.#world == null) throw new WorldNotReadyError('world used before init')
    return this.#world
  }

  async init (init: WorldInit): Promise<void> {
    const mod = await import(init.factoryModule) as PeerEnvironmentModule
    const { factoryModule: _m, ...envInit } = init
    this.#env = await mod.createPeerEnvironment(envInit)
    this.#world = new World({ scenario: init.scenario, keys: init.keys, owned: init.owned, adversaries: init.adversaries, createPeer: this.#env.createPeer, ...(this.#env.notes != null ? { notes: this.#env.notes } : {}) })
    await this.#world.init()
  }

  async task (name: string, args: unknown): Promise<unknown> {
    const fn = this.#env?.tasks?.[name]
    if (fn == null) throw new UnknownTaskError(`the peer environment has no task '${name}'`)
    return await fn(args)
  }

  async close (): Promise<void> {
    await this.#world?.close()
    await this.#env?.close?.()
  }
}
