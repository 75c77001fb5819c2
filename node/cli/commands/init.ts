import type { Command } from 'commander'
import { defaultPeerNodeOptions } from '../../constants.js'

/**
 * `murmur init [--datadir D]`: creates this peer's identity (ed25519 signing key, which is also its libp2p
 * PeerId key, and the X25519 box key derived from it) in `<datadir>/identity.json` (mode 0600), and prints
 * the PeerId and the member string an admin passes to `murmur network add-member`. Refuses to overwrite.
 */
export function register (program: Command): void {
  program.command('init')
    .description('create this peer\'s identity (signing key = libp2p PeerId key) in the data directory')
    .option('--datadir <dir>', 'data directory', defaultPeerNodeOptions.datadir)
    .option('--json', 'print the result as JSON')
    .action(async (opts: { datadir: string, json?: boolean }) => {
      const { createIdentityFile, peerIdString, identityPath } = await import('../../keystore.js')
      const { toHex } = await import('../../../crypto/index.js')
      const { memberString } = await import('../../../protocol/membership/index.js')
      const identity = await createIdentityFile(opts.datadir)
      const { ensureApiToken, apiTokenPath } = await import('../../api/auth.js')
      await ensureApiToken(opts.datadir)
      const out = {
        peerId: await peerIdString(identity),
        peerKey: toHex(identity.signPublicKey),
        signPublicKey: toHex(identity.signPublicKey),
        boxPublicKey: toHex(identity.boxPublicKey),
        member: memberString(identity),
        keyFile: identityPath(opts.datadir),
        apiTokenFile: apiTokenPath(opts.datadir)
      }
      if (opts.json === true) {
        process.stdout.write(JSON.stringify(out, null, 2) + '\n')
        return
      }
      process.stdout.write([
        `identity created: ${out.keyFile} (mode 0600; back it up, never share it)`,
        `peer id:          ${out.peerId}`,
        `signing key:      ${out.signPublicKey}`,
        `box key:          ${out.boxPublicKey}`,
        `API token:        ${out.apiTokenFile} (mode 0600; \`murmur status\` reads it)`,
        'member string (give this to a network admin for `murmur network add-member`):',
        `  ${out.member}`
      ].join('\n') + '\n')
    })
}
