/**
 * The report's charts as one table: each entry names its canvas, its heading and note, and builds a plain
 * Chart.js configuration (JSON only: no functions) from the results, or null when the results hold no data for
 * it (the section is then left out, never an empty canvas). Adding a chart is adding one entry here.
 *
 * The browser script (client.js) draws every configuration as it is; the only behaviour it adds is the `shade`
 * plugin (shaded x ranges, e.g. partitioned rounds), which reads `options.plugins.shade.indices`.
 */
import type { Results, CurvePoint } from '../results.js'
import { extrasOf } from './extras.js'

export interface ChartConfig {
  type: string
  data: { labels?: Array<string | number>, datasets: Array<Record<string, unknown>> }
  options?: Record<string, unknown>
}

export interface ChartDef {
  /** Canvas id, stable (tests and readers link to it). */
  id: string
  title: (r: Results) => string
  note?: (r: Results) => string
  /** Full width (else half width, two per row). */
  wide?: boolean
  build: (r: Results) => ChartConfig | null
}

export const COLORS = ['#1a73e8', '#d93025', '#f9ab00', '#188038', '#9334e6', '#e8710a', '#12b5cb', '#5f6368']
const C = COLORS

const base = { responsive: true, maintainAspectRatio: false, animation: false, interaction: { mode: 'index', intersect: false } }
const axis = (text: string): Record<string, unknown> => ({ title: { display: true, text } })
const lineOptions = (yTitle: string, y: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ ...base, scales: { x: axis('round'), y: { ...axis(yTitle), ...y } } })

const rounds = (r: Results): number[] => r.details.perRound.map((p) => p.round + 1)
/** Curve points aligned with the report's rounds (null where a round was not evaluated). */
function byRound (r: Results, pts: CurvePoint[]): Array<CurvePoint | undefined> {
  const m = new Map(pts.map((p) => [p.round, p]))
  return r.details.perRound.map((p) => m.get(p.round))
}
const line = (label: string, data: Array<number | null>, color: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ label, data, borderColor: color, backgroundColor: color, spanGaps: true, ...extra })
const level = (r: Results, label: string, v: number, color: string): Record<string, unknown> =>
  line(label, rounds(r).map(() => v), color, { borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 })
/** Log scales cannot show zero or negative values. */
const positive = (v: number | null | undefined): number | null => v != null && Number.isFinite(v) && v > 0 ? v : null
const finite = (v: number | null | undefined): v is number => v != null && Number.isFinite(v)

const metricPerRound: ChartDef = {
  id: 'metric',
  wide: true,
  title: (r) => `${r.metric.name} per round`,
  note: (r) => `Every honest peer is evaluated, every round shown, on the same seeded sample of the held-out test split (${r.details.scenario.evaluation.curveRows} rows; the last round too, so the curve compares across rounds); the summary's final figures and the dashed baselines use the whole test split. "Worst peer" and "10th percentile" count from the bad end.`,
  build: (r) => {
    const curve = byRound(r, r.curve)
    const sets = [
      line('decentralized mean', curve.map((p) => p?.mean ?? null), C[0]),
      line('worst peer', curve.map((p) => p?.min ?? null), C[1]),
      line('10th percentile', curve.map((p) => p?.p10 ?? null), C[2])
    ]
    if (finite(r.centralized.value)) sets.push(level(r, 'centralized', r.centralized.value, C[3]))
    if (finite(r.localOnly.mean)) sets.push(level(r, 'local-only mean', r.localOnly.mean, C[7]))
    const fedCurve = r.details.baselines.fedavg.curve
    if (fedCurve.length > 0) {
      const f = new Map(fedCurve.map((p) => [p.round, p.value]))
      sets.push(line('FedAvg', r.details.perRound.map((p) => f.get(p.round) ?? null), C[4], { borderDash: [2, 2], pointRadius: 0 }))
    } else if (finite(r.fedavg.value)) sets.push(level(r, 'FedAvg', r.fedavg.value, C[4]))
    return { type: 'line', data: { labels: rounds(r), datasets: sets }, options: lineOptions(r.metric.name) }
  }
}

