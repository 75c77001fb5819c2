// Crash safety of the REAL `murmur daemon` process (issue 6): SIGKILL at seeded random moments, at least 50
// times (MURMUR_CRASH_KILLS, default 50; MURMUR_CRASH_SEED picks the moments), a restart after each, and after
// every kill, offline, as an operator would: the database opens, the log verifies (`verifyStoredLog`, what
// `murmur log --verify` runs, after every kill; the CLI process itself after every 10th and at the end), the state is the
// last committed batch (checkpoint and metrics of one round batch together; each sender's replay mark equals
// the newest update of that sender in the log), and every update the daemon acknowledged is in its log.
//
// Three members: a long-lived partner daemon (gossip partner: the victim trains, sends to it and merges its
// updates every round), the victim daemon (killed and restarted), and a "witness" libp2p peer inside this test
// that streams sealed updates to the victim on `/murmur/update/1.0.0` and records which were acknowledged
// (the verdict frame is written only after the receiver's batch is committed).
//
// Kill moments, each drawn from the seeded RNG: during start-up (a delay from spawn: module loading, database
// open, libp2p start, engine init), right after the k-th acknowledged update (the next update is being
// opened/committed), at a random point of the round cycle after the k-th round (pause, training, sending,
// merging, round commit), or at a uniform delay after readiness.
//
// Speed: the daemon runs from a bundle of the same CLI (`node/cli/main.ts`, built once by esbuild), because
// tsx's loader costs ~2 s of CPU per start; MURMUR_CRASH_BIN=tsx runs bin/murmur.js instead. TF.js stays
// external (the test fails if the daemon falls back from wasm). Every TSX_EVERY-th start goes through
// bin/murmur.js itself, the operator's entry point, on the same datadir.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFile, type ChildProcess } from 'node:child_process'
import { promisify } from 'node:util'
import { build } from 'esbuild'
import { createTestNetwork } from '../../node/testnet.js'
import { spawnDaemon, MURMUR_BIN, REPO_ROOT, type DaemonProcess } from '../../node/processes.js'
import { LevelStore, type StoredLogEntry } from '../../node/store/index.js'
import { verifyStoredLog, type VerifyReport } from '../../node/audit.js'
import { createLibp2pTransport, type Libp2pTransport } from '../../node/transport/index.js'
import { createDaemonEnvelopes } from '../../node/wiring.js'
import { createKeyring, type NetworkManifest } from '../../protocol/membership/index.js'
import type { Envelopes } from '../../protocol/engine/index.js'
import { createRng } from '../../protocol/rng.js'
import type { Identity } from '../../crypto/index.js'

const KILLS = Number(process.env.MURMUR_CRASH_KILLS ?? 50)
const SEED = Number(process.env.MURMUR_CRASH_SEED ?? 6)
const USE_TSX = process.env.MURMUR_CRASH_BIN === 'tsx'
/** Every TSX_EVERY-th start of the victim runs bin/murmur.js itself (tsx), whatever the bundle. */
const TSX_EVERY = 25
const ROUND_INTERVAL_MS = 80
const exec = promisify(execFile)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const decode = (b64: string): Float32Array => { const b = Buffer.from(b64, 'base64'); const w = new Float32Array(b.length / 4); new Uint8Array(w.buffer).set(b); return w }
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

type Mode = 'startup' | 'after-ack' | 'in-round' | 'uniform'

/** One acknowledged (accepted) update of the witness. */
interface Ack { seq: number, id: string, bytes: Uint8Array }

/** What the running victim reported through its API before it was killed: all of it was committed. */
interface Seen { logCount: number, lastRoundReported: number }

