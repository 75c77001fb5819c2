/**
 * Limits before authentication: how many inbound connections one remote address may have upgrading (noise and
 * yamux not finished) and open at once. libp2p counts upgrading connections against one global pool
 * (`maxIncomingPendingConnections`); without a per-address cap, idle sockets from one host fill that pool and
 * every member's dial is refused until they time out. This gater refuses the excess at once, so it never holds
 * a slot, and forgets a connection when it closes.
 *
 * An address is an IPv4 host or an IPv6 /64 (one subscriber usually holds a whole /64). Connections without an
 * IP (the in-process memory transport) are not limited.
 */
import { isIPv6 } from 'node:net'
import type { MultiaddrConnection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { DEFAULT_MAX_INBOUND_PER_ADDRESS, DEFAULT_MAX_PENDING_PER_ADDRESS } from './constants.js'

export interface AddressLimitsInit {
  /** Inbound connections from one address that may be upgrading at once. */
  maxPendingPerAddress?: number
  /** Inbound connections from one address, upgrading or open. */
  maxInboundPerAddress?: number
}

export interface AddressLimitStats {
  /** Inbound connections refused because their address already had `maxPendingPerAddress` upgrading. */
  refusedPending: number
  /** Inbound connections refused because their address already had `maxInboundPerAddress`. */
  refusedInbound: number
}

interface Counts { pending: number, open: number }

/** The limiting key of a remote address: IPv4 host, IPv6 /64, or null (no IP). */
export function addressKey (addr: Multiaddr): string | null {
  const ip = addr.getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')
  if (ip?.value == null) return null
  if (ip.name === 'ip4') return ip.value
  return `${ipv6Prefix64(ip.value)}::/64`
}

/** The first four 16-bit groups of an IPv6 address, expanded (`2001:db8::1` -> `2001:db8:0:0`). */
export function ipv6Prefix64 (text: string): string {
  const bare = text.split('%')[0].toLowerCase()
  if (!isIPv6(bare)) return bare
  const [head, tail] = bare.includes('::') ? bare.split('::') : [bare, null]
  const left = head === '' ? [] : head.split(':')
  const right = tail == null || tail === '' ? [] : tail.split(':')
  // an embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups; it only matters past the prefix
  const groups = tail == null ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')
}

export class AddressLimits {
  readonly maxPendingPerAddress: number
  readonly maxInboundPerAddress: number
  readonly stats: AddressLimitStats = { refusedPending: 0, refusedInbound: 0 }
  private readonly counts = new Map<string, Counts>()
  /** Connections this gater admitted, with whether they are still upgrading. */
  private readonly admitted = new WeakMap<MultiaddrConnection, { key: string, pending: boolean }>()

  constructor (init: AddressLimitsInit = {}) {
    this.maxPendingPerAddress = positive('maxPendingPerAddress', init.maxPendingPerAddress ?? DEFAULT_MAX_PENDING_PER_ADDRESS)
    this.maxInboundPerAddress = positive('maxInboundPerAddress', init.maxInboundPerAddress ?? DEFAULT_MAX_INBOUND_PER_ADDRESS)
  }

  /** Gater hook `denyInboundConnection`: true refuses the raw connection before any handshake. */
  readonly denyInboundConnection = (maConn: MultiaddrConnection): boolean => {
    const key = addressKey(maConn.remoteAddr)
    if (key == null) return false
    const c = this.counts.get(key) ?? { pending: 0, open: 0 }
    if (c.pending >= this.maxPendingPerAddress) { this.stats.refusedPending++; return true }
    if (c.pending + c.open >= this.maxInboundPerAddress) { this.stats.refusedInbound++; return true }
    if (maConn.status !== 'open') return true
    c.pending++
    this.counts.set(key, c)
    this.admitted.set(maConn, { key, pending: true })
    maConn.addEventListener('close', () => { this.release(maConn) }, { once: true })
    return false
  }

  /** Gater hook `denyInboundUpgradedConnection`: the connection stops counting as upgrading. Never refuses. */
  readonly onUpgraded = (maConn: MultiaddrConnection): boolean => {
    const a = this.admitted.get(maConn)
    const c = a != null ? this.counts.get(a.key) : undefined
    if (a == null || c == null || !a.pending) return false
    a.pending = false
    c.pending--
    c.open++
    return false
  }

  /** Connections from `key` now counted (tests, status). */
  current (key: string): Counts {
    return { ...(this.counts.get(key) ?? { pending: 0, open: 0 }) }
  }

  private release (maConn: MultiaddrConnection): void {
    const a = this.admitted.get(maConn)
    if (a == null) return
    this.admitted.delete(maConn)
    const c = this.counts.get(a.key)
    if (c == null) return
    if (a.pending) c.pending--
    else c.open--
    if (c.pending <= 0 && c.open <= 0) this.counts.delete(a.key)
  }
}

function positive (name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`)
  return v
}
