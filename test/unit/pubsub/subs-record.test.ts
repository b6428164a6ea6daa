import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Encoder } from 'cbor-x';
import { decodeSubs, encodeSubs, queuesFor, wantsBroadcast } from '../../../src/pubsub/subs-record.ts';
import { cborArrayOf, decodeDeliver, decodeOutcome, encodeBroadcastMessage, encodeOutcome } from '../../../src/pubsub/delivery-wire.ts';
import { decodeEnvelope, encodeEnvelope, envelopeMsgId, gossipTopicOf, prefixBytes } from '../../../src/pubsub/gossip/envelope.ts';

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const size = (v: unknown): number => cbor.encode(v).length;

test('subs record: exact when it fits, deduplicated and sorted; undefined when empty', () => {
  const keys = [
    { pattern: 'orders.*', queue: undefined }, { pattern: 'orders.*', queue: undefined },
    { pattern: 'a.>', queue: 'w' }, { pattern: 'b', queue: 'w' }, { pattern: 'c', queue: 'v' },
  ];
  assert.deepEqual(encodeSubs(keys, 4096, size), { b: ['orders.*'], q: [['v', 'c'], ['w', 'a.>', 'b']] });
  assert.deepEqual(encodeSubs(keys, 4096, size, false), { q: [['v', 'c'], ['w', 'a.>', 'b']] }, 'gossip: queue groups only');
  assert.equal(encodeSubs([], 4096, size), undefined);
  assert.equal(encodeSubs([{ pattern: 'x', queue: undefined }], 4096, size, false), undefined);
});

test('subs record: too many patterns coarsen to "everything" plus queue names; too many queue names is an error', () => {
  const keys = Array.from({ length: 200 }, (_, i) => ({ pattern: `topic.number.${i}`, queue: i % 2 === 0 ? undefined : 'workers' }));
  const coarse = encodeSubs(keys, 256, size)!;
  assert.deepEqual(coarse, { a: true, q: [['workers']] });
  const parsed = decodeSubs(coarse);
  assert.ok(wantsBroadcast(parsed, ['anything', 'at', 'all']));
  assert.deepEqual(queuesFor(parsed, ['whatever']), ['workers']);
  const queues = Array.from({ length: 100 }, (_, i) => ({ pattern: 'x', queue: `queue-group-${i}` }));
  assert.throws(() => encodeSubs(queues, 256, size), { code: 'SUBSCRIPTIONS_TOO_LARGE' });
});

test('subs record: decoding matches patterns and rejects malformed records', () => {
  const s = decodeSubs({ b: ['orders.*'], q: [['w', 'jobs.>']] });
  assert.ok(wantsBroadcast(s, ['orders', 'new']));
  assert.ok(!wantsBroadcast(s, ['orders', 'new', 'x']));
  assert.deepEqual(queuesFor(s, ['jobs', 'a', 'b']), ['w']);
  assert.deepEqual(queuesFor(s, ['other']), []);
  assert.deepEqual(decodeSubs(undefined), { all: false, broadcast: [], queues: new Map() });
  for (const bad of [42, [], { b: 'x' }, { b: [1] }, { b: ['a..b'] }, { q: [['w']] }, { q: [[1, 'a']] }, { a: 1 }]) {
    assert.throws(() => decodeSubs(bad), { code: 'BAD_REQUEST' }, JSON.stringify(bad));
  }
});

test('delivery wire: requests round-trip and malformed ones are refused with BAD_REQUEST', () => {
  const body = new Uint8Array([1, 2, 3]);
  const req = { n: 'node-a', p: '0011223344556677', m: [[35, 'a.b', { k: 'v' }, body], [1, 'c', {}, body, 'q', 2, ['node-a/1']]] };
  const d = decodeDeliver(cbor.decode(cbor.encode(req)), cbor);
  assert.equal(d.sender, 'node-a');
  assert.deepEqual(d.messages.map((m) => [m.id, m.topic, m.queue, m.attempt, m.tried]), [
    ['0011223344556677-z', 'a.b', undefined, 1, undefined], ['0011223344556677-1', 'c', 'q', 2, ['node-a/1']],
  ]);
  assert.deepEqual([...d.messages[0]!.body], [1, 2, 3]);
  const bads = [null, {}, { n: 'x', p: 'y', m: [[1, 'a', {}]] }, { n: 'x', p: 'y', m: [[1, 'a.*', {}, body]] },
    { n: 'x', p: 'y', m: [[-1, 'a', {}, body]] }, { n: 'x', p: 'y', m: [[1, 'a', { k: 1 }, body]] },
    { n: 'x', p: 'y', m: [[1, 'a', {}, 'text']] }, { n: 'x', p: 'y', m: [[1, 'a', {}, body, '', 1]] },
    { n: 'x', p: 'y', m: [[1, 'a', {}, body, 'q', 0]] }];
  for (const bad of bads) assert.throws(() => decodeDeliver(bad, cbor), { code: 'BAD_REQUEST' }, JSON.stringify(bad));
  const packed = { n: 'a', p: 'ff', m: cborArrayOf([encodeBroadcastMessage(1, 'x', {}, body), encodeBroadcastMessage(2, 'y', {}, body)]) };
  assert.deepEqual(decodeDeliver(cbor.decode(cbor.encode(packed)), cbor).messages.map((m) => [m.id, m.topic]), [['ff-1', 'x'], ['ff-2', 'y']]);
  for (const n of [0, 23, 24, 255, 256, 70_000]) {
    const arr = cborArrayOf(Array.from({ length: n }, () => cbor.encode(7)));
    assert.equal((cbor.decode(arr) as number[]).length, n);
  }
  assert.throws(() => decodeDeliver({ n: 'a', p: 'b', m: new Uint8Array([0x9f]) }, cbor), { code: 'BAD_REQUEST' });
  for (const o of [0, 1, 2, 3, { code: 'X', message: 'boom', member: 'n/1' }] as const) assert.deepEqual(decodeOutcome(encodeOutcome(o)), o);
  assert.equal((decodeOutcome('junk') as { code: string }).code, 'PROTOCOL_ERROR');
});

