import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../../src/clock/index.ts';
import { MessageType, SwimWire, type SwimMessage } from '../../../src/swim/wire.ts';

const wire = new SwimWire();

function decodeAll(body: Uint8Array): { msgs: SwimMessage[]; malformed: number; unknown: number } {
  const msgs: SwimMessage[] = [];
  const { malformed, unknown } = wire.decodeSequence(body, msgs);
  return { msgs, malformed, unknown };
}

const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);

test('every message type round-trips, several per packet (a CBOR sequence)', () => {
  const meta = new Uint8Array([1, 2, 3]);
  const body = concat(
    wire.ping(7, 'b', 'a'),
    wire.indirectPing(8, 'c', '10.0.0.3:7946', true),
    wire.ack(7),
    wire.nack(8),
    wire.alive('a', 1_700_000_000_123, '10.0.0.1:7946', meta, 2),
    wire.suspect('c', 5, 'a'),
    wire.dead('c', 6, 'c'),
  );
  const { msgs, malformed, unknown } = decodeAll(body);
  assert.equal(malformed, 0);
  assert.equal(unknown, 0);
  assert.deepEqual(msgs.map((m) => ({ ...m, ...('meta' in m ? { meta: [...m.meta] } : {}) })), [
    { type: 0, seq: 7, target: 'b', from: 'a' },
    { type: 1, seq: 8, target: 'c', targetAddress: '10.0.0.3:7946', nack: true },
    { type: 2, seq: 7 },
    { type: 3, seq: 8 },
    { type: 4, id: 'a', incarnation: 1_700_000_000_123, address: '10.0.0.1:7946', meta: [1, 2, 3], metaVersion: 2 },
    { type: 5, id: 'c', incarnation: 5, from: 'a' },
    { type: 6, id: 'c', incarnation: 6, from: 'c' },
  ]);
});

test('push-pull round-trips member rows', () => {
  const rows = [
    { id: 'a', incarnation: 3, address: 'h:1', state: 0 as const, meta: new Uint8Array([9]), metaVersion: 1 },
    { id: 'b', incarnation: 4, address: 'h:2', state: 3 as const, meta: new Uint8Array(0), metaVersion: 0 },
  ];
  const m = wire.decodeOne(wire.pushPull(true, rows));
  assert.ok(typeof m === 'object' && m.type === MessageType.PushPull);
  assert.equal(m.join, true);
  assert.deepEqual(m.members.map((r) => ({ ...r, meta: [...r.meta] })), rows.map((r) => ({ ...r, meta: [...r.meta] })));
});

test('unknown message types are skipped and counted; the rest of the packet is used', () => {
  const future = new SwimWire()['cbor'].encode([99, 'a new message type']);
  const { msgs, unknown, malformed } = decodeAll(concat(future, wire.ack(1)));
  assert.equal(unknown, 1);
  assert.equal(malformed, 0);
  assert.deepEqual(msgs, [{ type: 2, seq: 1 }]);
});

test('extra trailing fields are tolerated (fields are append-only too)', () => {
  const cbor = new SwimWire()['cbor'];
  const { msgs } = decodeAll(cbor.encode([MessageType.Ack, 5, 'future field']));
  assert.deepEqual(msgs, [{ type: 2, seq: 5 }]);
});

test('wrong shapes are malformed: bad types, negative or fractional numbers, oversized ids, non-arrays', () => {
  const cbor = new SwimWire()['cbor'];
  const bad = [
    [MessageType.Ping, -1, 'b', 'a'],
    [MessageType.Ping, 1.5, 'b', 'a'],
    [MessageType.Ping, 2 ** 32, 'b', 'a'],
    [MessageType.Ping, 1, '', 'a'],
    [MessageType.Ping, 1, 'x'.repeat(129), 'a'],
    [MessageType.Alive, 'a', 1, 'h:1', 'not bytes', 0],
    [MessageType.Suspect, 'a', Number.MAX_SAFE_INTEGER + 2, 'b'],
    [MessageType.IndirectPing, 1, 'b', 'h:1', 'yes'],
    [MessageType.PushPull, true, [['a', 1, 'h:1', 7, new Uint8Array(0), 0]]],
    [],
    ['ping'],
    { type: 0 },
    'hello',
    null,
  ];
  for (const item of bad) {
    const { msgs, malformed } = decodeAll(cbor.encode(item));
    assert.equal(msgs.length, 0, JSON.stringify(item));
    assert.equal(malformed, 1, JSON.stringify(item));
  }
});

test('random bytes, truncations and bit flips never throw', () => {
  const random = new SeededRandom(42);
  const good = concat(wire.alive('a', 1, 'h:1', new Uint8Array(20), 0), wire.suspect('b', 2, 'a'), wire.ping(1, 'x', 'y'));
  for (let i = 0; i < 5000; i++) {
    let input: Uint8Array;
    if (i % 3 === 0) input = random.bytes(random.int(200));
    else if (i % 3 === 1) input = good.subarray(0, random.int(good.length));
    else {
      input = good.slice();
      input[random.int(input.length)] ^= 1 << random.int(8);
    }
    assert.doesNotThrow(() => decodeAll(input));
    assert.doesNotThrow(() => wire.decodeOne(input));
  }
});

test('CBOR tags (objects, regexps, sets) are rejected as malformed, never instantiated into messages', () => {
  const tagged = Buffer.from([0xd8, 0x1b, 0x82, 0x66, 0x52, 0x65, 0x67, 0x45, 0x78, 0x70, 0x61, 0x61]); // tag 27 ['RegExp', 'a']
  assert.equal(decodeAll(tagged).msgs.length, 0);
  assert.equal(wire.decodeOne(tagged), 'malformed');
});
