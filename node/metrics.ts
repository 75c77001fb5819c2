/**
 * Prometheus metrics for the daemon: the engine's `Metrics` (protocol/interfaces.ts) on a prom-client
 * Registry, plus the transport's counters and, when enabled, libp2p's own metrics (@libp2p/prometheus-metrics)
 * on the same registry. Names are created on first use; the label names are those of the first call.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Metrics } from '../protocol/interfaces.js'

type Labels = Record<string, string>

function sanitize (name: string): string {
  const n = name.replace(/[^a-zA-Z0-9_:]/g, '_')
  return /^[a-zA-Z_:]/.test(n) ? n : `_${n}`
}

export class PromMetrics implements Metrics {
  readonly registry: Registry
  private readonly counters = new Map<string, Counter>()
  private readonly gauges = new Map<string, Gauge>()
  private readonly histograms = new Map<string, Histogram>()

  constructor (registry = new Registry()) {
    this.registry = registry
  }

  increment (name: string, labels: Labels = {}, by = 1): void {
    const n = sanitize(name)
    let c = this.counters.get(n)
    if (c == null) {
      c = new Counter({ name: n, help: n.replace(/_/g, ' '), labelNames: Object.keys(labels), registers: [this.registry] })
      this.counters.set(n, c)
    }
    c.inc(labels, by)
  }

  set (name: string, value: number, labels: Labels = {}): void {
    if (!Number.isFinite(value)) return
    const n = sanitize(name)
    let g = this.gauges.get(n)
    if (g == null) {
      g = new Gauge({ name: n, help: n.replace(/_/g, ' '), labelNames: Object.keys(labels), registers: [this.registry] })
      this.gauges.set(n, g)
    }
    g.set(labels, value)
  }

  observe (name: string, value: number, labels: Labels = {}): void {
    if (!Number.isFinite(value)) return
    const n = sanitize(name)
    let h = this.histograms.get(n)
    if (h == null) {
      h = new Histogram({ name: n, help: n.replace(/_/g, ' '), labelNames: Object.keys(labels), registers: [this.registry] })
      this.histograms.set(n, h)
    }
    h.observe(labels, value)
  }

  async text (): Promise<string> { return await this.registry.metrics() }
  get contentType (): string { return this.registry.contentType }
}
