/**
 * Network benchmark: a 16 MiB model over Murmur's update stream (`/murmur/update/1.0.0`: length-prefixed,
 * chunked, acknowledged) between two libp2p nodes on loopback TCP (noise + yamux), beside a raw libp2p stream
 * (same connection stack, no framing, no ack) measured in the same run. Goal: >= 150 MB/s for the update stream.
 *
 * Both nodes are built by `createLibp2pTransport` with the daemon's configuration (node/transport constants:
 * yamux windows, chunk size, message limit; the daemon's `maxMessageBytes` and `targetPeers`).
 *
 * Main figures: the receiver is a SEPARATE PROCESS (this file re-run as a child with MURMUR_BENCH_ROLE=receiver:
 * a libp2p node with the real update-stream handler), as between two daemons on one machine: sender and
 * receiver each have their own event loop. Keys: `updateStreamMBps`, `rawStreamMBps`, `updateStreamVsRaw`,
 * `updateStream16MiBMs` (median of `reps` transfers, update and raw interleaved), `modelMiB`, `reps`.
 * Secondary: both nodes in this process (they share one event loop and one core): `inProcessUpdateStreamMBps`,
 * `inProcessRawStreamMBps`, `inProcessUpdateStreamVsRaw`.
 *
 * Unless `--quick`: `murmur testnet --peers 10` (10 real daemon processes on 127.0.0.1) against `murmur simulate`
 * on the same scenario (UCI digits, iid, softmax, epidemic fanout 2, 20 rounds, 5 local steps, seed 7), same
 * held-out rows (the testnet runs the simulator on its scenario for its baselines). Goal: the decentralized mean
 * accuracy agrees within 2 points. Keys: `testnetMean`, `simulatorMean`, `testnetVsSimulatorPoints`, `centralized`,
 * `testnetLocalOnly`, `testnetFedavg`, `testnetCurvePoints`, `testnetWallSeconds` (daemons only),
 * `testnetTotalSeconds` (with the simulator's run), `testnetExitCodesOk`.
 */
import { randomBytes } from 'node:crypto'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLibp2pTransport, peerIdFromPeerKey, type Libp2pTransport } from '../../node/transport/index.js'
import { defaultPeerNodeOptions } from '../../node/constants.js'
import { RefusalReason } from '../../protocol/interfaces.js'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { Registry } from 'prom-client'
import { runTestnet } from '../../node/testnet.js'
import { REPO_ROOT } from '../../node/processes.js'
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
baselines: { centralized: true, localOnly: true, fedavg: true }
`

async function agreement (): Promise<Record<string, number | string | boolean | null>> {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-bench-agree-'))
  try {
    const scenario = join(dir, 'scenario.yaml')
    writeFileSync(scenario, AGREEMENT_SCENARIO)
    // the testnet runs the simulator (simulations/run.ts, as `murmur simulate` does) on the same scenario for its
    // baselines: its `simulator.decentralized` is the simulator's result on the same split and held-out rows
    const t = await runTestnet({ peers: 10, scenario }) as {
      decentralized: { mean: number | null }, centralized: { value: number | null }, localOnly: { mean: number | null }, fedavg: { value: number | null },
      curve: unknown[], simulator: { decentralized: { mean: number | null } } | null, wallSeconds: number, daemonSeconds: number, exitCodes: Array<number | string>, baselinesError?: string
    }
    if (t.simulator == null) throw new Error(`the testnet's simulator run failed: ${t.baselinesError ?? 'unknown'}`)
    const tm = t.decentralized.mean
    const sm = t.simulator.decentralized.mean
    return {
      testnetMean: tm,
      simulatorMean: sm,
      centralized: t.centralized.value,
      testnetLocalOnly: t.localOnly.mean,
      testnetFedavg: t.fedavg.value,
      testnetCurvePoints: t.curve.length,
      testnetVsSimulatorPoints: tm == null || sm == null ? null : Number((Math.abs(tm - sm) * 100).toFixed(2)),
      goalTestnetVsSimulatorPoints: 2,
      testnetWallSeconds: t.daemonSeconds,
      testnetTotalSeconds: t.wallSeconds,
      testnetExitCodesOk: t.exitCodes.every((c) => c === 0)
    }
  } finally { rmSync(dir, { recursive: true, force: true }) }
}

