import type { Command } from 'commander'
import { defaultPeerNodeOptions } from '../../constants.js'

/**
 * `murmur init [--datadir D]`: creates this peer's identity (ed25519 signing key, which is also its libp2p
 * PeerId key, and the X25519 box key derived from it) in `<datadir>/identity.json` (mode 0600), and prints
 * the PeerId and the member string an admin passes to `murmur network add-member`. Refuses to overwrite.
 * `--encrypt` stores the seed under a passphrase (scrypt + secretbox) read from MURMUR_KEY_PASSPHRASE or, on a
 * terminal, prompted for twice; the daemon then needs MURMUR_KEY_PASSPHRASE to start.
 */
async function promptPassphrase (question: string): Promise<string> {
  const { createInterface } = await import('node:readline')
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
  // echo nothing of what is typed
  ;(rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (text: string) => { if (text.includes(question)) process.stderr.write(text) }
  try {
    return await new Promise<string>((resolve) => { rl.question(question, resolve) })
  } finally {
    rl.close()
    process.stderr.write('\n')
  }
}

async function encryptPassphrase (env: string): Promise<string> {
  const fromEnv = process.env[env]
  if (fromEnv != null && fromEnv !== '') return fromEnv
  if (process.stdin.isTTY !== true) throw new Error(`--encrypt needs a passphrase: set ${env}, or run on a terminal to be asked for one`)
  const first = await promptPassphrase('identity passphrase: ')
  const second = await promptPassphrase('again: ')
  if (first !== second) throw new Error('the two passphrases differ')
  return first
}
export function register (program: Command): void {
  program.command('init')
    .description('create this peer\'s identity (signing key = libp2p PeerId key) in the data directory')
    .option('--datadir <dir>', 'data directory', defaultPeerNodeOptions.datadir)
    .option('--json', 'print the result as JSON')
    .option('--encrypt', 'store the key encrypted under a passphrase (env MURMUR_KEY_PASSPHRASE, else prompted)')
    .action(async (opts: { datadir: string, json?: boolean, encrypt?: boolean }) => {
      const { createIdentityFile, peerIdString, identityPath, KEY_PASSPHRASE_ENV } = await import('../../keystore.js')
      const { toHex } = await import('../../../crypto/index.js')
      const { memberString } = await import('../../../protocol/membership/index.js')
      const passphrase = opts.encrypt === true ? await encryptPassphrase(KEY_PASSPHRASE_ENV) : undefined
      const identity = await createIdentityFile(opts.datadir, { passphrase })
      const { ensureApiToken, apiTokenPath } = await import('../../api/auth.js')
      await ensureApiToken(opts.datadir)
      const out = {
        peerId: await peerIdString(identity),
        peerKey: toHex(identity.signPublicKey),
        signPublicKey: toHex(identity.signPublicKey),
        boxPublicKey: toHex(identity.boxPublicKey),
        member: memberString(identity),
        keyFile: identityPath(opts.datadir),
        apiTokenFile: apiTokenPath(opts.datadir),
        encrypted: passphrase != null
      }
      if (opts.json === true) {
        process.stdout.write(JSON.stringify(out, null, 2) + '\n')
        return
      }
      process.stdout.write([
        `identity created: ${out.keyFile} (mode 0600${out.encrypted ? `, encrypted: the daemon needs ${KEY_PASSPHRASE_ENV}` : ''}; back it up, never share it)`,
        `peer id:          ${out.peerId}`,
        `signing key:      ${out.signPublicKey}`,
        `box key:          ${out.boxPublicKey}`,
        `API token:        ${out.apiTokenFile} (mode 0600; \`murmur status\` reads it)`,
        'member string (give this to a network admin for `murmur network add-member`):',
        `  ${out.member}`
      ].join('\n') + '\n')
    })
}
