import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Encoder } from 'cbor-x';
import { readBroadcastBatch, readSenderBatch } from '../../../src/pubsub/batch-reader.ts';
import { cborArrayOf, encodeBroadcastMessage, encodeSenderBatch } from '../../../src/pubsub/delivery-wire.ts';

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

/** Bodies as plain byte arrays, so a Buffer view and a decoder's Uint8Array compare equal. */
const norm = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (x instanceof Uint8Array ? [...x] : x)));

function batch(items: [number, string, Record<string, string>, Uint8Array][]): Uint8Array {
  return cborArrayOf(items.map(([s, t, h, b]) => encodeBroadcastMessage(s, t, h, b)));
}

test('batch reader: reads what the generic decoder reads, reusing repeated topics and headers', () => {
  const h = { 'content-type': 'application/octet-stream' };
  const items: [number, string, Record<string, string>, Uint8Array][] = [
    [1, 'orders.created', h, new Uint8Array([1, 2])],
    [2, 'orders.created', h, new Uint8Array(300).fill(3)],
    [3, 'orders.créé', { k: 'é'.repeat(40), x: '' }, new Uint8Array(0)],
    [2 ** 32 + 7, 'orders.created', h, new Uint8Array(70_000).fill(9)],
    [4, 'orders.created', h, new Uint8Array([5])],
  ];
  const bytes = batch(items);
  const got = readBroadcastBatch(bytes)!;
  assert.ok(got !== undefined);
  assert.deepEqual(norm(got), norm(cbor.decode(bytes)));
  assert.equal(got[0]![2], got[1]![2], 'identical headers bytes share one object');
  assert.notEqual(got[2]![2], got[3]![2]);
  assert.deepEqual(norm(readBroadcastBatch(batch([]))), []);
  // cbor-x's own encoding of the same values (16-bit map heads) reads too.
  const generic = cbor.encode(items);
  assert.deepEqual(norm(readBroadcastBatch(generic)), norm(cbor.decode(generic)));
});

test('batch reader: anything outside the shape is left to the generic decoder', () => {
  const good = batch([[1, 't', {}, new Uint8Array([1])]]);
  const cases: Uint8Array[] = [
    good.subarray(0, good.length - 1), // truncated
    Buffer.concat([good, Buffer.from([0])]), // trailing byte
    Buffer.from([0x9f, 0xff]), // indefinite-length array
    cbor.encode([[-1, 't', {}, new Uint8Array(0)]]), // negative seq
    Buffer.from([0x81, 0x84, 0x1b, 0, 0, 0, 1, 0, 0, 0, 0, 0x61, 0x74, 0xa0, 0x40]), // 64-bit integer seq
    cbor.encode([[1, 't', { ['__proto__']: 'x' }, new Uint8Array(0)]]),
    cbor.encode([[1, 't', {}]]), // three items
    cbor.encode([[1, 't', {}, 'text body']]),
    cbor.encode([[1, 't', { k: 1 }, new Uint8Array(0)]]), // non-string header value
    cbor.encode({ m: [] }),
    new Uint8Array(0),
  ];
  for (const c of cases) assert.equal(readBroadcastBatch(c), undefined, Buffer.from(c).toString('hex'));
});

test('batch reader: corrupted batches never throw, and whatever it reads the generic decoder reads the same', () => {
  const base = batch([
    [1, 'a.b', { h: 'v' }, new Uint8Array([1, 2, 3])],
    [2, 'a.b', { h: 'v' }, new Uint8Array([4])],
    [3, 'c', {}, new Uint8Array(30).fill(7)],
  ]);
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  let read = 0;
  for (let i = 0; i < 5000; i++) {
    const b = Buffer.from(base);
    for (let k = 0; k <= rand(3); k++) b[rand(b.length)] = rand(256);
    const mine = readBroadcastBatch(b);
    if (mine === undefined) continue;
    read++;
    assert.deepEqual(norm(mine), norm(cbor.decode(b)), b.toString('hex'));
  }
  assert.ok(read > 0, 'some corruptions still form a valid batch');
});

test('sender batch: what the generic encoder means, read back the same; other layouts are left to it', () => {
  const items: [number, string, Record<string, string>, Uint8Array][] = [
    [1, 'a.b', { h: 'v' }, new Uint8Array([1, 2])],
    [2, 'a.b', { h: 'v' }, new Uint8Array(40).fill(5)],
  ];
  const sender = 'node-é'.repeat(10); // a 2-byte text head
  const mine = encodeSenderBatch(3, sender, items.map(([s, t, h, b]) => encodeBroadcastMessage(s, t, h, b)));
  const generic = cbor.encode({ n: sender, m: items });
  assert.deepEqual(norm(cbor.decode(mine.subarray(3))), norm(cbor.decode(generic)), 'a generic decoder reads the hand-written bytes');
  assert.deepEqual(norm(readSenderBatch(mine.subarray(3))), norm(cbor.decode(generic)));
  assert.deepEqual(norm(readSenderBatch(generic)), norm(cbor.decode(generic)), "and cbor-x's own encoding (16-bit heads) reads too");
  assert.deepEqual(norm(readSenderBatch(encodeSenderBatch(0, '', []))), { n: '', m: [] });
  const others = [
    cbor.encode({ m: items, n: sender }), // m first
    cbor.encode({ n: sender, m: items, x: 1 }),
    cbor.encode({ n: 7, m: items }),
    cbor.encode({ n: sender, m: [[1, 't', {}]] }),
    generic.subarray(0, generic.length - 1),
  ];
  for (const c of others) assert.equal(readSenderBatch(c), undefined, Buffer.from(c).toString('hex'));
});
