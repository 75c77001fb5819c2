/**
 * Dials the bootstrap addresses at start, and again whenever this peer finds itself with no connection at all
 * (the bootstrap peer restarting, a network outage), so that an isolated daemon rejoins by itself.
 */
import type { ServiceNetwork } from '../../transport/service-network.js'
import type { Logger } from '../../logger.js'
import type { Startable } from '../types.js'
import { BOOTSTRAP_CHECK_MS, BOOTSTRAP_DIAL_TIMEOUT_MS } from './constants.js'

export interface BootstrapDialerInit {
  /** Multiaddrs with their /p2p/ id. */
  addresses?: string[]
  checkMs?: number
  dialTimeoutMs?: number
}

export interface BootstrapDialerComponents {
  network: Pick<ServiceNetwork, 'dial' | 'connections'>
  logger: Logger
}

export class BootstrapDialer implements Startable {
  private timer: NodeJS.Timeout | null = null
  private controller = new AbortController()
  private readonly addresses: string[]

  constructor (private readonly init: BootstrapDialerInit, private readonly c: BootstrapDialerComponents) {
    this.addresses = [...(init.addresses ?? [])]
  }

  async start (options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    if (this.timer != null || this.addresses.length === 0) return
    this.controller = new AbortController()
    this.dialAll()
    this.timer = setInterval(() => { if (this.c.network.connections().length === 0) this.dialAll() }, this.init.checkMs ?? BOOTSTRAP_CHECK_MS)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    if (this.timer != null) clearInterval(this.timer)
    this.timer = null
    this.controller.abort(new Error('bootstrap dialer stopped'))
  }

  /** Dials every address (in the background; a failure is logged and retried at the next check). */
  private dialAll (): void {
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.init.dialTimeoutMs ?? BOOTSTRAP_DIAL_TIMEOUT_MS)])
    for (const addr of this.addresses) {
      this.c.network.dial(addr, { signal }).catch((err: Error) => {
        if (!this.controller.signal.aborted) this.c.logger.warn({ addr, err: err.message }, 'cannot reach bootstrap peer (will retry)')
      })
    }
  }
}
