/**
 * Round trips: whatever an encoder writes, its decoder reads back the same,
 * for values fast-check draws (the fuzz targets start from a few fixed
 * encodings; these cover the encoders' whole input space).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Encoder } from 'cbor-x';
import fc from 'fast-check';
import { decodeMetadata } from '../../src/rpc/context.ts';
import { FrameParser, encodeFrame } from '../../src/rpc/frame.ts';
import { formatTraceParent, parseTraceParent } from '../../src/rpc/trace-context.ts';
import { Envelope, Keyring } from '../../src/swim/security.ts';
import { SwimWire, type MemberEntry } from '../../src/swim/wire.ts';
import { cborArrayOf, decodeDeliver, encodeBroadcastMessage } from '../../src/pubsub/delivery-wire.ts';
import { decodeEnvelope, encodeEnvelope, prefixBytes } from '../../src/pubsub/gossip/envelope.ts';
import { decodeSubs, encodeSubs } from '../../src/pubsub/subs-record.ts';
import { announcementRecords, decodeResponse } from '../../src/mdns/records.ts';

const RUNS = { numRuns: 500, seed: 20 };
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });
const bytes = (max = 64) => fc.uint8Array({ maxLength: max });
const id = fc.string({ minLength: 1, maxLength: 128 });
const address = fc.tuple(fc.ipV4(), fc.nat(65535)).map(([h, p]) => `${h}:${p}`);
const token = fc.stringMatching(/^[a-z0-9_-]{1,12}$/);
const topic = fc.array(token, { minLength: 1, maxLength: 4 }).map((t) => t.join('.'));
const headers = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).filter((k) => k !== '__proto__'), fc.string({ maxLength: 20 }), { maxKeys: 4, noNullPrototype: true });

/** Bytes as plain arrays, objects as plain objects: decoders return Buffers where encoders took Uint8Arrays. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

test('rpc frames: any frame, split anywhere, parses back to itself', () => {
  fc.assert(fc.property(fc.nat(9), fc.nat(255), fc.nat(0xffffffff), bytes(2048), fc.nat(64), (type, flags, stream, payload, cut) => {
    const got: unknown[] = [];
    const p = new FrameParser(4096, { frame: (...f) => got.push([f[0], f[1], f[2], Uint8Array.from(f[3])]), oversized() {}, malformed: (r) => assert.fail(r) });
    const b = encodeFrame(type, flags, stream, payload);
    p.push(b.subarray(0, cut));
    p.push(b.subarray(cut));
    assert.deepEqual(got, [[type, flags, stream, payload]]);
  }), RUNS);
});

test('rpc metadata and traceparent: what is written is read back', () => {
  fc.assert(fc.property(fc.dictionary(fc.string().filter((k) => k !== '__proto__'), fc.string(), { maxKeys: 8, noNullPrototype: true }), (md) => {
    assert.deepEqual(decodeMetadata(cbor.encode(md), cbor), md);
  }), RUNS);
  const nonZeroHex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`)).filter((s) => /[1-9a-f]/.test(s));
  fc.assert(fc.property(nonZeroHex(32), nonZeroHex(16), fc.nat(255), (traceId, spanId, flags) => {
    assert.deepEqual(parseTraceParent(formatTraceParent(traceId, spanId, flags)), { traceId, spanId, flags: flags & 1 });
  }), RUNS);
});

test('swim: every message kind, sealed with or without a key, opens and decodes to itself', () => {
  const wire = new SwimWire();
  const member: fc.Arbitrary<MemberEntry> = fc.record({
    id, incarnation: fc.nat(), address, state: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<0 | 1 | 2 | 3>, meta: bytes(), metaVersion: fc.nat(),
  });
  const msg = fc.oneof(
    fc.record({ type: fc.constant(0 as const), seq: fc.nat(), target: id, from: id }).map((m) => [m, wire.ping(m.seq, m.target, m.from)] as const),
    fc.record({ type: fc.constant(4 as const), id, incarnation: fc.nat(), address, meta: bytes(), metaVersion: fc.nat() })
      .map((m) => [m, wire.alive(m.id, m.incarnation, m.address, m.meta, m.metaVersion)] as const),
    fc.record({ type: fc.constant(6 as const), id, incarnation: fc.nat(), from: id }).map((m) => [m, wire.dead(m.id, m.incarnation, m.from)] as const),
    fc.record({ type: fc.constant(7 as const), join: fc.boolean(), members: fc.array(member, { maxLength: 4 }) })
      .map((m) => [m, wire.pushPull(m.join, m.members)] as const),
  );
  const envelopes = [new Envelope('mesh', undefined), new Envelope('mesh', new Keyring([new Uint8Array(32).fill(1)]))];
  fc.assert(fc.property(fc.array(msg, { minLength: 1, maxLength: 4 }), fc.nat(1), (ms, e) => {
    const parts = ms.map(([, b]) => b);
    const body = envelopes[e]!.open(envelopes[e]!.seal(parts, parts.reduce((n, p) => n + p.length, 0)));
    assert.ok(body instanceof Uint8Array);
    const out: unknown[] = [];
    assert.deepEqual(wire.decodeSequence(body, out as never), { malformed: 0, unknown: 0 });
    assert.deepEqual(plain(out), plain(ms.map(([m]) => m)));
  }), RUNS);
});

test('pubsub: delivery batches and gossip envelopes decode to the messages encoded', () => {
  const message = fc.record({ seq: fc.maxSafeNat(), topic, headers, body: bytes() });
  fc.assert(fc.property(fc.array(message, { minLength: 1, maxLength: 6 }), fc.string({ minLength: 1, maxLength: 40 }), (ms, sender) => {
    const batch = cborArrayOf(ms.map((m) => encodeBroadcastMessage(m.seq, m.topic, m.headers, m.body)));
    const d = decodeDeliver({ n: sender, p: 'p', m: batch }, cbor);
    assert.deepEqual(d.messages.map((m) => [m.id, m.topic, { ...m.headers }, Uint8Array.from(m.body)]), ms.map((m) => [`p-${m.seq.toString(36)}`, m.topic, m.headers, m.body]));
    const env = decodeEnvelope(cbor, encodeEnvelope(prefixBytes('00112233445566ff'), 1, sender, ms as never));
    assert.equal(env.sender, sender);
    assert.deepEqual(env.messages.map((m) => [m.id, m.topic, { ...m.headers }, Uint8Array.from(m.body)]), ms.map((m) => [`00112233445566ff-${m.seq.toString(36)}`, m.topic, m.headers, m.body]));
  }), RUNS);
});

test('pubsub: a subs record decodes to what was subscribed', () => {
  const key = fc.record({ pattern: topic, queue: fc.option(token, { nil: undefined }) });
  fc.assert(fc.property(fc.array(key, { maxLength: 8 }), (keys) => {
    const rec = encodeSubs(keys, 1 << 20, (v) => cbor.encode(v).length);
    const subs = decodeSubs(cbor.decode(cbor.encode(rec ?? null)));
    assert.deepEqual(new Set(subs.broadcast.map((t) => t.join('.'))), new Set(keys.filter((k) => k.queue === undefined).map((k) => k.pattern)));
    assert.deepEqual(new Set(subs.queues.keys()), new Set(keys.flatMap((k) => (k.queue === undefined ? [] : [k.queue]))));
  }), RUNS);
});

test('mdns: an announcement decodes back from its records', () => {
  const serviceType = '_micromesh._udp.local';
  // Specified hosts only: an unspecified one (0.0.0.0) is filled in with the packet's source on purpose.
  const lanAddress = fc.tuple(fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 65535 })).map(([a, b, p]) => `10.${a}.${b}.1:${p}`);
  const a = fc.record({
    cluster: fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,20}$/), nodeId: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,30}$/),
    gossipAddress: lanAddress, rpcAddress: lanAddress, protocolVersion: fc.nat(0xffff), meta: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/).filter((k) => !['txtvers', 'cluster', 'id', 'proto', 'gossip', 'rpc'].includes(k)), fc.stringMatching(/^[a-z0-9]{0,10}$/), { maxKeys: 4, noNullPrototype: true }),
  });
  fc.assert(fc.property(a, (ann) => {
    const packet = cbor.decode(cbor.encode({ answers: announcementRecords(ann, { serviceType, ttlS: 120 }) }));
    const r = decodeResponse(packet, { serviceType, cluster: ann.cluster, selfId: undefined, source: '10.0.0.9' }, {});
    assert.equal(r.peers.length, 1);
    const { cluster, nodeId, gossipAddress, rpcAddress, protocolVersion, meta } = r.peers[0]!;
    assert.deepEqual({ cluster, nodeId, gossipAddress, rpcAddress, protocolVersion, meta: { ...meta } }, { ...ann, meta: { ...ann.meta } });
  }), RUNS);
});
