// Every assertion in the tests carries a message: under tsx a failing message-less assert.ok(expr) reads the
// source to build one and can hang for minutes (tsx issues 548 and 634), so a regression here costs a CI run.
import { it } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** `file:line` of every one-argument `assert(x)` / `assert.ok(x)` call in `text`. */
export function messageLessAsserts (file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const found: string[] = []
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && n.arguments.length === 1 && ['assert', 'assert.ok'].includes(n.expression.getText(sf))) {
      found.push(`${file}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`)
    }
    ts.forEachChild(n, visit)
  }
  visit(sf)
  return found
}

it('finds a message-less assert.ok and accepts one with a message (the check itself)', () => {
  assert.deepEqual(messageLessAsserts('x.ts', 'assert.ok(a)\nassert.ok(b, "b")\nassert(c)\n'), ['x.ts:1', 'x.ts:3'], 'the two message-less calls, by line')
})

it('no test file has an assertion without a message', () => {
  const files: string[] = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (name.endsWith('.ts')) files.push(p)
    }
  }
  walk(join(root, 'test'))
  const bad = files.flatMap((f) => messageLessAsserts(relative(root, f), readFileSync(f, 'utf8')))
  assert.deepEqual(bad, [], `give these assertions a message: ${bad.join(', ')}`)
})