test('broadcast message encoding: the hand-written CBOR decodes to what was encoded', () => {
  const long = 'é'.repeat(200);
  const cases: [number, string, Record<string, string>, Uint8Array][] = [
    [0, 'a', {}, new Uint8Array(0)],
    [23, 'orders.created', { 'content-type': 'application/cbor' }, new Uint8Array([1, 2, 3])],
    [24, 'ü.ñ', { k: '', [long]: long }, new Uint8Array(300).fill(7)],
    [65_535, 't', { a: '1', b: '2', c: '3' }, new Uint8Array(70_000).fill(1)],
    [2 ** 32 - 1, 'x'.repeat(24), Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`h${i}`, `v${i}`])), new Uint8Array([0])],
  ];
  for (const [seq, topic, headers, body] of cases) {
    const [s, t, h, b] = cbor.decode(encodeBroadcastMessage(seq, topic, headers, body)) as [number, string, Record<string, string>, Uint8Array];
    assert.deepEqual([s, t, h, Buffer.from(b)], [seq, topic, headers, Buffer.from(body)], `seq ${seq}`);
  }
  // Past 2^32 seq still decodes to a number (cbor-x would make a 64-bit integer a BigInt, which decodeDeliver refuses).
  for (const seq of [2 ** 32, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER]) {
    const packed = { n: 'a', p: 'ff', m: cborArrayOf([encodeBroadcastMessage(seq, 'x', {}, new Uint8Array(1))]) };
    assert.equal(decodeDeliver(cbor.decode(cbor.encode(packed)), cbor).messages[0]!.id, `ff-${seq.toString(36)}`);
  }
  // Minimal heads: array, seq 0, text "a", empty map, empty bytes.
  assert.deepEqual([...encodeBroadcastMessage(0, 'a', {}, new Uint8Array(0))], [0x84, 0x00, 0x61, 0x61, 0xa0, 0x40]);
});

test('gossip envelope: header is the message id; body round-trips; malformed envelopes are refused', () => {
  const prefix = prefixBytes('00112233445566ff');
  const held = [{ seq: 7, id: 'x', topic: 'a.b', tokens: ['a', 'b'], headers: { h: '1' }, body: new Uint8Array([9]) }];
  const e1 = encodeEnvelope(prefix, 1, 'node', held);
  const e2 = encodeEnvelope(prefix, 2, 'node', held);
  assert.notDeepEqual(envelopeMsgId(e1), envelopeMsgId(e2), 'identical payloads get distinct ids');
  const d = decodeEnvelope(cbor, e1);
  assert.equal(d.sender, 'node');
  assert.deepEqual(d.messages.map((m) => [m.id, m.topic, m.headers, [...m.body]]), [['00112233445566ff-7', 'a.b', { h: '1' }, [9]]]);
  assert.throws(() => decodeEnvelope(cbor, e1.subarray(0, 10)), { code: 'BAD_REQUEST' });
  const wrongVersion = e1.slice();
  wrongVersion[0] = 9;
  assert.throws(() => decodeEnvelope(cbor, wrongVersion), { code: 'BAD_REQUEST' });
  const junk = new Uint8Array([1, ...prefix, 0, 0, 0, 1, 0xff, 0xff]);
  assert.throws(() => decodeEnvelope(cbor, junk), { code: 'BAD_REQUEST' });
  assert.equal(gossipTopicOf(['orders', '*']), 'mm/orders');
  assert.equal(gossipTopicOf(['*', 'x']), 'mm/*');
  assert.equal(gossipTopicOf(['>']), 'mm/*');
});