const variantsPerRound: ChartDef = {
  id: 'variants',
  wide: true,
  title: () => 'Variants per round (mean of honest peers)',
  build: (r) => {
    if (r.details.variants.length === 0) return null
    const sets = [line('this run', byRound(r, r.curve).map((p) => p?.mean ?? null), C[0])]
    r.details.variants.forEach((v, i) => { sets.push(line(v.name, byRound(r, v.curve).map((p) => p?.mean ?? null), C[(i + 1) % C.length])) })
    if (finite(r.centralized.value)) sets.push(level(r, 'centralized', r.centralized.value, C[3]))
    return { type: 'line', data: { labels: rounds(r), datasets: sets }, options: lineOptions(r.metric.name) }
  }
}

const consensus: ChartDef = {
  id: 'consensus',
  title: () => 'Consensus distance',
  note: () => 'Root mean square distance of honest peers\' models to their average (log scale when every value is above zero). Shaded rounds: network partitioned.',
  build: (r) => {
    const series = [r.details.perRound.map((p) => p.consensusDistance), ...r.details.variants.map((v) => v.consensus)]
    // a log scale cannot show zero (peers in exact agreement): linear then
    const log = series.every((s) => s.every((v) => v == null || positive(v) != null))
    const value = (v: number | null): number | null => finite(v) ? v : null
    const sets = [line('consensus distance', series[0].map(value), C[0])]
    r.details.variants.forEach((v, i) => { sets.push(line(v.name, series[i + 1].map(value), C[(i + 1) % C.length])) })
    const indices = r.details.perRound.flatMap((p, i) => p.partitioned ? [i] : [])
    const options = lineOptions('distance', log ? { type: 'logarithmic' } : { beginAtZero: true })
    return { type: 'line', data: { labels: rounds(r), datasets: sets }, options: { ...options, plugins: { shade: { indices } } } }
  }
}

const bytes: ChartDef = {
  id: 'bytes',
  title: () => 'Bytes per peer',
  note: () => 'Bytes sent per peer in each round, and messages lost or undeliverable.',
  build: (r) => ({
    type: 'bar',
    data: {
      labels: rounds(r),
      datasets: [
        { label: 'bytes sent per peer', data: r.details.perRound.map((p) => p.bytesSent / Math.max(1, r.peers)), backgroundColor: C[0], yAxisID: 'y' },
        { label: 'messages lost + undeliverable', type: 'line', data: r.details.perRound.map((p) => p.messagesLost + p.messagesUnreachable + p.messagesDropped), borderColor: C[1], backgroundColor: C[1], yAxisID: 'y1' }
      ]
    },
    options: { ...base, scales: { x: axis('round'), y: { position: 'left', ...axis('bytes') }, y1: { position: 'right', grid: { drawOnChartArea: false }, ...axis('messages') } } }
  })
}

const refused: ChartDef = {
  id: 'refused',
  title: () => 'Refused updates by reason',
  note: () => 'Every refused update has a named reason (validation, replay, equivocation, round window...).',
  build: (r) => {
    const reasons = Object.keys(r.refused)
    return {
      type: 'bar',
      data: { labels: reasons.length > 0 ? reasons : ['none'], datasets: [{ label: 'refused updates', data: reasons.length > 0 ? reasons.map((k) => r.refused[k]) : [0], backgroundColor: C[1] }] },
      options: { ...base, indexAxis: 'y', scales: { x: { beginAtZero: true, ...axis('updates') } } }
    }
  }
}

/** A scatter of pairs (x, y) with the diagonal y = x; axes reversed when lower is better. */
function diagonalScatter (r: Results, label: string, pts: Array<{ x: number, y: number }>, xTitle: string, yTitle: string): ChartConfig | null {
  if (pts.length === 0) return null
  const all = pts.flatMap((p) => [p.x, p.y])
  const lo = Math.min(...all)
  const hi = Math.max(...all)
  const reverse = !r.metric.higherIsBetter
  return {
    type: 'scatter',
    data: {
      datasets: [
        { label, data: pts, backgroundColor: C[0], borderColor: C[0] },
        { label: 'equal', type: 'line', data: [{ x: lo, y: lo }, { x: hi, y: hi }], borderColor: C[7], borderDash: [4, 4], pointRadius: 0 }
      ]
    },
    options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { x: { type: 'linear', reverse, ...axis(xTitle) }, y: { reverse, ...axis(yTitle) } } }
  }
}