/** Bundles the CLI once (our sources and pure-JS dependencies; native, wasm and worker packages stay external). */
async function bundleCli (outfile: string): Promise<void> {
  await build({
    stdin: { contents: "import './node/polyfills.ts'\nimport { main } from './node/cli/main.ts'\nawait main(process.argv)\n", resolveDir: REPO_ROOT, sourcefile: 'murmur-cli.ts', loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    external: ['@tensorflow/*', 'classic-level', 'sodium-native', 'pino', 'thread-stream', 'pino-pretty', 'tsx', 'esbuild'],
    // bundled CommonJS dependencies call require()
    banner: { js: "import { createRequire as __murmurCreateRequire } from 'node:module'; const require = __murmurCreateRequire(import.meta.url);" },
    logLevel: 'silent'
  })
}

describe('crash safety of the real murmur daemon (SIGKILL at random moments, restart, check offline)', { timeout: 900_000 }, () => {
  let dir: string
  let manifest: NetworkManifest
  let network: string
  let datadirs: string[]
  let identities: Identity[]
  const dataFiles: string[] = []
  // the bundle must sit one level below the repository root: sources compute the root from import.meta.url
  const bundle = join(REPO_ROOT, 'dist', `murmur-crash-test-${process.pid}.mjs`)
  let partner: DaemonProcess | null = null
  let victim: DaemonProcess | null = null
  let witness: Libp2pTransport | null = null

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'murmur-crash-'))
    // a tiny binary problem written by the test: 4 standardized features, a linear rule
    const rng = createRng(SEED).fork('data')
    const rows = (n: number): string => {
      const out = ['x1,x2,x3,x4,y']
      for (let i = 0; i < n; i++) {
        const x = [rng.normal(), rng.normal(), rng.normal(), rng.normal()]
        out.push([...x.map((v) => v.toFixed(4)), x[0] + 2 * x[1] - x[2] + 0.3 * rng.normal() > 0 ? 1 : 0].join(','))
      }
      return out.join('\n') + '\n'
    }
    const spec = {
      name: 'crash-tiny', file: 'peer.csv', format: { header: true }, testFraction: 0.2, splitSeed: 1,
      columns: [...['x1', 'x2', 'x3', 'x4'].map((name) => ({ name, role: 'numeric', mean: 0, std: 1 })), { name: 'y', role: 'label', kind: 'binary', classes: ['0', '1'] }]
    }
    const net = await createTestNetwork({ dir, peers: 3, name: 'crash', model: { type: 'logistic', optimizer: { type: 'adam', learningRate: 0.05 } }, datasetSpec: spec, rule: { rule: 'epidemic', fanout: 1, maxStalenessRounds: 1000 } })
    manifest = net.manifest; network = net.network; datadirs = net.datadirs; identities = net.identities
    for (let i = 0; i < 2; i++) { const p = join(dir, `data-${i}.csv`); writeFileSync(p, rows(300)); dataFiles.push(p) }
    if (!USE_TSX) { mkdirSync(join(REPO_ROOT, 'dist'), { recursive: true }); await bundleCli(bundle) }
  })

  after(async () => {
    await victim?.kill()
    await partner?.stop()
    await witness?.stop()
    rmSync(dir, { recursive: true, force: true })
    rmSync(bundle, { force: true })
  })

  it(`survives ${KILLS} SIGKILLs of the victim daemon (seed ${SEED}): database opens, log verifies, nothing acknowledged lost`, async () => {
    const rng = createRng(SEED).fork('crash')
    const binFor = (start: number): string => USE_TSX || start % TSX_EVERY === TSX_EVERY - 1 ? MURMUR_BIN : bundle
    const common = { network, roundIntervalMs: ROUND_INTERVAL_MS, localSteps: 5, evaluateEvery: 4, startTimeoutMs: 90_000 }
    // the partner runs slower rounds (less CPU taken from the victim's restarts on a 2-core machine)
    partner = await spawnDaemon({ ...common, roundIntervalMs: 250, bin: binFor(0), datadir: datadirs[0], data: dataFiles[0], env: { MURMUR_LOG_LEVEL: 'warn' } })
    const victimDir = datadirs[1]
    const victimKey = hex(identities[1].signPublicKey)
    const witnessKey = hex(identities[2].signPublicKey)
    const victimInit = (bin: string, extra: { onLog?: (line: string) => void, onSpawn?: (c: ChildProcess) => void } = {}): Parameters<typeof spawnDaemon>[0] =>
      ({ ...common, bin, datadir: victimDir, data: dataFiles[1], bootstrap: [partner!.addresses[0]], env: { MURMUR_LOG_LEVEL: 'info' }, ...extra })

    // the kill schedule: a shuffled, seeded mix of moments
    const modes: Mode[] = rng.shuffle(Array.from({ length: KILLS }, (_, i): Mode => (['startup', 'after-ack', 'in-round', 'uniform'] as const)[i % 4]))
    witness = await createLibp2pTransport({ seed: identities[2].seed, networkId: manifest.id, listen: ['/ip4/127.0.0.1/tcp/0'], targetPeers: 0 })
    await witness.start()
    let envelopes: Envelopes | null = null
    let weights: Float32Array | null = null
    let schemaHash = ''
    let numParams = 0
    const acked: Ack[] = []
    let seq = 0
    let startupMs = 1500 // running estimate of spawn -> ready, for start-up kills
    let starts = 0
    let previous = { cpRound: 0, logCount: 0 }
    const counts: Record<Mode, number> = { startup: 0, 'after-ack': 0, 'in-round': 0, uniform: 0 }
    const startupOutcomes = { killedBeforeReady: 0, readyFirst: 0 }
    let replaysRefused = 0
    let rateLimited = 0 // witness sends the victim's per-peer limits refused (it backs off)
    const fallbacks: string[] = []
    let cliVerified = 0

    /** Offline, the daemon dead: the checks of the issue on the database as the crash left it. */
    const checkOffline = async (what: string, seen: Seen): Promise<{ cpRound: number, logCount: number }> => {
      const store = await LevelStore.open(join(victimDir, 'db'))
      try {
        const report = await verifyStoredLog(store)
        assert.equal(report.ok, true, `${what}: the update log fails verification: ${report.errors.join('; ')}`)
        const head = store.logHead()
        assert.ok(head.count >= seen.logCount, `${what}: ${head.count} log entries, but the daemon reported ${seen.logCount} committed before the kill`)
        const accepted = new Map<string, StoredLogEntry>()
        const newest = new Map<string, number>()
        let newestAcceptedRound = -1
        for await (const e of store.log()) {
          if (e.verdict !== 'accepted') continue
          accepted.set(e.id, e)
          newestAcceptedRound = Math.max(newestAcceptedRound, e.round)
          newest.set(e.sender, Math.max(newest.get(e.sender) ?? -1, e.seq))
        }
        for (const a of acked) {
          const e = accepted.get(a.id)
          assert.ok(e != null, `${what}: the acknowledged update seq ${a.seq} (${a.id.slice(0, 16)}) is not in the update log`)
          assert.equal(e.sender, witnessKey)
          assert.equal(e.seq, a.seq)
        }
        // one batch writes an update's log entry with its sender's replay mark: they must agree
        const marks = await store.replayMarks()
        for (const m of marks) assert.equal(m.highWater, newest.get(m.sender), `${what}: replay mark of ${m.sender.slice(0, 12)} is ${m.highWater}, newest logged seq ${String(newest.get(m.sender))}`)
        for (const sender of newest.keys()) assert.ok(marks.some((m) => m.sender === sender), `${what}: no replay mark for ${sender.slice(0, 12)}`)
        // one batch writes a round's metrics with the checkpoint of the next round
        const cp = await store.latestCheckpoint()
        const [last] = await store.metricsHistory({ limit: 1 })
        if (last != null) {
          assert.ok(cp != null, `${what}: metrics of round ${last.round} but no checkpoint`)
          // never behind: a checkpoint older than the metrics means the two were not written in one batch
          assert.ok(cp.round >= last.round + 1, `${what}: newest checkpoint is round ${cp.round}, newest round metrics ${last.round}`)
          // ahead of the next round only when the round clock followed an accepted update's round (to it, then
          // one more at the end of that round): a merge checkpoint or the clean stop's final one
          if (cp.round > last.round + 1) {
            assert.ok(newestAcceptedRound >= cp.round - 1,
              `${what}: newest checkpoint is round ${cp.round}, newest round metrics ${last.round}, and no accepted update explains the jump (newest accepted round ${newestAcceptedRound})`)
          }
          assert.ok(last.round >= seen.lastRoundReported, `${what}: the daemon reported round ${seen.lastRoundReported} done, the database has metrics up to ${last.round}`)
        }
        if (cp != null) {
          assert.equal(cp.weights.length, numParams || cp.weights.length)
          assert.ok(cp.weights.every((w) => Number.isFinite(w)), `${what}: non-finite checkpoint weights`)
          if (schemaHash !== '') assert.equal(cp.schemaHash, schemaHash)
        }
        assert.ok((cp?.round ?? 0) >= previous.cpRound, `${what}: checkpoint went back from round ${previous.cpRound} to ${cp?.round ?? 0}`)
        assert.ok(head.count >= previous.logCount, `${what}: the log shrank from ${previous.logCount} to ${head.count}`)
        return { cpRound: cp?.round ?? 0, logCount: head.count }
      } finally { await store.close() }
    }

    /** `murmur log --verify` as an operator runs it, offline. */
    const cliVerify = async (what: string): Promise<void> => {
      const r = await exec(process.execPath, [USE_TSX ? MURMUR_BIN : bundle, 'log', '--verify', '--json', '--datadir', victimDir], { cwd: REPO_ROOT, env: { ...process.env, MURMUR_LOG_LEVEL: 'silent' } })
      const report = JSON.parse(r.stdout) as VerifyReport
      assert.equal(report.ok, true, `${what}: murmur log --verify: ${report.errors.join('; ')}`)
      cliVerified++
    }

    /** The witness streams sealed updates to the live victim and records the acknowledged ones. */
    const streamTo = (d: DaemonProcess, life: { stop: boolean, killed: boolean, round: number, acks: number, onAck?: () => void }): Promise<void> => (async () => {
      try {
        await witness!.dial(d.addresses[0], { signal: AbortSignal.timeout(10_000) })
      } catch (err) {
        if (life.killed) return
        throw err
      }
      // a restarted victim still refuses the last acknowledged envelope (its replay marks survived)
      const last = acked.at(-1)
      if (last != null && !life.stop) {
        const verdict = await witness!.sendWithVerdict(victimKey, last.bytes, { signal: AbortSignal.timeout(10_000) }).catch((err: Error) => err)
        if (!(verdict instanceof Error)) { assert.equal(verdict, 'REPLAYED', `the restarted victim answered ${String(verdict)} to a replayed envelope`); replaysRefused++ }
      }
      // two senders, so that an update is usually in flight (being opened, verified, committed) at the kill
      await Promise.all([0, 1].map(async () => { while (!life.stop) {
        const s = ++seq
        const sealed = await envelopes!.seal({ kind: 0, round: life.round, seq: s, examples: 100, weight: 100, parents: [] }, weights!)
        let verdict: string | null | Error
        try {
          verdict = await witness!.sendWithVerdict(victimKey, sealed.bytes, { signal: AbortSignal.timeout(10_000) })
        } catch (err) {
          if (life.killed) return
          verdict = err as Error
        }
        if (verdict === null) {
          acked.push({ seq: s, id: sealed.id, bytes: sealed.bytes })
          life.acks++
          life.onAck?.()
        } else if (verdict === 'STALE_ROUND' || verdict === 'FAR_STALE_ROUND') {
          // the victim's round moved on faster than the witness polled it (a starved machine): catch up
          life.round = Math.max(life.round, (await d.get('/status').catch(() => ({ round: life.round }))).round)
        } else if (verdict === 'RATE_LIMITED' || verdict === 'BUSY') {
          // the witness sends faster than the victim's per-peer limits allow: a real sender backs off
          rateLimited++
          await sleep(100)
        } else if (!(verdict instanceof Error)) {
          life.stop = true
          assert.fail(`the victim refused a fresh witness update: ${verdict}`)
        }
        await sleep(10) // pacing, not correctness
      } }))
    })()

    const t0 = Date.now()
    for (let k = 0; k < KILLS; k++) {
      const mode = modes[k]
      counts[mode]++
      const what = `kill ${k} (${mode}, seed ${SEED})`
      const bin = binFor(++starts)
      const seen: Seen = { logCount: previous.logCount, lastRoundReported: -1 }
      if (mode === 'startup') {
        const delay = rng.next() * startupMs * 1.1
        let exitP: Promise<string | number> | null = null
        let timer: NodeJS.Timeout | undefined
        const started = await spawnDaemon(victimInit(bin, {
          onSpawn: (c) => {
            exitP = new Promise((resolve) => { c.once('exit', (code, signal) => { resolve(signal ?? code ?? -1) }) })
            timer = setTimeout(() => { c.kill('SIGKILL') }, delay)
          }
        })).catch((err: Error) => err)
        if (started instanceof Error) {
          assert.equal(started.name, 'DaemonExitedError', started.message)
          startupOutcomes.killedBeforeReady++
        } else {
          startupOutcomes.readyFirst++
          victim = started
        }
        assert.equal(await exitP!, 'SIGKILL', `${what}: the daemon exited by itself during start-up`)
        clearTimeout(timer)
        victim = null
      } else {
        const t = Date.now()
        let rounds = 0
        let onRound: (() => void) | undefined
        const d = await spawnDaemon(victimInit(bin, {
          onLog: (line) => {
            if (line.includes('"msg":"round"')) { rounds++; onRound?.() }
            if (line.includes('falling back')) fallbacks.push(line) // the bundle must run the same TF.js backend
          }
        }))
        victim = d
        if (bin === bundle) startupMs = 0.7 * startupMs + 0.3 * (Date.now() - t)
        // resumed from the database as the last kill left it
        const s0 = await d.get('/status')
        assert.ok(s0.round >= previous.cpRound, `${what}: restarted at round ${s0.round}, below the checkpoint round ${previous.cpRound}`)
        assert.ok(s0.updateLog.count >= previous.logCount, `${what}: restarted with ${s0.updateLog.count} log entries, the database had ${previous.logCount}`)
        if (envelopes == null) {
          const model = await d.get('/model')
          schemaHash = model.schemaHash; numParams = model.numParams; weights = decode(model.weights)
          envelopes = createDaemonEnvelopes({ manifest, keyring: createKeyring(manifest, { identity: identities[2] }), identity: identities[2], schemaHash, numParams, maxBytes: 1 << 20 })
        }
        const life = { stop: false, killed: false, round: Math.max(s0.round, (await partner.get('/status')).round) as number, acks: 0, onAck: undefined as (() => void) | undefined }
        // what the API reports is committed: remember it, the database must have it after the kill
        let polling = true
        const poll = (async () => {
          while (polling) {
            try {
              const s = await d.get('/status')
              seen.logCount = Math.max(seen.logCount, s.updateLog.count)
              if (s.lastRound != null) seen.lastRoundReported = Math.max(seen.lastRoundReported, s.lastRound.round)
              // the witness's header round: the newest of the two daemons (the victim jumps to it, Lamport
              // clock), so that the victim never finds it older than its own round by more than maxRoundLag
              life.round = Math.max(s.round, (await partner!.get('/status')).round)
            } catch {}
            await sleep(100)
          }
        })()
        const stream = streamTo(d, life)
        const kill = (): void => { life.killed = true; d.child.kill('SIGKILL') }
        let deadline: NodeJS.Timeout | undefined
        const failed = new Promise<never>((_resolve, reject) => { deadline = setTimeout(() => { reject(new Error(`${what}: the kill moment never came (acks ${life.acks}, rounds ${rounds}); stderr: ${d.stderrTail().slice(-1500)}`)) }, 60_000) })
        const triggered = new Promise<void>((resolve) => {
          if (mode === 'after-ack') {
            const target = 1 + rng.int(8)
            life.onAck = () => { if (life.acks >= target) { kill(); resolve() } }
          } else if (mode === 'in-round') {
            const target = rounds + 1 + rng.int(4) // rounds done in this life before now count too
            const offset = rng.next() * (ROUND_INTERVAL_MS + 60)
            onRound = () => { if (rounds === target) { setTimeout(() => { kill(); resolve() }, offset) } }
          } else {
            setTimeout(() => { kill(); resolve() }, rng.next() * 1000)
          }
        })
        const streamEnded = stream.then(() => { if (!life.stop) throw new Error(`${what}: the witness stopped`) })
        streamEnded.catch(() => {}); failed.catch(() => {})
        try {
          await Promise.race([triggered, failed, streamEnded])
          assert.equal(await d.exited, 'SIGKILL', `${what}: the victim's exit`)
        } finally {
          // on a failure too: the witness's senders and the poller end, so this file's process can exit
          clearTimeout(deadline)
          life.stop = true
          polling = false
        }
        await Promise.all([stream, poll])
        victim = null
      }
      previous = await checkOffline(what, seen)
      if (k % 10 === 9) await cliVerify(what)
    }
    const killsMs = Date.now() - t0

    // the last restart: it runs, merges again, stops cleanly, and its database still verifies
    const d = await spawnDaemon(victimInit(binFor(++starts)))
    victim = d
    const s0 = await d.get('/status')
    assert.ok(s0.round >= previous.cpRound, 'expected s0.round >= previous.cpRound')
    const life = { stop: false, killed: false, round: Math.max(s0.round, (await partner.get('/status')).round) as number, acks: 0 }
    const stream = streamTo(d, life)
    const { waitFor } = await import('../../node/processes.js')
    try {
      await waitFor('the restarted victim to merge updates and acknowledge new ones', async () => await d.get('/status'),
        (s) => s.totals.updatesMerged >= 2 && life.acks >= 2, { timeoutMs: 60_000 })
    } finally { life.stop = true }
    await stream
    assert.equal(await d.stop(), 0)
    victim = null
    previous = await checkOffline('after the final clean stop', { logCount: previous.logCount, lastRoundReported: -1 })
    await cliVerify('after the final clean stop')
    assert.equal(await partner.stop(), 0)
    partner = null

    // the kills covered every kind of moment and the witness had acknowledged updates to lose
    assert.ok(acked.length >= KILLS, `only ${acked.length} acknowledged updates`)
    for (const m of Object.keys(counts) as Mode[]) assert.ok(counts[m] > 0 || KILLS < 4, `no ${m} kill`)
    assert.ok(replaysRefused > 0, 'no restarted victim refused a replayed envelope')
    assert.deepEqual(fallbacks, [])
    process.stderr.write(`# crash test: ${KILLS} SIGKILLs in ${(killsMs / 1000).toFixed(1)} s (${JSON.stringify(counts)}, start-up kills before/after ready ${startupOutcomes.killedBeforeReady}/${startupOutcomes.readyFirst}), ` +
      `${acked.length} acknowledged updates all in the log, ${replaysRefused} replays refused after restarts, ${rateLimited} witness sends rate-limited, ${cliVerified} murmur log --verify runs, ${previous.logCount} log entries, checkpoint round ${previous.cpRound}, ${starts} starts (${Math.floor(starts / TSX_EVERY)} via bin/murmur.js), spawn->ready ~${Math.round(startupMs)} ms (bundle)\n`)
  })
})
