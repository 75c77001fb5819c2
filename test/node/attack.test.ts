// `--attack SPEC` parsing for a rogue daemon (node/attack.ts): the simulator's compact form, named errors that
// name the field, and the simulator's behaviours.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseDaemonAttack, daemonBehaviour, DaemonAttackError } from '../../node/attack.js'

describe('parseDaemonAttack', () => {
  it('reads kind[:key=value,...] and JSON', async () => {
    assert.deepEqual(await parseDaemonAttack('scale:factor=1e29'), { kind: 'scale', params: { factor: 1e29 }, spec: { kind: 'scale', factor: 1e29 } }, 'compact form with a parameter')
    assert.deepEqual((await parseDaemonAttack('replay')).params, {}, 'a kind without parameters')
    assert.deepEqual((await parseDaemonAttack('{"kind":"weight","value":1e30}')).spec, { kind: 'weight', value: 1e30 }, 'JSON form')
  })

  it('refuses an unknown kind, an unknown or bad parameter and label-flip, naming the field', async () => {
    await assert.rejects(parseDaemonAttack('bogus'), (e: Error) => e instanceof DaemonAttackError && /^--attack: unknown attack kind 'bogus'/.test(e.message), 'unknown kind')
    await assert.rejects(parseDaemonAttack('scale:fator=2', 'rogue'), (e: Error) => e instanceof DaemonAttackError && /^--rogue scale: .*fator/.test(e.message), 'unknown parameter, with the field given')
    await assert.rejects(parseDaemonAttack('scale:factor=-1'), (e: Error) => e instanceof DaemonAttackError && /factor/.test(e.message), 'a negative factor')
    await assert.rejects(parseDaemonAttack('label-flip'), (e: Error) => e instanceof DaemonAttackError && /unknown attack kind 'label-flip'/.test(e.message), 'label-flip poisons data, not messages')
    await assert.rejects(parseDaemonAttack('scale:factor'), (e: Error) => e instanceof DaemonAttackError && /^--attack: expected key=value/.test(e.message), 'a malformed parameter')
  })
})

describe('daemonBehaviour', () => {
  it('is the simulator\'s behaviour for the attack', async () => {
    const context = { members: 4, roundMs: 1000, transport: { libp2p: null as never, maxMessageBytes: 4096 } }
    const b = await daemonBehaviour(await parseDaemonAttack('sign-flip:scale=1000'), context)
    assert.equal(b.name, 'sign-flip x1000', 'named as the simulator names it')
    assert.equal(typeof b.outgoing, 'function', 'it rewrites outgoing updates')
    const f = await daemonBehaviour(await parseDaemonAttack('flood:perSecond=50,junk=0.5'), context)
    assert.equal(f.name, 'flood 50/s (50% junk)', 'flood is the simulator\'s, paced on the wall clock')
    const h = await daemonBehaviour(await parseDaemonAttack('half-streams:count=64'), context)
    assert.equal(h.name, 'half-streams x64', 'half-streams is the daemon\'s own')
    await assert.rejects(parseDaemonAttack('half-streams:count=0'), (e: Error) => e instanceof DaemonAttackError && /count/.test(e.message), 'a stream count below 1')
    await assert.rejects(parseDaemonAttack('flood:junk=2'), (e: Error) => e instanceof DaemonAttackError && /junk/.test(e.message), 'a junk fraction above 1')
  })
})
