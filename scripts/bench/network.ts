/**
 * Network benchmark: a 16 MiB model over Murmur's update stream (`/murmur/update/1.0.0`: length-prefixed,
 * chunked, acknowledged) between two libp2p nodes on loopback TCP (noise + yamux), beside a raw libp2p stream
 * (same connection stack, no framing, no ack) measured in the same run. Goal: >= 150 MB/s for the update stream.
 *
 * Keys: `updateStreamMBps`, `rawStreamMBps`, `updateStreamVsRaw`, `modelMiB`, `updateStream16MiBMs` (median).
 *
 * Unless `--quick`: `murmur testnet --peers 10` (10 real daemon processes on 127.0.0.1) against `murmur simulate`
 * on the same scenario (UCI digits, iid, softmax, epidemic fanout 2, 20 rounds, 5 local steps, seed 7), same
 * held-out rows. Goal: the decentralized mean accuracy agrees within 2 points. Keys: `testnetMean`,
 * `simulatorMean`, `testnetVsSimulatorPoints`, `testnetWallSeconds`, `testnetExitCodesOk`.
 */
import { randomBytes } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLibp2pTransport, type Libp2pTransport } from '../../node/transport/index.js'
import { runTestnet } from '../../node/testnet.js'
import { MURMUR_BIN, REPO_ROOT } from '../../node/processes.js'

const AGREEMENT_SCENARIO = `name: testnet-digits
peers: 10
rounds: 20
localSteps: 5
seed: 7
dataset: digits
partition: { kind: iid }
model: { type: softmax, optimizer: { type: adam, learningRate: 0.05 } }
rule: { rule: epidemic, fanout: 2, maxStalenessRounds: 1000 }
topology: { kind: complete }
baselines: { centralized: true, localOnly: false, fedavg: false }
`

async function agreement (): Promise<Record<string, number | string | boolean | null>> {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-bench-agree-'))
  try {
    const scenario = join(dir, 'scenario.yaml')
    writeFileSync(scenario, AGREEMENT_SCENARIO)
    const sim = spawnSync(process.execPath, [MURMUR_BIN, 'simulate', '--scenario', scenario, '--json', '--out', join(dir, 'sim')], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 })
    if (sim.status !== 0) throw new Error(`murmur simulate failed: ${sim.stderr.slice(-500)}`)
    const s = JSON.parse(sim.stdout.trim().split('\n').pop() as string) as { decentralized: { mean: number }, centralized: { value: number | null } }
    const t = await runTestnet({ peers: 10, scenario }) as { decentralized: { mean: number | null }, wallSeconds: number, exitCodes: Array<number | string> }
    const tm = t.decentralized.mean
    return {
      testnetMean: tm,
      simulatorMean: s.decentralized.mean,
      centralized: s.centralized.value,
      testnetVsSimulatorPoints: tm == null ? null : Number((Math.abs(tm - s.decentralized.mean) * 100).toFixed(2)),
      goalTestnetVsSimulatorPoints: 2,
      testnetWallSeconds: t.wallSeconds,
      testnetExitCodesOk: t.exitCodes.every((c) => c === 0)
    }
  } finally { rmSync(dir, { recursive: true, force: true }) }
}

export const name = 'network'

const RAW_PROTOCOL = '/murmur/bench-raw/1.0.0'

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

async function rawTransfer (a: Libp2pTransport, b: Libp2pTransport, bytes: Uint8Array): Promise<number> {
  const started = performance.now()
  const stream = await a.libp2p.dialProtocol(b.libp2p.peerId, RAW_PROTOCOL)
  const chunk = 64 * 1024
  for (let off = 0; off < bytes.length; off += chunk) {
    if (!stream.send(bytes.subarray(off, Math.min(bytes.length, off + chunk)))) await stream.onDrain()
  }
  await stream.close()
  for await (const _ack of stream) break
  return performance.now() - started
}

export async function run ({ quick }: { quick: boolean }): Promise<Record<string, number | string | boolean | null>> {
  const sizeMiB = quick ? 4 : 16
  const reps = quick ? 3 : 7
  const payload = randomBytes(sizeMiB * 1024 * 1024)
  const [a, b] = await Promise.all([0, 1].map(async () => await createLibp2pTransport({
    seed: randomBytes(32), networkId: 'bench', transport: 'tcp', listen: ['/ip4/127.0.0.1/tcp/0'], targetPeers: 0, maxMessageBytes: 64 * 1024 * 1024
  })))
  try {
    b.onMessage(async (m) => (m.bytes.length === payload.length ? null : 'MALFORMED'))
    await a.start(); await b.start()
    await b.libp2p.handle(RAW_PROTOCOL, (stream) => {
      void (async () => {
        let n = 0
        for await (const buf of stream) n += buf.byteLength
        stream.send(new Uint8Array([n === payload.length ? 1 : 0]))
        await stream.close()
      })()
    })
    await a.dial(b.addresses()[0])
    // warm up both paths
    await a.sendWithVerdict(b.self, payload)
    await rawTransfer(a, b, payload)
    const upd: number[] = []
    const raw: number[] = []
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now()
      const verdict = await a.sendWithVerdict(b.self, payload)
      if (verdict != null) throw new Error(`receiver refused the benchmark payload: ${verdict}`)
      upd.push(performance.now() - t0)
      raw.push(await rawTransfer(a, b, payload))
    }
    const mb = payload.length / 1e6
    const updMs = median(upd)
    const rawMs = median(raw)
    const agree = quick ? {} : await agreement()
    return {
      ...agree,
      modelMiB: sizeMiB,
      updateStream16MiBMs: Number(updMs.toFixed(1)),
      updateStreamMBps: Number((mb / (updMs / 1000)).toFixed(1)),
      rawStreamMBps: Number((mb / (rawMs / 1000)).toFixed(1)),
      updateStreamVsRaw: Number((rawMs / updMs).toFixed(3)),
      goalUpdateStreamMBps: 150
    }
  } finally {
    await a.stop(); await b.stop()
  }
}
