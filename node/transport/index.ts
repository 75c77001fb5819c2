/**
 * Murmur's libp2p transport.
 *
 * @example
 * ```ts
 * import { createLibp2pTransport } from './node/transport/index.js'
 * const t = await createLibp2pTransport({ seed, networkId: 'n1', listen: ['/ip4/127.0.0.1/tcp/0'] })
 * t.onMessage(async (m) => null)            // the engine validates and merges
 * await t.start(); console.log(t.addresses())
 * await t.send(peerKey, bytes)               // weights over /murmur/update/1.0.0
 * await t.announce(small)                    // gossipsub
 * t.limitMessages(updateMessageLimit(numParams, 'float32'))   // refuse anything larger than one envelope
 * ```
 *
 * Limits: per remote address before authentication (address-limits.ts, with libp2p's pending pool, upgrade
 * timeout and per-host rate), per peer on the update stream (peer-limits.ts), per read (timeout) and per
 * message (message-limit.ts); defaults in constants.ts.
 *
 * For the simulator's `--transport libp2p` mode: `createMemoryTransports(seeds, networkId)` builds up to ~50
 * nodes in one process over `@libp2p/memory`, connected to the first one, with peer exchange filling the mesh.
 */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import type { PeerKey } from '../../protocol/interfaces.js'
import { Libp2pTransport, type Libp2pTransportInit } from './libp2p-transport.js'
import { createMurmurLibp2p, type Membership, type MurmurLibp2pInit } from './node.js'
import { AddressLimits } from './address-limits.js'

export * from './constants.js'
export { AddressLimits, addressKey, type AddressLimitsInit, type AddressLimitStats } from './address-limits.js'
export { PeerLimits, type PeerLimitsInit } from './peer-limits.js'
export { updateMessageLimit } from './message-limit.js'
export * from './peer-key.js'
export { Libp2pTransport, MessageTooLargeError, PeerUnreachableError, PEERS_PROTOCOL, type Libp2pTransportInit, type TransportStats } from './libp2p-transport.js'
export { createMurmurLibp2p, membershipGater, messageId, type Membership, type MurmurLibp2p, type MurmurLibp2pInit } from './node.js'
export { ReadTimeoutError, RemoteRefusedError, StreamProtocolError } from './update-stream.js'

export type CreateTransportInit = Omit<MurmurLibp2pInit, 'privateKey'> & Omit<Libp2pTransportInit, 'networkId'> & {
  /** 32-byte ed25519 seed (the keystore's signing seed) or a ready libp2p private key. */
  seed?: Uint8Array
  privateKey?: PrivateKey
}

export async function privateKeyFromSeed (seed: Uint8Array): Promise<PrivateKey> {
  if (seed.length !== 32) throw new RangeError(`an ed25519 seed has 32 bytes, got ${seed.length}`)
  return await generateKeyPairFromSeed('Ed25519', seed)
}

/** Creates a libp2p node and its Transport (not started: call `start()`). */
export async function createLibp2pTransport (init: CreateTransportInit): Promise<Libp2pTransport> {
  const privateKey = init.privateKey ?? (init.seed != null ? await privateKeyFromSeed(init.seed) : undefined)
  if (privateKey == null) throw new TypeError('createLibp2pTransport needs a seed or a privateKey')
  const addressLimits = init.addressLimits ?? new AddressLimits(init)
  const libp2p = await createMurmurLibp2p({ ...init, privateKey, addressLimits })
  return new Libp2pTransport(libp2p, init, addressLimits.stats)
}

let memoryCounter = 0

/**
 * Builds `seeds.length` started transports over `@libp2p/memory` in this process, all dialled to the first
 * (the bootstrap), loopback scoring relaxed. Peer exchange then spreads connections. Stop each when done.
 */
export async function createMemoryTransports (seeds: Uint8Array[], networkId: string, options: {
  membership?: Membership
  targetPeers?: number
  init?: Partial<CreateTransportInit>
} = {}): Promise<Libp2pTransport[]> {
  const run = `${process.pid}-${++memoryCounter}`
  const out: Libp2pTransport[] = []
  for (let i = 0; i < seeds.length; i++) {
    const t = await createLibp2pTransport({
      ...options.init,
      seed: seeds[i],
      networkId,
      transport: 'memory',
      listen: [`/memory/murmur-${run}-${i}`],
      membership: options.membership,
      loopbackTestNetwork: true,
      targetPeers: options.targetPeers ?? Math.min(8, seeds.length - 1),
      peerExchangeIntervalMs: options.init?.peerExchangeIntervalMs ?? 500
    })
    await t.start()
    out.push(t)
  }
  const first = out[0]?.addresses()[0]
  if (first != null) await Promise.all(out.slice(1).map(async (t) => await t.dial(first)))
  return out
}

/** Resolves when every transport sees at least `min` neighbours (gossipsub subscribers), or rejects on abort. */
export async function waitForNeighbours (transports: Libp2pTransport[], min: number, options: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<void> {
  const signal = options.signal ?? AbortSignal.timeout(options.timeoutMs ?? 20_000)
  while (!transports.every((t) => t.neighbours().length >= Math.min(min, transports.length - 1))) {
    signal.throwIfAborted()
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export type { PeerKey }
