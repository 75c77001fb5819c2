// A tiny seeded logistic problem for e2e tests that need real daemons but not real data: two normal features,
// label x1 - x2 > 0, and its dataset spec.
import { createRng } from '../../protocol/rng.js'

export function tinyLogisticRows (seed: number): (n: number) => string {
  const rng = createRng(seed).fork('data')
  return (n) => {
    const out = ['x1,x2,y']
    for (let i = 0; i < n; i++) { const a = rng.normal(); const b = rng.normal(); out.push(`${a.toFixed(4)},${b.toFixed(4)},${a - b > 0 ? 1 : 0}`) }
    return out.join('\n') + '\n'
  }
}

export function tinyLogisticSpec (name: string): Record<string, unknown> {
  return {
    name, file: 'peer.csv', format: { header: true }, testFraction: 0.2, splitSeed: 1,
    columns: [...['x1', 'x2'].map((column) => ({ name: column, role: 'numeric', mean: 0, std: 1 })), { name: 'y', role: 'label', kind: 'binary', classes: ['0', '1'] }]
  }
}
