import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  announcementFromTxt, decodeTxt, encodeTxt, fnv1a32, hostName, instanceLabel, instanceName, txtBytes, txtProblem,
  MAX_TXT_BYTES,
} from '../../../src/mdns/txt.ts';
import type { Tally } from '../../../src/mdns/stats.ts';
import type { PeerAnnouncement } from '../../../src/mdns/types.ts';

const base: PeerAnnouncement = {
  cluster: 'prod', nodeId: 'node-1', gossipAddress: '10.0.0.1:7946', rpcAddress: '10.0.0.1:8080', protocolVersion: 3, meta: {},
};
const valid = ['txtvers=1', 'cluster=prod', 'id=node-1', 'proto=3', 'gossip=10.0.0.1:7946', 'rpc=10.0.0.1:8080'];

function parse(strings: (string | Buffer)[]): { a: PeerAnnouncement | undefined; tally: Tally } {
  const tally: Tally = {};
  const txt = decodeTxt(strings.map((s) => (typeof s === 'string' ? Buffer.from(s) : s)), tally);
  return { a: txt === undefined ? undefined : announcementFromTxt(txt, tally), tally };
}

test('mdns txt: instance labels keep safe ids and make others safe, distinct and at most 63 bytes', () => {
  assert.equal(instanceLabel('node-1'), 'node-1');
  assert.equal(instanceLabel('A_b-9'), 'A_b-9');
  assert.equal(instanceName('node-1', '_micromesh._udp.local'), 'node-1._micromesh._udp.local');
  assert.equal(hostName('node-1'), 'node-1.micromesh.local');
  const odd = ['a.b', 'a b', 'héllo', 'x'.repeat(64), 'y'.repeat(128), 'a.b.c', 'a-b'.padEnd(70, '.'), '🙂'];
  const labels = odd.map(instanceLabel);
  for (const l of labels) {
    assert.match(l, /^[A-Za-z0-9_-]{1,63}$/);
  }
  assert.equal(new Set(labels).size, odd.length, 'distinct ids give distinct labels');
  assert.equal(instanceLabel('a.b'), `a-b-${fnv1a32('a.b')}`);
  assert.notEqual(instanceLabel('a.b'), instanceLabel('a b'), 'the hash tells apart ids that sanitise alike');
  assert.equal(fnv1a32(''), '811c9dc5'); // FNV-1a offset basis
  assert.equal(fnv1a32('a'), 'e40c292c'); // published test vector
});

test('mdns txt: encoding puts the fixed keys first, then sorted meta', () => {
  const strings = encodeTxt({ ...base, meta: { zone: 'eu', role: 'db' } });
  assert.deepEqual(strings, [...valid, 'role=db', 'zone=eu']);
  assert.equal(txtBytes(['ab', 'c']), 5);
  assert.equal(txtBytes(['é']), 3);
});

test('mdns txt: a valid record decodes; keys are case-insensitive and values keep "="', () => {
  const { a, tally } = parse([...valid.map((s) => s.replace('cluster', 'CLUSTER')), 'zone=a=b']);
  assert.deepEqual(a, { ...base, meta: { zone: 'a=b' } });
  assert.deepEqual(tally, {});
});

test('mdns txt: a repeated key keeps its first value (RFC 6763 §6.4); empty strings and stray keys are ignored', () => {
  const { a, tally } = parse([...valid, 'id=other', '', 'flag', '=nokey', 'Bad Key=1', '_x=2']);
  assert.equal(a?.nodeId, 'node-1');
  assert.deepEqual(a?.meta, {});
  assert.deepEqual(tally, { ignoredKeys: 5 });
});

test('mdns txt: at most 8 meta entries are kept', () => {
  const extra = Array.from({ length: 10 }, (_, i) => `k${i}=v`);
  const { a, tally } = parse([...valid, ...extra]);
  assert.equal(Object.keys(a!.meta).length, 8);
  assert.equal(tally.ignoredKeys, 2);
});

test('mdns txt: non-TXT data, bad UTF-8 and oversized records are skipped and counted', () => {
  const cases: [unknown, keyof Tally][] = [
    [[Buffer.from('txtvers=1'), 42], 'malformedTxt'],
    [[{}], 'malformedTxt'],
    [null, 'malformedTxt'],
    [[Buffer.from([0x69, 0x64, 0x3d, 0xff, 0xfe])], 'malformedTxt'],
    [['x'.repeat(256)], 'malformedTxt'],
    [Array.from({ length: 5 }, () => Buffer.alloc(250, 0x61)), 'oversizedTxt'],
  ];
  for (const [data, counter] of cases) {
    const tally: Tally = {};
    assert.equal(decodeTxt(data, tally), undefined);
    assert.deepEqual(tally, { [counter]: 1 });
  }
  // A single string or Buffer (not an array) is accepted, as dns-packet would encode it.
  assert.deepEqual([...decodeTxt('a=1', {})!], [['a', '1']]);
  assert.ok(MAX_TXT_BYTES >= txtBytes(valid));
});

test('mdns txt: version, missing and invalid fields', () => {
  const without = (key: string): string[] => valid.filter((s) => !s.startsWith(`${key}=`));
  assert.deepEqual(parse(without('txtvers')).tally, { missingFields: 1 });
  assert.deepEqual(parse(['txtvers=2', ...without('txtvers')]).tally, { unsupportedVersion: 1 });
  assert.deepEqual(parse(['txtvers=01', ...without('txtvers')]).tally, { unsupportedVersion: 1 });
  for (const key of ['cluster', 'id', 'proto', 'gossip', 'rpc']) {
    assert.deepEqual(parse(without(key)).tally, { missingFields: 1 }, key);
  }
  const bad: [string, string][] = [
    ['cluster', ''], ['cluster', '-x'], ['cluster', 'a b'], ['cluster', 'c'.repeat(64)],
    ['id', 'a b'], ['id', 'x\u0001'], ['id', 'é'.repeat(65)],
    ['proto', '-1'], ['proto', '65536'], ['proto', '01'], ['proto', '1.5'], ['proto', 'one'], ['proto', ''],
    ['gossip', '10.0.0.1'], ['gossip', '10.0.0.1:0'], ['gossip', '10.0.0.1:70000'], ['gossip', ':80'], ['rpc', 'nope'],
  ];
  for (const [key, value] of bad) {
    const { a, tally } = parse([...without(key), `${key}=${value}`]);
    assert.equal(a, undefined, `${key}=${value}`);
    assert.deepEqual(tally, { invalidFields: 1 }, `${key}=${value}`);
  }
  assert.deepEqual(parse([...without('proto'), 'proto']).tally, { invalidFields: 1, missingFields: 1 }, 'a reserved key without "="');
  assert.equal(parse([...without('proto'), 'proto=65535']).a?.protocolVersion, 65535);
  assert.equal(parse([...without('gossip'), 'gossip=[::1]:7946']).a?.gossipAddress, '[::1]:7946');
  assert.equal(parse([...without('gossip'), 'gossip=host.lan:7946']).a?.gossipAddress, 'host.lan:7946');
});

test('mdns txt: txtProblem reports strings over 255 bytes and records over the limit', () => {
  assert.equal(txtProblem(base), undefined);
  assert.match(txtProblem({ ...base, meta: { k: 'v'.repeat(260) } })!, /over 255 bytes/);
  const many = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, 'v'.repeat(150)]));
  assert.match(txtProblem({ ...base, meta: many })!, /over the 1024-byte limit/);
});
