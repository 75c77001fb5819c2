import type { Command } from 'commander'
import { defaultPeerNodeOptions } from '../../constants.js'

/**
 * `murmur update inspect FILE --network MANIFEST [--datadir D]`: prints an envelope's header as JSON and the
 * verdict of the full validation (`"valid": false, "reason": "BAD_SIGNATURE"`). Exit 0 valid, 3 refused.
 * The file holds the raw envelope bytes (or their hex). Without an identity in the datadir (or the passphrase
 * of an open network) only structure, membership and signature are checked (an auditor's view: provenance).
 * With an identity the full validation runs, so an envelope sealed under a key epoch this identity cannot open
 * (e.g. after it was removed from the network) is refused as UNKNOWN_EPOCH, as its daemon would refuse it.
 */
export function register (program: Command): void {
  const update = program.command('update').description('inspect signed, encrypted model updates')
  update.command('inspect <file>')
    .description('print an envelope\'s header and whether it is valid (exit 0 valid, 3 refused)')
    .requiredOption('--network <manifest>', 'network manifest (network.json)')
    .option('--datadir <dir>', 'data directory holding your identity (to decrypt)', defaultPeerNodeOptions.datadir)
    .option('--passphrase <text>', 'open networks: the passphrase (or env MURMUR_PASSPHRASE)')
    .option('--schema-hash <hex>', 'also check the model schema hash')
    .option('--max-bytes <n>', 'largest envelope accepted', String(defaultPeerNodeOptions.maxMessageBytes))
    .action(async (file: string, opts: { network: string, datadir: string, passphrase?: string, schemaHash?: string, maxBytes: string }) => {
      const { readFile } = await import('node:fs/promises')
      const { parseManifest, createKeyring, verifyManifest } = await import('../../../protocol/membership/index.js')
      const { parseEnvelope, createValidator, createMemoryReplayGuard, verifyEnvelopeSignature, headerToJson } = await import('../../../protocol/messages/index.js')
      const { gossipVerdict } = await import('../../../protocol/interfaces.js')
      const { loadIdentity } = await import('../../keystore.js')
      const manifest = parseManifest(await readFile(opts.network, 'utf8'), opts.network)
      verifyManifest(manifest, null, { trustVersion: true })
      let bytes: Uint8Array = new Uint8Array(await readFile(file))
      const asText = Buffer.from(bytes).toString('latin1').trim()
      if (asText.length > 0 && /^(?:[0-9a-fA-F]{2})+$/.test(asText)) bytes = new Uint8Array(Buffer.from(asText, 'hex'))
      const maxBytes = Number(opts.maxBytes)
      const out: Record<string, unknown> = { file }
      const parsed = parseEnvelope(bytes, { maxBytes })
      if (parsed.ok) {
        out.id = parsed.envelope.id
        out.header = headerToJson(parsed.envelope.header)
      } else if (parsed.header != null) {
        out.header = headerToJson(parsed.header)
      }
      let keyring: ReturnType<typeof createKeyring> | null = null
      let keyNote: string | null = null
      try {
        if (manifest.open != null) {
          keyring = createKeyring(manifest, { passphrase: opts.passphrase ?? process.env.MURMUR_PASSPHRASE })
        } else {
          // allowMissingCurrent: a removed member still opens the epochs it was given; the validator then
          // refuses envelopes of the others as UNKNOWN_EPOCH (what its daemon would do)
          keyring = createKeyring(manifest, { identity: await loadIdentity(opts.datadir), allowMissingCurrent: true })
        }
      } catch (err) {
        const name = (err as Error).name
        if (name !== 'IdentityNotFoundError' && name !== 'EpochKeyError') throw err
        keyNote = `${name}: ${(err as Error).message}`
      }
      let verdict: { valid: boolean, reason?: string, detail?: string }
      if (!parsed.ok) {
        verdict = { valid: false, reason: parsed.reason, detail: parsed.detail }
      } else if (keyring != null) {
        const h = parsed.envelope.header
        const validator = createValidator({
          networkId: manifest.id,
          schemaHash: opts.schemaHash ?? h.schemaHash,
          numParams: h.numParams,
          membership: keyring,
          replay: createMemoryReplayGuard(),
          maxBytes
        })
        const r = validator.validate(bytes)
        verdict = r.ok ? { valid: true } : { valid: false, reason: r.reason, detail: r.detail }
        if (r.ok) out.norm = r.norm
        out.checked = `structure, network${opts.schemaHash != null ? ', schema' : ''}, membership, epoch, signature, payload hash, decryption, values` +
          ' (not replay or round window: those depend on a peer\'s history)'
      } else {
        const r = verifyEnvelopeSignature(bytes, { maxBytes })
        const h = parsed.envelope.header
        if (!r.ok) verdict = { valid: false, reason: r.reason, detail: r.detail }
        else if (h.networkId !== manifest.id) verdict = { valid: false, reason: 'WRONG_NETWORK', detail: `network ${h.networkId}` }
        else if (manifest.open == null && !manifest.members.some((m) => m.signKey === h.sender)) verdict = { valid: false, reason: 'NOT_A_MEMBER', detail: `sender ${h.sender}` }
        else verdict = { valid: true }
        out.checked = `structure, network, membership, signature, payload hash; NOT decrypted (${keyNote ?? 'no key'})`
      }
      const report: Record<string, unknown> = { ...verdict }
      if (verdict.reason != null) report.gossip = gossipVerdict(verdict.reason as Parameters<typeof gossipVerdict>[0])
      Object.assign(report, out)
      process.stdout.write(JSON.stringify(report, null, 2) + '\n')
      process.exitCode = verdict.valid ? 0 : 3
    })
}