export const name = 'network'

const RAW_PROTOCOL = '/murmur/bench-raw/1.0.0'
const ROLE_ENV = 'MURMUR_BENCH_ROLE'
const SIZE_ENV = 'MURMUR_BENCH_BYTES'

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/**
 * A node with the daemon's transport configuration (the daemon passes these same options, libp2p's Prometheus
 * metrics included, each node on its own registry as each daemon has its own). For tuning
 * experiments only, `MURMUR_BENCH_TRANSPORT_INIT` (JSON, e.g. `{"chunkBytes":1048576,"streamWindowBytes":16777216}`)
 * overrides transport settings in both processes; the reported figures are taken without it.
 */
async function benchNode (): Promise<Libp2pTransport> {
  const experiment = process.env.MURMUR_BENCH_TRANSPORT_INIT != null ? JSON.parse(process.env.MURMUR_BENCH_TRANSPORT_INIT) as Record<string, number> : {}
  const registry = new Registry()
  return await createLibp2pTransport({
    ...experiment,
    metrics: prometheusMetrics({ registry, preserveExistingMetrics: true, collectDefaultMetrics: false }),
    seed: randomBytes(32),
    networkId: 'bench',
    transport: 'tcp',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    loopbackTestNetwork: true,
    maxMessageBytes: defaultPeerNodeOptions.maxMessageBytes,
    targetPeers: 0
  })
}

/** The receiving side: the real update-stream handler (accepts a payload of the expected size) and a raw sink. */
async function startReceiver (expectedBytes: number): Promise<Libp2pTransport> {
  const b = await benchNode()
  b.onMessage(async (m) => (m.bytes.length === expectedBytes ? null : RefusalReason.MALFORMED))
  await b.start()
  await b.libp2p.handle(RAW_PROTOCOL, (stream) => {
    void (async () => {
      let n = 0
      for await (const buf of stream) n += buf.byteLength
      stream.send(new Uint8Array([n === expectedBytes ? 1 : 0]))
      await stream.close()
    })().catch((err) => { stream.abort(err as Error) })
  })
  return b
}

async function rawTransfer (a: Libp2pTransport, peer: Libp2pTransport['self'], bytes: Uint8Array, chunkBytes: number): Promise<number> {
  const started = performance.now()
  const stream = await a.libp2p.dialProtocol(peerIdFromPeerKey(peer), RAW_PROTOCOL)
  for (let off = 0; off < bytes.length; off += chunkBytes) {
    if (!stream.send(bytes.subarray(off, Math.min(bytes.length, off + chunkBytes)))) await stream.onDrain()
  }
  await stream.close()
  let ok = false
  for await (const ack of stream) { ok = ack.subarray()[0] === 1; break }
  if (!ok) throw new Error('the raw receiver did not count every byte')
  return performance.now() - started
}

/** Times `reps` update-stream and raw transfers, interleaved, after one warm-up of each. */
async function measure (a: Libp2pTransport, peer: Libp2pTransport['self'], payload: Uint8Array, reps: number): Promise<{ updMs: number, rawMs: number }> {
  const rawChunk = 64 * 1024
  const once = async (): Promise<number> => {
    const t0 = performance.now()
    const verdict = await a.sendWithVerdict(peer, payload)
    if (verdict != null) throw new Error(`receiver refused the benchmark payload: ${verdict}`)
    return performance.now() - t0
  }
  await once(); await rawTransfer(a, peer, payload, rawChunk)
  const upd: number[] = []
  const raw: number[] = []
  for (let i = 0; i < reps; i++) {
    upd.push(await once())
    raw.push(await rawTransfer(a, peer, payload, rawChunk))
  }
  return { updMs: median(upd), rawMs: median(raw) }
}