const peers: ChartDef = {
  id: 'peers',
  title: () => 'Each peer against its local-only model',
  note: (r) => `Points above the diagonal: the peer did better in the network than alone${r.metric.higherIsBetter ? '' : ' (axes inverted: lower is better)'}.`,
  build: (r) => diagonalScatter(r, 'peer (x: alone, y: in the network)',
    r.details.perPeer.filter((p) => finite(p.metric) && finite(p.localOnly)).map((p) => ({ x: p.localOnly as number, y: p.metric as number })),
    `local-only ${r.metric.name}`, `decentralized ${r.metric.name}`)
}

const regions: ChartDef = {
  id: 'regions',
  wide: true,
  title: (r) => `By ${r.regions?.column ?? 'partition key'}: each region in the network and alone`,
  build: (r) => {
    const reg = r.regions
    if (reg == null || reg.regions.length === 0) return null
    return {
      type: 'bar',
      data: {
        labels: reg.regions.map((x) => x.region + (x.small ? ' *' : '')),
        datasets: [
          { label: 'in the network', data: reg.regions.map((x) => x.decentralized), backgroundColor: C[0] },
          { label: 'alone (local-only)', data: reg.regions.map((x) => x.localOnly), backgroundColor: C[7] }
        ]
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { x: axis('region (* small)'), y: axis(`${reg.metric} on the region's test rows`) } }
    }
  }
}

const recovery: ChartDef = {
  id: 'recovery',
  wide: true,
  title: () => 'Fault recovery',
  note: () => 'Mean metric of honest peers per round (line) and peers down in that round (bars): how fast the network recovers after faults.',
  build: (r) => {
    const f = extrasOf(r).faults
    if (f == null || f.perRound.length === 0) return null
    return {
      type: 'bar',
      data: {
        labels: f.perRound.map((p) => p.round + 1),
        datasets: [
          { label: 'peers down', data: f.perRound.map((p) => p.peersDown), backgroundColor: 'rgba(217,48,37,0.35)', yAxisID: 'y1' },
          { label: `mean ${r.metric.name}`, type: 'line', data: f.perRound.map((p) => p.mean), borderColor: C[0], backgroundColor: C[0], spanGaps: true, yAxisID: 'y' }
        ]
      },
      options: { ...base, scales: { x: axis('round'), y: { position: 'left', ...axis(r.metric.name) }, y1: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, ...axis('peers down') } } }
    }
  }
}

const personal: ChartDef = {
  id: 'personal',
  title: () => 'Personal model against the network model',
  note: (r) => `Each peer's personal model (y) against the shared network model (x) on that peer's own test rows; points above the diagonal: personalisation helped${r.metric.higherIsBetter ? '' : ' (axes inverted: lower is better)'}.`,
  build: (r) => {
    const p = extrasOf(r).personal
    if (p == null) return null
    return diagonalScatter(r, 'peer (x: network, y: personal)', p.perPeer.filter((x) => finite(x.network) && finite(x.personal)).map((x) => ({ x: x.network as number, y: x.personal as number })),
      `network model ${r.metric.name}`, `personal model ${r.metric.name}`)
  }
}

const privacy: ChartDef = {
  id: 'privacy',
  title: () => 'Privacy spent',
  note: () => 'Differential privacy budget spent per round (epsilon, the largest over peers), against the budget.',
  build: (r) => {
    const p = extrasOf(r).privacy
    if (p == null || p.perRound.length === 0) return null
    const labels = p.perRound.map((x) => x.round + 1)
    const sets = [line('epsilon spent', p.perRound.map((x) => x.epsilon), C[4])]
    if (finite(p.budget)) { const b = p.budget; sets.push(line('budget', labels.map(() => b), C[1], { borderDash: [6, 4], pointRadius: 0 })) }
    return { type: 'line', data: { labels, datasets: sets }, options: lineOptions('epsilon', { beginAtZero: true }) }
  }
}

/** Every chart of the report, in page order. */
export const CHARTS: ChartDef[] = [metricPerRound, variantsPerRound, consensus, bytes, refused, peers, regions, recovery, personal, privacy]
