// The key/value store's pure parts: HLC order, last-writer-wins merge in any order, tombstones and reaping,
// indexes, limits, and anti-entropy's bucket reconciliation (fast-check: any two replicas end equal).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VirtualClock } from '../../../src/clock/virtual.ts';
import { KvCore } from '../../../src/kv/core.ts';
import { HybridClock, compareHlc } from '../../../src/kv/hlc.ts';
import { KV_DEFAULTS } from '../../../src/kv/config.ts';
import { KvState, versionOf, type KvVersion } from '../../../src/kv/store.ts';
import { bucketHashes, bucketOf as bucketOfKey, differing, reconcile, stampsIn } from '../../../src/kv/sync.ts';
import { fromWireStamp, fromWireVersion, toWireVersion } from '../../../src/kv/wire.ts';
import { MeshError } from '../../../src/index.ts';

const limits = { valueMaxBytes: 1000, totalMaxBytes: 5000, keyMaxBytes: 64 };
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

test('HLC: never backwards, after everything observed, ties broken by node', () => {
  let wall = 1000;
  const a = new HybridClock('a', () => wall);
  const t1 = a.now();
  const t2 = a.now();
  assert.ok(compareHlc(t2, t1) > 0, 'same ms: the logical part moves');
  wall = 900;
  assert.ok(compareHlc(a.now(), t2) > 0, 'the wall clock going back does not');
  a.observe({ wallMs: 5000, logical: 7, node: 'b' });
  const t3 = a.now();
  assert.ok(t3.wallMs === 5000 && t3.logical === 8, 'a peer ahead: ordered after its stamp');
  assert.ok(compareHlc({ wallMs: 1, logical: 0, node: 'b' }, { wallMs: 1, logical: 0, node: 'a' }) > 0);
});

test('apply: newer wins, older and equal change nothing; indexes; deletes are tombstones until reaped', () => {
  const s = new KvState(limits);
  const v = (key: string, value: string | null, wallMs: number, node = 'a'): KvVersion => ({ key, value: value === null ? null : bytes(value), flags: 0, hlc: { wallMs, logical: 0, node } });
  assert.equal(s.apply(v('k', 'one', 10), 0)?.type, 'put');
  assert.equal(s.apply(v('k', 'old', 5), 0), undefined);
  assert.equal(s.apply(v('k', 'one', 10), 0), undefined);
  const two = s.apply(v('k', 'two', 20), 0);
  assert.ok(two?.type === 'put' && two.entry.createIndex === 2 && two.entry.modifyIndex === 3, 'indexes start above 1, what an empty prefix reports');
  assert.equal(s.apply(v('k', null, 30), 100)?.type, 'delete');
  assert.equal(s.get('k'), undefined);
  assert.equal(s.apply(v('k', 'resurrected', 25), 0), undefined, 'an older put after the delete stays dead');
  assert.equal(s.prefixIndex('k'), 4);
  assert.equal(s.reap(150, 100), 0, 'too young');
  assert.equal(s.reap(200, 100), 1);
  assert.equal(s.prefixIndex('k'), 4, 'a reaped tombstone keeps the prefix index');
  const back = s.apply(v('k', 'new', 40), 0);
  assert.ok(back?.type === 'put' && back.entry.createIndex === 5, 'created again, with a new CreateIndex');
});

test('limits: value size, total size and key checks are errors naming the limit; a delete always fits', () => {
  const core = new KvCore({ node: 'a', clock: new VirtualClock(), limits });
  assert.throws(() => core.write('k', new Uint8Array(1001), 0), (e: unknown) => e instanceof MeshError && e.code === 'PAYLOAD_TOO_LARGE' && /kv.valueMaxBytes/.test(e.detail));
  for (let i = 0; i < 4; i++) core.write(`k${i}`, new Uint8Array(1000), 0);
  assert.throws(() => core.write('k9', new Uint8Array(1000), 0), (e: unknown) => e instanceof MeshError && e.code === 'STORAGE_FULL' && /kv.totalMaxBytes/.test(e.detail));
  core.write('k0', null, 0);
  core.write('k9', new Uint8Array(900), 0);
  assert.throws(() => core.write('/abs', bytes('x'), 0), (e: unknown) => e instanceof MeshError && e.code === 'INVALID_ARGUMENT');
  assert.throws(() => core.write('x'.repeat(65), bytes('x'), 0), (e: unknown) => e instanceof MeshError && e.code === 'PAYLOAD_TOO_LARGE' && /keyMaxBytes/.test(e.detail));
  assert.throws(() => core.write('k', bytes('x'), 2 ** 60), (e: unknown) => e instanceof MeshError && e.code === 'INVALID_ARGUMENT');
});

