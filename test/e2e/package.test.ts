// The published shape of the package: `npm pack` (which builds dist/ through `prepare`), then an install of the
// tarball into an empty folder (dependencies from npm's cache, metadata from the registry where not cached;
// optional native TF.js left out), and the installed `murmur` answers --help and runs a tiny simulation from there.
import { it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

/** Whether dist/ holds a complete build newer than every source file (as bin/murmur.js decides). */
function buildIsFresh (): boolean {
  const stamp = join(root, 'dist', '.build-stamp')
  if (!existsSync(stamp)) return false
  const built = statSync(stamp).mtimeMs
  const newer = (dir: string): boolean => readdirSync(dir, { withFileTypes: true }).some((e) =>
    e.isDirectory() ? newer(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs > built)
  return !['crypto', 'protocol', 'learning', 'node', 'simulations'].some((d) => newer(join(root, d)))
}

it('npm pack, install of the tarball in an empty folder: murmur --help and murmur simulate work', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-pack-'))
  try {
    // a fresh build is packed as it is: rebuilding (prepare) would swap dist/ under other tests' running daemons
    const pack = spawnSync(npm, ['pack', '--pack-destination', dir, '--json', ...(buildIsFresh() ? ['--ignore-scripts'] : [])], { cwd: root, encoding: 'utf8', timeout: 300_000 })
    assert.equal(pack.status, 0, `npm pack failed: ${pack.stderr}`)
    const [{ filename, files }] = JSON.parse(pack.stdout) as Array<{ filename: string, files: Array<{ path: string }> }>
    const paths = files.map((f) => f.path)
    assert.ok(paths.includes('bin/murmur.js') && paths.includes('dist/node/cli/main.js') && paths.includes('dist/node/cli/main.d.ts'), `the tarball holds the bin, the compiled CLI and its types: ${paths.slice(0, 20).join(', ')}`)
    assert.ok(paths.includes('dist/simulations/scenarios/default.yaml') && paths.includes('dist/simulations/harness/worker-boot.mjs'), 'the tarball holds the scenario files and the worker bootstrap')
    assert.ok(!paths.some((p) => p.endsWith('.ts') && !p.endsWith('.d.ts')), 'no TypeScript sources in the tarball')

    const app = join(dir, 'app')
    mkdirSync(app)
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'murmur-pack-check', private: true }))
    const install = spawnSync(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--omit=optional', join(dir, filename)], { cwd: app, encoding: 'utf8', timeout: 400_000 })
    assert.equal(install.status, 0, `npm install of the tarball failed: ${install.stderr}`)
    assert.ok(readdirSync(join(app, 'node_modules', '@murmur-p2p')).includes('murmur'), 'installed under its scoped name')

    const bin = join(app, 'node_modules', '.bin', 'murmur')
    const env = { ...process.env, MURMUR_LOG_LEVEL: 'silent' }
    const help = spawnSync(bin, ['--help'], { cwd: app, encoding: 'utf8', timeout: 60_000, env })
    assert.equal(help.status, 0, `murmur --help failed: ${help.stderr}`)
    assert.match(help.stdout, /simulate/, 'the help lists the simulate command')
    const sim = spawnSync(bin, ['simulate', '--peers', '4', '--rounds', '2', '--no-baselines', '--json', '--out', join(dir, 'out')], { cwd: app, encoding: 'utf8', timeout: 300_000, env })
    assert.equal(sim.status, 0, `murmur simulate failed: ${sim.stderr}`)
    const result = JSON.parse(sim.stdout) as { peers: number, rounds: number, curve: unknown[] }
    assert.equal(result.peers, 4, 'the simulation ran 4 peers')
    assert.equal(result.curve.length, 2, 'one curve point per round')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