/** Spawns this file as the receiver process; resolves with its address once it listens. */
async function spawnReceiver (expectedBytes: number): Promise<{ child: ChildProcess, address: string, peer: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', './node/polyfills.ts', fileURLToPath(import.meta.url)], {
    cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, [ROLE_ENV]: 'receiver', [SIZE_ENV]: String(expectedBytes) }
  })
  return await new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('the receiver process did not start within 60 s')) }, 60_000)
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the receiver process exited with ${String(code)}`)) })
    child.stdout?.setEncoding('utf8')
    child.stdout?.on('data', (d: string) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl < 0) return
      clearTimeout(timer)
      child.removeAllListeners('exit')
      const info = JSON.parse(out.slice(0, nl)) as { address: string, peer: string }
      resolve({ child, ...info })
    })
  })
}

async function stopReceiver (child: ChildProcess): Promise<void> {
  if (child.exitCode != null) return
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
  child.stdin?.end()
  const t = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
  await exited
  clearTimeout(t)
}

async function crossProcess (payload: Uint8Array, reps: number): Promise<{ updMs: number, rawMs: number }> {
  const { child, address, peer } = await spawnReceiver(payload.length)
  const a = await benchNode()
  try {
    await a.start()
    await a.dial(address)
    return await measure(a, peer, payload, reps)
  } finally {
    await a.stop()
    await stopReceiver(child)
  }
}

async function inProcess (payload: Uint8Array, reps: number): Promise<{ updMs: number, rawMs: number }> {
  const b = await startReceiver(payload.length)
  const a = await benchNode()
  try {
    await a.start()
    await a.dial(b.addresses()[0])
    return await measure(a, b.self, payload, reps)
  } finally {
    await a.stop(); await b.stop()
  }
}

/** The stream figures alone (the bench's throughput keys). */
export async function streamFigures (sizeMiB: number, reps: number, inProcessReps: number): Promise<Record<string, number>> {
  const payload = randomBytes(sizeMiB * 1024 * 1024)
  const mb = payload.length / 1e6
  const rate = (ms: number): number => Number((mb / (ms / 1000)).toFixed(1))
  const x = await crossProcess(payload, reps)
  const local = await inProcess(payload, inProcessReps)
  return {
    modelMiB: sizeMiB,
    reps,
    updateStream16MiBMs: Number(x.updMs.toFixed(1)),
    updateStreamMBps: rate(x.updMs),
    rawStreamMBps: rate(x.rawMs),
    updateStreamVsRaw: Number((x.rawMs / x.updMs).toFixed(3)),
    inProcessUpdateStreamMBps: rate(local.updMs),
    inProcessRawStreamMBps: rate(local.rawMs),
    inProcessUpdateStreamVsRaw: Number((local.rawMs / local.updMs).toFixed(3)),
    goalUpdateStreamMBps: 150
  }
}

export async function run ({ quick }: { quick: boolean }): Promise<Record<string, number | string | boolean | null>> {
  const streams = await streamFigures(quick ? 4 : 16, quick ? 3 : 9, quick ? 3 : 5)
  const agree = quick ? {} : await agreement()
  return { ...agree, ...streams }
}

// Child role: `MURMUR_BENCH_ROLE=receiver` runs the receiving node until stdin closes.
if (process.env[ROLE_ENV] === 'receiver' && process.argv[1] === fileURLToPath(import.meta.url)) {
  const b = await startReceiver(Number(process.env[SIZE_ENV]))
  process.stdout.write(JSON.stringify({ address: b.addresses()[0], peer: b.self }) + '\n')
  process.stdin.resume()
  process.stdin.once('end', () => { void b.stop().finally(() => process.exit(0)) })
}
