#!/usr/bin/env node
// The project's own layering rule for crypto/: it imports nothing of the project outside crypto/ (a relative or
// absolute import, export-from, dynamic import() or require() that resolves outside the folder), so that it can
// be reviewed, tested and replaced on its own. Package imports (sodium-native, tweetnacl, @noble/...) are fine.
// Read-only. Usage: node scripts/check-crypto-imports.mjs [ROOT]   (npm run layers; exit 1 naming each import)
import { readdirSync, readFileSync, existsSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)))
const cryptoDir = join(root, 'crypto')
if (!existsSync(cryptoDir)) {
  console.error(`check-crypto-imports: no crypto/ folder under ${root}`)
  process.exit(1)
}

// static `import ... from '...'`, `import '...'`, `export ... from '...'`, dynamic `import('...')`, `require('...')`
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"])([^'"\n]+)\1/g

const files = []
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) walk(path)
    else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(entry.name)) files.push(path)
  }
}
walk(cryptoDir)

/** Blanks out comments (keeping line breaks) so that an example in a doc comment is not read as an import. */
const stripComments = (text) => text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (c) => c.replace(/[^\n]/g, ' '))

const problems = []
for (const file of files) {
  const text = stripComments(readFileSync(file, 'utf8'))
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[2]
    if (!(spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('file:'))) continue
    const target = spec.startsWith('file:') ? fileURLToPath(spec) : resolve(dirname(file), spec)
    if (target === cryptoDir || target.startsWith(cryptoDir + sep)) continue
    const line = text.slice(0, m.index).split('\n').length
    problems.push(`  ${relative(root, file)}:${line} imports '${spec}' (outside crypto/)`)
  }
}
if (problems.length > 0) {
  console.error(`check-crypto-imports: crypto/ must import nothing of the project outside crypto/; ${problems.length} import(s) do:\n${problems.join('\n')}`)
  process.exit(1)
}
console.log(`check-crypto-imports: ok (${files.length} file(s) in crypto/)`)
