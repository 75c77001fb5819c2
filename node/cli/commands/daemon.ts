/**
 * The daemon's commands: `daemon`, `status`, `peers`, `export`, `evaluate`, `testnet` (`log` and `db` in db.ts).
 * Heavy modules (libp2p, level, TF.js) load inside each action.
 */
import type { Command } from 'commander'
import { defaultPeerNodeOptions as D } from '../../constants.js'
import { apiTarget, durationOption, get, int, print, sizeOption } from '../client.js'

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

/** The options of a command that talks to a running daemon's API. */
function apiClient (command: Command): Command {
  return command
    .option('--datadir <dir>', 'data directory of the daemon', D.datadir)
    .option('--api <url>', 'daemon API (default: from <datadir>/api.json)')
    .option('--api-token <token>', 'API token (default: env MURMUR_API_TOKEN, else <datadir>/api-token)')
    .option('--json', 'print JSON')
}

export function register (program: Command): void {
  program.command('daemon')
    .description('Run a peer: joins the network by its bootstrap addresses, trains on local data, merges by gossip.\n' +
      'Prints its multiaddrs first. SIGINT/SIGTERM: checkpoint, stop libp2p, close the database, exit 0.')
    .requiredOption('--network <file>', 'network manifest (network.json)')
    .requiredOption('--data <path>', 'local data: a CSV file (rows appended to it are learned without restart) or a directory (new files are read as they land)')
    .option('--datadir <dir>', 'data directory (identity, database)', D.datadir)
    .option('--listen <multiaddr>', `listen address (repeatable; default ${D.listen.join(' ')})`, collect)
    .option('--bootstrap <multiaddr>', 'peer to join through, with /p2p/<id> (repeatable)', collect, [])
    .option('--announce <multiaddr>', 'address to tell peers instead of the listen addresses, e.g. a port forward (repeatable)', collect, [])
    .option('--dial-from <ip>', 'local IP that outbound connections are made from (hosts with several addresses)')
    .option('--target-peers <n>', 'connections to keep: below it, known peers and bootstrap addresses are redialled with backoff', int('--target-peers'), D.targetPeers)
    .option('--isolated-limit-ms <ms>', 'no connection for longer than this: a warning, and /health answers 503', int('--isolated-limit-ms'), D.isolatedLimitMs)
    .option('--api <host:port>', 'HTTP API address (port 0: any free port)', D.api)
    .option('--api-token <token>', 'API token (required when --api is not loopback; env MURMUR_API_TOKEN)')
    .option('--round-interval-ms <ms>', 'pause between local rounds', int('--round-interval-ms'), D.roundIntervalMs)
    .option('--local-steps <n>', 'local training steps per round', int('--local-steps'), D.localSteps)
    .option('--evaluate-every <rounds>', 'evaluate on local validation rows every N rounds', int('--evaluate-every'), D.evaluateEveryRounds)
    .option('--personal', 'also train a local-only model and keep the personal blend of it and the network model,\n' +
      'chosen on the local validation rows every --evaluate-every rounds (/status, murmur export --personal); twice the training')
    .option('--max-rounds <n>', 'stop after N local rounds (0: run until stopped)', int('--max-rounds'), D.maxRounds)
    .option('--seed <n>', 'seed of this peer\'s random choices (default: from its key)', int('--seed'))
    .option('--backend <name>', 'TF.js backend: wasm, cpu, tensorflow, tensorflow-gpu', D.backend)
    .option('--data-poll-ms <ms>', 'how often to look for new rows', int('--data-poll-ms'), D.dataPollMs)
    .option('--on-bad-row <rule>', 'bad rows of your data file: error (stop at the first, naming its line) or skip (count them); default: the network\'s dataset spec', (v: string) => {
      if (v !== 'error' && v !== 'skip') throw new Error(`--on-bad-row must be error or skip, got "${v}"`)
      return v
    })
    .option('--log-max-bytes <size>', 'update-log retention: stored size kept, e.g. 256MiB (the oldest entries go first)', sizeOption('--log-max-bytes'), D.logMaxBytes)
    .option('--log-max-age <duration>', 'update-log retention: entries older than this go, e.g. 90d', durationOption('--log-max-age'), D.logMaxAgeMs)
    .option('--metrics-keep <rows>', 'metrics-history rows kept (one per round)', int('--metrics-keep'), D.metricsKeep)
    .option('--wait-for-peers <n>', 'wait for N neighbours before the first round (gives up after 2 minutes)', int('--wait-for-peers'), D.waitForPeers)
    .option('--attack <spec>', 'FOR TESTING ONLY: run as a rogue member that sends what this simulator attack sends\n' +
      '(kind[:key=value,...], e.g. scale:factor=1e29, weight:value=1e30, sign-flip:scale=1000)')
    .action(async (opts) => {
      const { PeerNode } = await import('../../peer-node.js')
      const node = await PeerNode.init({
        datadir: opts.datadir,
        network: opts.network,
        data: opts.data,
        listen: opts.listen ?? D.listen,
        bootstrap: opts.bootstrap,
        announce: opts.announce,
        dialFrom: opts.dialFrom,
        targetPeers: opts.targetPeers,
        isolatedLimitMs: opts.isolatedLimitMs,
        api: opts.api,
        apiToken: opts.apiToken,
        roundIntervalMs: opts.roundIntervalMs,
        localSteps: opts.localSteps,
        evaluateEveryRounds: opts.evaluateEvery,
        personal: opts.personal === true,
        maxRounds: opts.maxRounds,
        seed: opts.seed,
        backend: opts.backend,
        dataPollMs: opts.dataPollMs,
        waitForPeers: opts.waitForPeers,
        onBadRow: opts.onBadRow,
        logMaxBytes: opts.logMaxBytes,
        logMaxAgeMs: opts.logMaxAge,
        metricsKeep: opts.metricsKeep,
        attack: opts.attack
      })
      let exiting = false
      const shutdown = (signal: string): void => {
        if (exiting) return
        exiting = true
        node.log.info({ signal }, 'stopping: checkpoint, stop libp2p, close the database')
        node.close().then(() => { process.exit(0) }, (err) => {
          process.stderr.write(`murmur daemon: error while stopping: ${(err as Error).message}\n`)
          process.exit(1)
        })
      }
      process.once('SIGINT', () => { shutdown('SIGINT') })
      process.once('SIGTERM', () => { shutdown('SIGTERM') })
      try {
        await node.start()
      } catch (err) {
        await node.close()
        throw err
      }
      for (const a of node.addresses()) process.stdout.write(`${a}\n`)
      process.stdout.write(`api ${node.api?.url ?? ''}\n`)
      await node.stopped()
      if (!exiting) {
        exiting = true
        await node.close()
        if (node.failure != null) throw node.failure
      }
    })

  apiClient(program.command('status')
    .description('Show a running daemon\'s status: peer id, addresses, round, local metric, neighbours, refusals by reason'))
    .action(async (opts) => {
      const s = await get<Record<string, any>>(await apiTarget(opts), '/status')
      print(opts.json === true, s, () => [
        `health     ${s.healthy === true ? 'ok' : `NOT READY: ${(s.healthReasons as Array<{ code: string, detail: string }>).map((r) => `${r.code} (${r.detail})`).join('; ')}`}`,
        `peer       ${s.peerId}`,
        `key        ${s.peerKey}`,
        `network    ${s.network.name} (v${s.network.version}, epoch ${s.network.epoch}${s.network.open === true ? ', OPEN' : ''}), rule ${s.rule}`,
        `round      ${s.round}${s.running === true ? '' : ' (stopped)'}`,
        `examples   ${s.examples}${s.rowsAppended > 0 ? ` (${s.rowsAppended} appended while running)` : ''}`,
        `metric     ${s.localMetric == null ? '(not evaluated yet)' : Object.entries(s.localMetric).map(([k, v]) => `${k}=${Number(v).toFixed(4)}`).join(' ')}`,
        ...(s.personal == null ? [] : [`personal   ${s.personal.z == null ? '(not chosen yet)' : `z ${String(s.personal.z)} (round ${String(s.personal.round)}), ${String(s.personal.criterion)} on ${String(s.personal.validationRows)} validation rows: ` +
          (s.personal.validation == null ? '-' : `personal ${Number(s.personal.validation.personal).toFixed(4)}, network ${Number(s.personal.validation.network).toFixed(4)}, local-only ${Number(s.personal.validation.localOnly).toFixed(4)}`)}`]),
        `neighbours ${s.neighbours.length} (${s.connections} connections, target ${String(s.keeper?.targetPeers)}, ${String(s.keeper?.knownPeers)} known peers)`,
        ...(s.privacy == null ? [] : [`privacy    epsilon spent ${Number(s.privacy.epsilon).toFixed(3)} of ${String(s.privacy.budgetEpsilon)} (delta ${String(s.privacy.delta)}), remaining ${Number(s.privacy.remainingEpsilon).toFixed(3)}, ${String(s.privacy.steps)} steps${s.privacy.exhausted === true ? ': BUDGET SPENT, not sending (still receiving)' : ''}`]),
        `refused    ${Object.keys(s.refusedByReason).length === 0 ? 'none' : Object.entries(s.refusedByReason).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`,
        `log        ${s.updateLog.count} entries`,
        ...s.addresses.map((a: string) => `listening  ${a}`)
      ].join('\n'))
    })

  apiClient(program.command('peers')
    .description('List a running daemon\'s connections and neighbours'))
    .action(async (opts) => {
      const p = await get<{ connections: Array<Record<string, any>>, neighbours: string[] }>(await apiTarget(opts), '/peers')
      print(opts.json === true, p, () => p.connections.length === 0
        ? '(no connections)'
        : p.connections.map((c) => `${c.neighbour === true ? '*' : ' '} ${String(c.peerId)}  ${String(c.direction).padEnd(8)} ${String(c.address)}`).join('\n') +
          '\n(* = neighbour on the network\'s topic)')
    })

  program.command('export')
    .description('Export the model as TF.js model.json + weights (opens with @tensorflow/tfjs loadLayersModel), or\n' +
      'with --format glm the coefficient table of an exact GLM network (rule glm-newton), as R\'s summary(glm) prints it')
    .option('--out <dir>', 'output directory (tfjs)')
    .option('--format <format>', 'tfjs | glm', 'tfjs')
    .option('--json', 'glm: print the table as JSON')
    .option('--datadir <dir>', 'data directory', D.datadir)
    .option('--network <file>', 'network manifest (default: the one stored in the datadir)')
    .option('--api <url>', 'take the live model from a running daemon')
    .option('--data <file>', 'a data file with the network\'s schema (default: the daemon\'s own data file)')
    .option('--backend <name>', 'TF.js backend', D.backend)
    .option('--personal', 'the running daemon\'s personal model (daemon --personal), with personal.json (z, blend)')
    .action(async (opts) => {
      if (opts.personal === true) {
        const { exportPersonal } = await import('../../personal-export.js')
        const p = await exportPersonal({ datadir: opts.datadir, network: opts.network, out: opts.out, api: opts.api, data: opts.data, backend: opts.backend })
        process.stdout.write(`wrote ${p.files.join(', ')} (personal model, z ${p.z}, round ${p.round}, ${p.numParams} parameters)\n`)
        return
      }
      if (opts.format === 'glm') {
        const { exportGlm } = await import('../../model-io.js')
        const r = await exportGlm({ datadir: opts.datadir, network: opts.network, api: opts.api, data: opts.data, backend: opts.backend })
        print(opts.json === true, { round: r.round, source: r.source, peers: r.peers, ...r.summary }, () => `${r.source}, ${r.peers} peers\n${r.text}`)
        return
      }
      if (opts.format !== 'tfjs') throw new Error(`--format: '${String(opts.format)}' is not tfjs or glm`)
      if (opts.out == null) throw new Error('--out <dir> is required for the tfjs format')
      const { exportModel } = await import('../../model-io.js')
      const r = await exportModel({ datadir: opts.datadir, network: opts.network, out: opts.out, api: opts.api, data: opts.data, backend: opts.backend })
      process.stdout.write(`wrote ${r.files.join(', ')} (round ${r.round}, ${r.numParams} parameters)\n`)
    })

  program.command('evaluate')
    .description('Evaluate this peer\'s model on a data file with the network\'s dataset schema')
    .requiredOption('--data <file>', 'CSV file to evaluate on')
    .option('--datadir <dir>', 'data directory', D.datadir)
    .option('--network <file>', 'network manifest (default: the one stored in the datadir)')
    .option('--api <url>', 'take the live model from a running daemon')
    .option('--backend <name>', 'TF.js backend', D.backend)
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const { evaluateModel } = await import('../../model-io.js')
      const r = await evaluateModel({ datadir: opts.datadir, network: opts.network, data: opts.data, api: opts.api, backend: opts.backend })
      print(opts.json === true, r, () => `round ${r.round} on ${r.rows} rows of ${opts.data as string}:\n` +
        Object.entries(r.metrics).map(([k, v]) => `  ${k.padEnd(20)} ${Number(v).toFixed(5)}`).join('\n'))
    })

  program.command('testnet')
    .description('Start N real daemon processes on 127.0.0.1 (the first is the bootstrap), give each its data partition,\n' +
      'wait for the rounds, gather /status and print a summary with the simulator\'s keys; stop them all cleanly.')
    .option('--peers <n>', 'number of daemons', int('--peers'), 3)
    .option('--scenario <name|file>', 'simulator scenario to take dataset, model, rule, partition and rounds from', 'testnet')
    .option('--rounds <n>', 'local rounds each peer runs', int('--rounds'))
    .option('--dir <dir>', 'working directory (default: a fresh temporary directory, removed afterwards)')
    .option('--keep', 'keep the working directory')
    .option('--round-interval-ms <ms>', 'pause between local rounds', int('--round-interval-ms'), 200)
    .option('--timeout-s <s>', 'give up after this many seconds', int('--timeout-s'), 600)
    .option('--no-baselines', 'skip the baselines (centralized, local-only, FedAvg computed by the simulator on the same split)')
    .option('--workers <n>', 'simulator worker threads for the baselines', int('--workers'))
    .option('--faults <names|file>', 'fault harness: apply these faults in turn (comma-separated: late-join, return, lost-db, kill-9,\n' +
      'partition-heal, restart-all, round-jump, disk-full; or a .yaml/.json file with faults, peers, window, scenario)\n' +
      'and report recovery per fault instead of a training summary')
    .option('--window <rounds>', 'fault harness: the rule\'s round window (maxStalenessRounds) to run at', int('--window'), 20)
    .option('--no-prediction', 'fault harness: skip the simulator\'s run of the catch-up and partition-heal faults beside the daemons')
    .option('--link-rtt <ms>', 'fault harness: round-trip time added on every member\'s link, e.g. 100', int('--link-rtt'))
    .option('--link-loss <share>', 'fault harness: share of packets dropped on every link, e.g. 0.02 (root and iptables)', (v: string) => Number(v))
    .option('--attack <spec>', 'for testing the defences: run clean, then again with the last daemon started with\n' +
      '`daemon --attack SPEC` (kind[:key=value,...], e.g. scale:factor=1e29); figures over the honest peers')
    .option('--json', 'print the summary as one JSON object')
    .action(async (opts, cmd: Command) => {
      if (opts.faults != null) {
        const { runFaults, isFaultSpecFile, loadFaultSpec, predictionLine } = await import('../../faults/index.js')
        const value = String(opts.faults)
        // a scenario file gives the faults and its own peers, window and scenario; flags given explicitly win
        const file = isFaultSpecFile(value) ? await loadFaultSpec(value) : null
        const given = (name: string): boolean => cmd.getOptionValueSource(name) === 'cli'
        const r = await runFaults({
          faults: file?.faults ?? value.split(',').map((x) => x.trim()).filter((x) => x !== ''),
          peers: given('peers') ? opts.peers : file?.peers ?? opts.peers,
          windowRounds: given('window') ? opts.window : file?.window ?? opts.window,
          scenario: given('scenario') ? opts.scenario : file?.scenario ?? opts.scenario,
          link: { rttMs: opts.linkRtt ?? file?.rttMs, loss: opts.linkLoss ?? file?.loss }, predict: opts.prediction !== false, dir: opts.dir, keep: opts.keep === true, progress: opts.json !== true ? (line: string) => { process.stderr.write(line + '\n') } : undefined
        })
        print(opts.json === true, r, () => {
          const f = (v: number | null): string => v == null ? '-' : v.toFixed(4)
          const link = r.link as { rttMs: number, loss: number, droppedPackets: number | null }
          return [`faults            ${String(r.peers)} daemons, ${String(r.windowRounds)}-round window, metric ${String(r.metric)} on the held-out rows`,
            ...(link.rttMs > 0 || link.loss > 0 ? [`links             ${link.rttMs} ms added RTT, ${(link.loss * 100).toFixed(1)}% loss${link.droppedPackets != null ? ` (${link.droppedPackets} packets dropped)` : ''}`] : []),
            ...r.faults.flatMap((x) => [`${x.name.padEnd(18)}${x.skipped != null ? `skipped (${x.skipped})` : x.passed ? 'passed' : 'FAILED'}  recovery ${x.recoverySeconds == null ? '-' : `${x.recoverySeconds} s`}  spread ${f(x.spread.before)} -> ${f(x.spread.after)}  mean ${f(x.mean.before)} -> ${f(x.mean.after)}${x.error != null ? `  error: ${x.error}` : ''}`,
              ...(x.prediction != null ? [predictionLine(x.prediction)] : [])]),
            `wall time         ${String(r.wallSeconds)} s`].join('\n')
        })
        if (r.passed !== true) process.exitCode = 1
        return
      }
      const { runTestnet } = await import('../../testnet.js')
      const summary = await runTestnet({
        peers: opts.peers, scenario: opts.scenario, rounds: opts.rounds, dir: opts.dir, keep: opts.keep === true,
        roundIntervalMs: opts.roundIntervalMs, timeoutMs: opts.timeoutS * 1000, baselines: opts.baselines !== false, workers: opts.workers, attack: opts.attack, progress: opts.json !== true ? (line: string) => { process.stderr.write(line + '\n') } : undefined
      })
      print(opts.json === true, summary, () => {
        const s = summary as Record<string, any>
        const f = (v: unknown): string => typeof v === 'number' ? v.toFixed(4) : String(v)
        return [
          `scenario          ${String(s.scenario)} (${String(s.peers)} daemons over TCP on 127.0.0.1, rule ${String(s.rule)}, ${String(s.rounds)} rounds)`,
          ...(s.attack != null
            ? [`attack            ${String(s.attack.kind)} ${JSON.stringify(s.attack.params)} by peer ${String(s.attack.peer)}: clean mean ${f(s.clean?.decentralized?.mean)} -> attacked mean ${f(s.decentralized.mean)} (honest peers)`]
            : []),
          `metric            ${String(s.metric?.name ?? '?')} (${s.metric?.higherIsBetter === false ? 'lower' : 'higher'} is better), on the held-out rows`,
          `decentralized     mean ${f(s.decentralized.mean)}  worst ${f(s.decentralized.min)}  p10 ${f(s.decentralized.p10)}  consensus distance ${f(s.decentralized.consensusDistance)}`,
          `baselines         centralized ${f(s.centralized.value)}  local-only ${f(s.localOnly.mean)}  FedAvg ${f(s.fedavg.value)}${s.simulator != null ? `  (simulator, same split: decentralized ${f(s.simulator.decentralized?.mean)})` : ''}`,
          `curve (local)     ${(s.curve as Array<{ round: number, mean: number | null }>).filter((_, i, a) => a.length <= 6 || i % Math.ceil(a.length / 6) === 0 || i === a.length - 1).map((p) => `r${p.round} ${f(p.mean)}`).join('  ')}`,
          `per peer          ${(s.perPeer as Array<{ metric: number | null, round: number, neighbours: number, rogue?: boolean }>).map((p) => `${f(p.metric)}@r${p.round}/${p.neighbours}n${p.rogue === true ? ' (rogue)' : ''}`).join('  ')}`,
          `traffic           ${Math.round(Number(s.bytesPerPeerPerRound))} bytes per peer per round`,
          `refused           ${Object.keys(s.refused).length === 0 ? 'none' : Object.entries(s.refused).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`,
          `bounded           ${Object.keys(s.bounded ?? {}).length === 0 ? 'none' : Object.entries(s.bounded).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`,
          `exit codes        ${(s.exitCodes as unknown[]).join(' ')}`,
          `wall time         ${String(s.wallSeconds)} s`
        ].join('\n')
      })
    })
}
