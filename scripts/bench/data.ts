/**
 * Data loading benchmarks: an idx file (Fashion-MNIST's shape: 28 x 28 unsigned-byte images, gzip, with an
 * idx1 label file) against the same pixels as a gzip CSV, both generated from a seed into a temporary folder.
 *
 *   npm run bench -- data [--quick]        # 60,000 images (quick: 6,000)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { createRng } from '../../protocol/rng.js'
import { loadDataset, type DatasetSpecInput } from '../../learning/index.js'
import type { BenchValue } from '../bench.js'

export const name = 'data'

const CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']

export async function run ({ quick }: { quick: boolean }): Promise<Record<string, BenchValue>> {
  const n = quick ? 6000 : 60000
  const cells = 784
  const dir = mkdtempSync(join(tmpdir(), 'murmur-bench-data-'))
  try {
    const rng = createRng('bench-data')
    const images = Buffer.alloc(16 + n * cells)
    images.writeUInt32BE(0x00000803, 0); images.writeUInt32BE(n, 4); images.writeUInt32BE(28, 8); images.writeUInt32BE(28, 12)
    for (let i = 16; i < images.length; i++) images[i] = rng.int(256)
    const labels = Buffer.alloc(8 + n)
    labels.writeUInt32BE(0x00000801, 0); labels.writeUInt32BE(n, 4)
    for (let i = 0; i < n; i++) labels[8 + i] = rng.int(10)
    writeFileSync(join(dir, 'images-idx3-ubyte.gz'), gzipSync(images, { level: 1 }))
    writeFileSync(join(dir, 'labels-idx1-ubyte'), labels)
    const lines: string[] = []
    for (let r = 0; r < n; r++) lines.push(Array.from(images.subarray(16 + r * cells, 16 + (r + 1) * cells)).join(',') + ',' + String(labels[8 + r]))
    writeFileSync(join(dir, 'pixels.csv.gz'), gzipSync(lines.join('\n') + '\n', { level: 1 }))
    const columns = [
      { name: 'px', range: [0, cells - 1] as [number, number], role: 'numeric' as const, scale: 1 / 255, standardize: false },
      { name: 'label', index: cells, role: 'label' as const, kind: 'classes' as const, classes: CLASSES }
    ]
    const time = async (spec: DatasetSpecInput): Promise<number> => {
      const t = performance.now()
      const d = await loadDataset(spec, { dataDir: dir })
      if (d.size !== n) throw new Error(`loaded ${d.size} rows, expected ${n}`)
      return (performance.now() - t) / 1000
    }
    const idxSeconds = await time({ name: 'idx', format: 'idx', file: 'images-idx3-ubyte.gz', labelFile: 'labels-idx1-ubyte', columns })
    const csvSeconds = await time({ name: 'csv', format: { header: false }, file: 'pixels.csv.gz', columns })
    return { images: n, idxLoadSeconds: idxSeconds, idxRowsPerSec: n / idxSeconds, csvLoadSeconds: csvSeconds, csvRowsPerSec: n / csvSeconds }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