const arbVersion = fc.record({
  key: fc.constantFrom('a', 'b', 'c', 'dir/x', 'dir/y'),
  value: fc.option(fc.string({ maxLength: 8 }).map(bytes), { nil: null }),
  flags: fc.nat(5),
  hlc: fc.record({ wallMs: fc.nat(50), logical: fc.nat(3), node: fc.constantFrom('n1', 'n2', 'n3') }),
});
const stateOf = (s: KvState) => [...s.all()].map((r) => [r.key, r.value === null ? null : [...r.value], r.flags, { ...r.hlc }]).sort((x, y) => String(x[0]).localeCompare(String(y[0])));

test('any versions, merged in any order and with repeats, leave replicas equal (last writer wins converges)', () => {
  fc.assert(fc.property(fc.array(arbVersion, { maxLength: 40 }), fc.integer(), (versions, seed) => {
    // Distinct stamps: one node never issues the same stamp twice.
    const seen = new Set<string>();
    const vs = versions.filter((v) => !seen.has(JSON.stringify(v.hlc)) && seen.add(JSON.stringify(v.hlc)));
    const a = new KvState(KV_DEFAULTS);
    const b = new KvState(KV_DEFAULTS);
    for (const v of vs) a.apply(v, 0);
    const shuffled = fc.sample(fc.shuffledSubarray(vs, { minLength: vs.length, maxLength: vs.length }), { seed, numRuns: 1 })[0]!;
    for (const v of [...shuffled, ...shuffled.slice(0, 5)]) b.apply(v, 0);
    assert.deepEqual(stateOf(a), stateOf(b));
  }));
});

test('anti-entropy: one digest exchange, fetch and push leave two different replicas equal', () => {
  fc.assert(fc.property(fc.array(arbVersion, { maxLength: 30 }), fc.array(arbVersion, { maxLength: 30 }), (ra, rb) => {
    // One stamp, one version: a node never stamps two writes alike.
    const byStamp = new Map<string, KvVersion>();
    const unique = (vs: KvVersion[]) => vs.map((v) => byStamp.get(JSON.stringify(v.hlc)) ?? (byStamp.set(JSON.stringify(v.hlc), v), v));
    const va = unique(ra);
    const vb = unique(rb);
    const a = new KvState(KV_DEFAULTS);
    const b = new KvState(KV_DEFAULTS);
    for (const v of va) a.apply(v, 0);
    for (const v of vb) b.apply(v, 0);
    // a asks b: b answers the differing buckets and its stamps there.
    const diff = differing(bucketHashes(b.all()), bucketHashes(a.all()));
    const stamps = stampsIn(b.all(), diff);
    const plan = reconcile((k) => a.record(k), [...a.all()].filter((r) => diff.has(bucketOfKey(r.key))), stamps);
    for (const k of plan.fetch) a.apply(versionOf(b.record(k)!), 0);
    for (const r of plan.push) b.apply(versionOf(r), 0);
    assert.deepEqual(stateOf(a), stateOf(b));
    assert.deepEqual(bucketHashes(a.all()), bucketHashes(b.all()));
  }));
});

test('wire: versions round-trip; anything malformed is undefined, never thrown', () => {
  const v: KvVersion = { key: 'k', value: bytes('v'), flags: 3, hlc: { wallMs: 1, logical: 2, node: 'n' } };
  assert.deepEqual(fromWireVersion(toWireVersion(v)), v);
  for (const bad of [null, 1, 'x', [], ['k'], ['', null, 0, 1, 1, 'n'], ['k', 'str', 0, 1, 1, 'n'], ['k', null, -1, 1, 1, 'n'], ['k', null, 0, 1.5, 1, 'n'], ['k', null, 0, 1, 1, '']]) {
    assert.equal(fromWireVersion(bad), undefined, JSON.stringify(bad));
  }
  assert.equal(fromWireStamp(['k', 1, 2]), undefined);
});

