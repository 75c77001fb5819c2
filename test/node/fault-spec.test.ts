// The scenario-file form of `murmur testnet --faults`: parsed and validated, errors name the file and the field.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isFaultSpecFile, parseFaultSpec } from '../../node/faults/index.js'

test('a fault scenario file: faults in order with peers, window and scenario; errors name the file and field', () => {
  assert.deepEqual(parseFaultSpec('peers: 4\nwindow: 30\nfaults: [late-join, partition-heal, disk-full]\n', 'f.yaml'),
    { peers: 4, window: 30, faults: ['late-join', 'partition-heal', 'disk-full'] }, 'YAML parsed as written')
  assert.deepEqual(parseFaultSpec('{"faults":["round-jump"],"scenario":"testnet"}', 'f.json').faults, ['round-jump'], 'JSON too')
  assert.throws(() => parseFaultSpec('faults: [late-join, meteor]\n', 'f.yaml'),
    (err: Error) => err.name === 'FaultSpecError' && /f\.yaml: field faults\.1: unknown fault 'meteor' \(built in: late-join,/.test(err.message), 'an unknown fault names its index and the known ones')
  assert.throws(() => parseFaultSpec('faults: [lost-db]\npeers: 2\n', 'f.yaml'), (err: Error) => err.name === 'FaultSpecError' && /field peers/.test(err.message), 'peers below 3 names the field')
  assert.throws(() => parseFaultSpec('faults: [lost-db]\nwindw: 20\n', 'f.yaml'), (err: Error) => err.name === 'FaultSpecError' && /f\.yaml/.test(err.message) && /windw/.test(err.message), 'a misspelled field is refused by name')
  assert.throws(() => parseFaultSpec('faults: [', 'f.yaml'), (err: Error) => err.name === 'FaultSpecError' && /not valid YAML/.test(err.message), 'broken YAML')
  assert.equal(isFaultSpecFile('faults.yaml'), true, 'a .yaml name is a file')
  assert.equal(isFaultSpecFile('late-join,lost-db'), false, 'a list of names is not')
})
