import type { Command } from 'commander'
import { defaultPeerNodeOptions } from '../../constants.js'

/**
 * `murmur network ...`: create a network manifest and change it (each change is a new version signed by
 * this peer's identity, which must be an admin; with a threshold k > 1 the other admins add their
 * signatures with `murmur network sign`). Files are rewritten atomically (temp file + rename): an error
 * never loses the old file.
 */

interface DataDirOption { datadir: string }

function collect (value: string, previous: string[]): string[] {
  return [...previous, value]
}

/** A spec given on the command line: inline JSON, a JSON/YAML file, or a plain name (kept as a string). */
async function readSpec (text: string, what: string): Promise<unknown> {
  const { readFile, stat } = await import('node:fs/promises')
  const trimmed = text.trim()
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed)
    } catch (err) {
      throw new NetworkCommandError(`--${what}: not valid JSON (${(err as Error).message})`)
    }
  }
  const isFile = await stat(trimmed).then((s) => s.isFile(), () => false)
  if (isFile) {
    const body = await readFile(trimmed, 'utf8')
    try {
      if (/\.ya?ml$/i.test(trimmed)) return (await import('yaml')).parse(body) as unknown
      return JSON.parse(body)
    } catch (err) {
      throw new NetworkCommandError(`--${what} ${trimmed}: ${(err as Error).message}`)
    }
  }
  return trimmed
}

function parseParams (pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new NetworkCommandError(`--param ${pair}: expected key=value`)
    const raw = pair.slice(eq + 1)
    let value: unknown = raw
    try { value = JSON.parse(raw) } catch { /* a plain string */ }
    out[pair.slice(0, eq)] = value
  }
  return out
}

export class NetworkCommandError extends Error {
  static override name = 'NetworkCommandError'
  override name = 'NetworkCommandError'
}

async function loadManifestFile (file: string) {
  const { readFile } = await import('node:fs/promises')
  const { parseManifest } = await import('../../../protocol/membership/index.js')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new NetworkCommandError(`cannot read ${file}: ${(err as Error).message}`)
  }
  return parseManifest(text, file)
}

async function saveManifestFile (file: string, manifest: import('../../../protocol/membership/index.js').NetworkManifest): Promise<void> {
  const { stat } = await import('node:fs/promises')
  const { writeFileAtomic } = await import('../../keystore.js')
  const { serializeManifest, parseManifest } = await import('../../../protocol/membership/index.js')
  const text = serializeManifest(manifest)
  parseManifest(text, file) // never write something we could not read back
  const mode = await stat(file).then((s) => s.mode & 0o777, () => 0o644)
  await writeFileAtomic(file, text, { overwrite: true, mode })
}

async function admin (opts: DataDirOption) {
  const { loadIdentity } = await import('../../keystore.js')
  return await loadIdentity(opts.datadir)
}

/** Applies a change signed by this peer's identity and writes the new version to the same file. */
async function change (file: string, opts: DataDirOption, f: (m: import('../../../protocol/membership/index.js').NetworkManifest, id: import('../../../crypto/index.js').Identity) => import('../../../protocol/membership/index.js').NetworkManifest | Promise<import('../../../protocol/membership/index.js').NetworkManifest>): Promise<void> {
  const m = await loadManifestFile(file)
  const identity = await admin(opts)
  const next = await f(m, identity)
  await saveManifestFile(file, next)
  const needed = m.threshold
  const have = next.signatures.length
  process.stderr.write(`${file}: now version ${next.version} (${have} of ${needed} admin signature${needed === 1 ? '' : 's'} needed by peers on version ${m.version})` +
    (have < needed ? `; other admins must run \`murmur network sign ${file}\`` : '') + '\n')
}

export function register (program: Command): void {
  const network = program.command('network').description('create and change network manifests (membership, admins, key epochs)')
  const datadir = defaultPeerNodeOptions.datadir

  network.command('create')
    .description('create a network (you become its first admin and member; key epoch 1 is created); prints the manifest JSON')
    .requiredOption('--name <name>', 'network name')
    .requiredOption('--model <spec>', 'model spec: inline JSON, a JSON/YAML file, or a name')
    .requiredOption('--dataset <spec>', 'dataset spec: inline JSON, a JSON/YAML file, or a name')
    .requiredOption('--rule <rule>', 'averaging rule (e.g. push-sum, pairwise, mean, median)')
    .option('--param <key=value>', 'averaging rule parameter (repeatable; values parsed as JSON when they can be)', collect, [])
    .option('--privacy <spec>', 'differential privacy of every member\'s training, inline JSON or a JSON/YAML file: { epsilon, delta, clip, noiseMultiplier } or { epsilon, delta, clip, steps } (the noise derived from epsilon over that many local steps)')
    .option('--threshold <k>', 'admin signatures a change needs (1 at creation; raise it with set-threshold after adding admins)', '1')
    .option('--schema-hash <hex>', 'dataset schema hash (default: SHA-256 of the canonical dataset spec)')
    .option('--open', 'open network: no member list, key derived from --passphrase (anyone with it can read updates)')
    .option('--passphrase <text>', 'passphrase of an open network (or env MURMUR_PASSPHRASE)')
    .option('--out <file>', 'write the manifest to this file (atomically; refuses to overwrite) instead of stdout')
    .option('--datadir <dir>', 'data directory holding your identity', datadir)
    .action(async (opts: DataDirOption & { name: string, model: string, dataset: string, rule: string, param: string[], privacy?: string, threshold: string, schemaHash?: string, open?: boolean, passphrase?: string, out?: string }) => {
      const { createNetwork, serializeManifest } = await import('../../../protocol/membership/index.js')
      const { defaultInfluence } = await import('../../../protocol/averaging/params.js')
      const threshold = Number(opts.threshold)
      if (threshold !== 1) throw new NetworkCommandError(`--threshold ${opts.threshold}: a new network has one admin; add admins (add-member, add-admin) then run set-threshold`)
      const passphrase = opts.passphrase ?? process.env.MURMUR_PASSPHRASE
      if (opts.open === true && passphrase == null) throw new NetworkCommandError('--open needs --passphrase (or env MURMUR_PASSPHRASE)')
      if (opts.open !== true && opts.passphrase != null) throw new NetworkCommandError('--passphrase is only for --open networks')
      if (opts.schemaHash != null && !/^[0-9a-f]{64}$/.test(opts.schemaHash)) throw new NetworkCommandError('--schema-hash must be 64 lowercase hex characters')
      let privacy: unknown
      if (opts.privacy != null) {
        const { parsePrivacySpec } = await import('../../../learning/privacy/index.js')
        const raw = await readSpec(opts.privacy, 'privacy')
        try { privacy = parsePrivacySpec(raw) } catch (err) { throw new NetworkCommandError(`--privacy: ${(err as Error).message}`) }
      }
      const identity = await admin(opts)
      const m = createNetwork({
        name: opts.name,
        model: await readSpec(opts.model, 'model'),
        dataset: { spec: await readSpec(opts.dataset, 'dataset'), ...(opts.schemaHash != null ? { schemaHash: opts.schemaHash } : {}) },
        // bounded influence written out, so every member runs (and every reader sees) the same bounds: the rule's
        // own defaults where it has them (glm-newton: clipping off, it breaks the conserved sums of the exact GLM)
        rule: { name: opts.rule, params: { ...await ruleInfluence(opts.rule, defaultInfluence()), ...parseParams(opts.param) } },
        ...(privacy != null ? { privacy } : {}),
        creator: identity,
        ...(opts.open === true ? { open: { passphrase: passphrase as string } } : {})
      })
      if (opts.out != null) {
        const { writeFileAtomic } = await import('../../keystore.js')
        await writeFileAtomic(opts.out, serializeManifest(m)).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'EEXIST') throw new NetworkCommandError(`${opts.out} already exists: refusing to overwrite it`)
          throw err
        })
        process.stderr.write(`wrote ${opts.out}: network ${m.id}\n`)
      } else {
        process.stdout.write(serializeManifest(m))
      }
      if (m.open != null) {
        const { OPEN_NETWORK_WARNING } = await import('../../../protocol/membership/index.js')
        process.stderr.write(OPEN_NETWORK_WARNING + '\n')
      }
    })

  network.command('add-member <file>')
    .description('add a member (new version; the current key epoch is sealed to them)')
    .option('--member <string>', 'member string printed by `murmur init` (member:<sign>:<box>)')
    .option('--key <hex>', 'member\'s signing public key (box key: --box-key, or derived by the standard conversion)')
    .option('--box-key <hex>', 'member\'s X25519 box public key')
    .option('--name <label>', 'a label for the member (e.g. the institution)')
    .option('--datadir <dir>', 'data directory holding your (admin) identity', datadir)
    .action(async (file: string, opts: DataDirOption & { member?: string, key?: string, boxKey?: string, name?: string }) => {
      const { addMember, parseMember } = await import('../../../protocol/membership/index.js')
      const text = opts.member ?? opts.key
      if (text == null) throw new NetworkCommandError('give --member <member string> or --key <signing key hex>')
      if (opts.member != null && opts.key != null) throw new NetworkCommandError('give either --member or --key, not both')
      const member = parseMember(text, opts.boxKey, opts.name)
      await change(file, opts, (m, id) => addMember(m, member, id))
    })

  network.command('remove-member <file>')
    .description('remove a member (new version and a new key epoch they cannot open)')
    .requiredOption('--key <hex>', 'member\'s signing public key')
    .option('--datadir <dir>', 'data directory holding your (admin) identity', datadir)
    .action(async (file: string, opts: DataDirOption & { key: string }) => {
      const { removeMember } = await import('../../../protocol/membership/index.js')
      await change(file, opts, (m, id) => removeMember(m, opts.key, id))
    })

  network.command('add-admin <file>')
    .description('make an existing member an admin (new version)')
    .requiredOption('--key <hex>', 'member\'s signing public key')
    .option('--datadir <dir>', 'data directory holding your (admin) identity', datadir)
    .action(async (file: string, opts: DataDirOption & { key: string }) => {
      const { addAdmin } = await import('../../../protocol/membership/index.js')
      await change(file, opts, (m, id) => addAdmin(m, opts.key, id))
    })

  network.command('set-threshold <file> <k>')
    .description('set how many admin signatures a change needs (new version)')
    .option('--datadir <dir>', 'data directory holding your (admin) identity', datadir)
    .action(async (file: string, k: string, opts: DataDirOption) => {
      const { setThreshold } = await import('../../../protocol/membership/index.js')
      await change(file, opts, (m, id) => setThreshold(m, Number(k), id))
    })

  network.command('set-param <file> <key=value...>')
    .description('change averaging rule parameters (new version; key=null deletes one)')
    .option('--rule <rule>', 'also change the averaging rule')
    .option('--datadir <dir>', 'data directory holding your (admin) identity', datadir)
    .action(async (file: string, pairs: string[], opts: DataDirOption & { rule?: string }) => {
      const { setRuleParams } = await import('../../../protocol/membership/index.js')
      const params = parseParams(pairs)
      await change(file, opts, (m, id) => setRuleParams(m, params, id, opts.rule))
    })

  network.command('rotate-key <file>')
    .description('start a new key epoch for the current members (new version)')
    .option('--datadir <dir>', 'data directory holding your (admin) identity', datadir)
    .action(async (file: string, opts: DataDirOption) => {
      const { rotateEpoch } = await import('../../../protocol/membership/index.js')
      await change(file, opts, (m, id) => rotateEpoch(m, id))
    })

  network.command('sign <file>')
    .description('add your admin signature to the version in the file (k-of-n changes)')
    .option('--datadir <dir>', 'data directory holding your (admin) identity', datadir)
    .action(async (file: string, opts: DataDirOption) => {
      const { signManifest } = await import('../../../protocol/membership/index.js')
      const { toHex } = await import('../../../crypto/index.js')
      const m = await loadManifestFile(file)
      const identity = await admin(opts)
      const key = toHex(identity.signPublicKey)
      if (!m.admins.includes(key)) process.stderr.write(`note: you (${key.slice(0, 16)}…) are not an admin of version ${m.version}; peers count only signatures of the previous version's admins\n`)
      const next = signManifest(m, identity)
      await saveManifestFile(file, next)
      process.stderr.write(`${file}: version ${next.version} now has ${next.signatures.length} signature(s)\n`)
    })

  network.command('publish <file>')
    .description('hand a new manifest version to a running daemon (POST /manifest): it checks it, adopts it live and ' +
      'announces it to the other daemons over gossipsub. Exit 0 adopted (or already current), 3 refused.')
    .option('--api <host:port>', 'the daemon\'s API (default: from <datadir>/api.json)')
    .option('--token <token>', 'API token (default: env MURMUR_API_TOKEN, else <datadir>/api-token)')
    .option('--datadir <dir>', 'data directory of the daemon (to find its API)', datadir)
    .option('--timeout-ms <ms>', 'give up after this long', '30000')
    .option('--json', 'print the daemon\'s answer as JSON')
    .action(async (file: string, opts: { api?: string, token?: string, datadir: string, timeoutMs: string, json?: boolean }) => {
      const { readFile } = await import('node:fs/promises')
      const { MANIFEST_MAX_BYTES, serializeManifest } = await import('../../../protocol/membership/index.js')
      const m = await loadManifestFile(file) // a clear error naming the file and field before anything is sent
      const body = serializeManifest(m)
      if (Buffer.byteLength(body) > MANIFEST_MAX_BYTES) throw new NetworkCommandError(`${file}: ${Buffer.byteLength(body)} bytes exceeds the ${MANIFEST_MAX_BYTES}-byte limit`)
      let url: string
      if (opts.api != null) {
        url = opts.api.startsWith('http') ? opts.api : `http://${opts.api}`
      } else {
        const { join } = await import('node:path')
        const { API_FILE } = await import('../../constants.js')
        const path = join(opts.datadir, API_FILE)
        try {
          url = (JSON.parse(await readFile(path, 'utf8')) as { url: string }).url
        } catch {
          throw new NetworkCommandError(`no running daemon found for datadir ${opts.datadir} (${path} is missing): pass --api HOST:PORT`)
        }
      }
      const { clientApiToken } = await import('../../api/auth.js')
      const token = await clientApiToken({ token: opts.token, datadir: opts.datadir })
      let res: Response
      try {
        res = await fetch(new URL('/manifest', url), {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token != null ? { authorization: `Bearer ${token}` } : {}) },
          body,
          signal: AbortSignal.timeout(Number(opts.timeoutMs))
        })
      } catch (err) {
        throw new NetworkCommandError(`cannot reach the daemon at ${url}: ${(err as Error).message}`)
      }
      const text = await res.text()
      let answer: Record<string, any>
      try { answer = JSON.parse(text) } catch { throw new NetworkCommandError(`${url}/manifest: HTTP ${res.status} ${text.slice(0, 200)}`) }
      if (res.status === 401) throw new NetworkCommandError(`${url}: unauthorized (give --token or MURMUR_API_TOKEN, or --datadir of that daemon)`)
      if (res.status === 404 || res.status === 405) throw new NetworkCommandError(`${url}: this daemon has no POST /manifest (upgrade it, or restart it with the new ${file})`)
      if (opts.json === true) {
        process.stdout.write(JSON.stringify(answer, null, 2) + '\n')
      } else if (answer.adopted === true) {
        process.stdout.write(`adopted version ${answer.version} (key epoch ${answer.epoch})` +
          `${answer.removed?.length > 0 ? `; removed ${answer.removed.length} member(s), closed ${answer.closedConnections} connection(s)` : ''}` +
          `${answer.added?.length > 0 ? `; added ${answer.added.length} member(s)` : ''}` +
          `${answer.announced === true ? '; announced to the network' : '; NOT announced (publish it to each daemon)'}` +
          `${answer.restartRequired != null ? `; ${answer.restartRequired.join(', ')} change(s) apply when the daemons restart` : ''}\n`)
      } else if (answer.alreadyCurrent === true) {
        process.stdout.write(`the daemon already holds version ${answer.version}\n`)
      } else {
        process.stdout.write(`refused: ${answer.reason ?? `HTTP ${res.status}`}${answer.detail != null ? ` (${answer.detail})` : answer.error != null ? ` (${answer.error})` : ''}; the daemon stays on version ${answer.version ?? '?'}\n`)
      }
      process.exitCode = answer.adopted === true || answer.alreadyCurrent === true ? 0 : 3
    })

  network.command('show <file>')
    .description('print a summary of a manifest and check its signatures')
    .option('--previous <file>', 'check it as a change on top of this earlier version')
    .option('--json', 'print the checked manifest as JSON')
    .action(async (file: string, opts: { previous?: string, json?: boolean }) => {
      const { verifyManifest, manifestHash } = await import('../../../protocol/membership/index.js')
      const m = await loadManifestFile(file)
      const previous = opts.previous != null ? await loadManifestFile(opts.previous) : null
      let check = 'ok'
      try {
        verifyManifest(m, previous, { trustVersion: true })
      } catch (err) {
        check = `${(err as Error).name}: ${(err as Error).message}`
        process.exitCode = 3
      }
      if (opts.json === true) {
        process.stdout.write(JSON.stringify({ ...m, check, hash: manifestHash(m) }, null, 2) + '\n')
        return
      }
      const current = m.epochs[m.epochs.length - 1]
      const lines = [
        `network   ${m.name}  (${m.id})`,
        `version   ${m.version}   hash ${manifestHash(m)}`,
        `mode      ${m.open != null ? `OPEN (key from passphrase, ${m.open.kdf} N=${m.open.N})` : 'closed (member list, sealed group keys)'}`,
        `rule      ${m.rule.name} ${JSON.stringify(m.rule.params)}`,
        `model     ${JSON.stringify(m.model)}`,
        `dataset   ${JSON.stringify(m.dataset.spec)}  schema ${m.dataset.schemaHash}`,
        `admins    ${m.admins.length} (changes need ${m.threshold}): ${m.admins.map((a) => a.slice(0, 16) + '…').join(', ')}`,
        `members   ${m.members.length}`,
        ...m.members.map((x) => `  ${x.signKey}${x.name != null ? `  ${x.name}` : ''}${m.admins.includes(x.signKey) ? '  (admin)' : ''}`),
        `epochs    ${m.epochs.length}${current != null ? ` (current ${current.epoch}, sealed to ${current.keys.length})` : ''}`,
        `signatures ${m.signatures.length}: ${check}${previous != null ? ` (checked against version ${previous.version})` : ' (checked against this version\'s own admins)'}`
      ]
      process.stdout.write(lines.join('\n') + '\n')
    })
}

/** The influence bounds a rule defaults to (its schema's defaults for the fields of `fallback`); `fallback` for a rule the registry does not know (createNetwork names it). */
async function ruleInfluence<T extends object> (rule: string, fallback: T): Promise<T> {
  const { parseAveragingParams } = await import('../../../protocol/engine/rules/index.js')
  let parsed: Record<string, unknown>
  try { parsed = parseAveragingParams({ rule }) as unknown as Record<string, unknown> } catch { return fallback }
  return Object.fromEntries(Object.entries(fallback).map(([k, v]) => [k, parsed[k] ?? v])) as T
}
