/**
 * The fuzz targets: every decoder that reads bytes (or values) a peer, a
 * LAN neighbour or an HTTP client controls. One list, shared by the
 * property tests (test/fuzz/*.test.ts, bounded runs) and `npm run fuzz`
 * (scripts/fuzz.ts, a million inputs per target).
 *
 * Each target takes bytes: valid encodings built with the project's own
 * encoders are the seeds, and inputs are seeds mutated (bit flips, byte
 * sets, inserts, deletes, truncation, splices) or wholly random bytes. A
 * target whose decoder reads values rather than bytes (mDNS packets after
 * dns-packet, member records after the membership's CBOR) decodes the bytes
 * with CBOR first, so mutations reach every shape.
 *
 * `run` returns whether the input was accepted or rejected; it throws only
 * what the decoder threw, or a plain Error when a rejection went uncounted.
 * `accepts(err)` says which throws are part of the contract (MeshError).
 */
import { Encoder } from 'cbor-x';
import { VirtualClock } from '../../src/clock/virtual.ts';
import { MeshError } from '../../src/errors/index.ts';
import { silentLogger } from '../../src/log/silent.ts';
import { REQUEST_SCHEMA_METADATA } from '../../src/rpc/endpoint-meta.ts';
import { resolveRpcConfig } from '../../src/rpc/config.ts';
import { decodeMetadata } from '../../src/rpc/context.ts';
import { Flag, FrameParser, FrameType, INLINE_ROUTE, encodeFrame } from '../../src/rpc/frame.ts';
import { RouteTable } from '../../src/rpc/routes.ts';
import { Session } from '../../src/rpc/session.ts';
import { createRpcStats } from '../../src/rpc/stats.ts';
import { acceptTraceState, formatTraceParent, parseTraceParent } from '../../src/rpc/trace-context.ts';
import type { Socket, SocketHandlers } from '../../src/transport/types.ts';
import { Envelope, Keyring } from '../../src/swim/security.ts';
import { SwimWire, type SwimMessage } from '../../src/swim/wire.ts';
import { announcementRecords, classifyQuery, decodeResponse } from '../../src/mdns/records.ts';
import type { Tally } from '../../src/mdns/stats.ts';
import { cborArrayOf, decodeDeliver, encodeBroadcastMessage } from '../../src/pubsub/delivery-wire.ts';
import { decodeEnvelope, encodeEnvelope, prefixBytes } from '../../src/pubsub/gossip/envelope.ts';
import { decodeSubs, encodeSubs } from '../../src/pubsub/subs-record.ts';
import { servicesOf } from '../../src/registry/mesh.ts';
import { decodeDigest } from '../../src/membership/swim.ts';
import { CoercionCache, coerce } from '../../src/http/coerce.ts';
import { headerRules, headersToMetadata, metadataToHeaders, requestTimeoutMs } from '../../src/http/metadata.ts';
import { concat } from './mutate.ts';

export type Verdict = 'accepted' | 'rejected';

export interface FuzzTarget {
  readonly name: string;
  /** Valid encodings, built with the project's encoders. */
  readonly seeds: readonly Uint8Array[];
  /** Feeds one input to the decoder. Throws only what the decoder threw, or when a rejection went uncounted. */
  run(input: Uint8Array): Verdict;
  /** Whether a throw is part of the decoder's contract. */
  accepts(err: unknown): boolean;
}

const isMeshError = (err: unknown): boolean => err instanceof MeshError;
const never = (): boolean => false;

/** The CBOR settings of RPC, the membership and the brokers. */
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });

/** Decodes `input` as CBOR and hands the value on; bytes that are not CBOR are the caller's codec error: rejected. */
function fromCbor(input: Uint8Array, then: (value: unknown) => Verdict): Verdict {
  let value: unknown;
  try {
    value = cbor.decode(input);
  } catch {
    return 'rejected';
  }
  return then(value);
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Thrown by a target when the decoder rejected an input without counting it. */
class Uncounted extends Error {}

// ---------------------------------------------------------------- RPC

const route = (id: number, s: string, e: string, ct: string): Uint8Array => {
  const triple = cbor.encode([s, e, ct]);
  return concat(Uint8Array.of(id >> 8, id & 0xff), triple);
};
/** A Request payload: route id, timeout, metadata, (inline route), body. */
function request(routeId: number, timeoutMs: number, md: Record<string, string>, body: Uint8Array, inline?: Uint8Array): Uint8Array {
  const meta = Object.keys(md).length > 0 ? cbor.encode(md) : new Uint8Array(0);
  const head = Uint8Array.of(routeId >> 8, routeId & 0xff, timeoutMs >>> 24, (timeoutMs >>> 16) & 0xff, (timeoutMs >>> 8) & 0xff, timeoutMs & 0xff, meta.length >> 8, meta.length & 0xff);
  const inl = inline === undefined ? new Uint8Array(0) : concat(Uint8Array.of(inline.length >> 8, inline.length & 0xff), inline);
  return concat(head, meta, inl, body);
}
const hello = (o: Record<string, unknown>): Uint8Array => encodeFrame(FrameType.Hello, 0, 0, cbor.encode(o));
const rpcSeeds: Uint8Array[] = [
  concat(hello({ v: 1, maxFrameBytes: 4 << 20, windowBytes: 1 << 20, address: '10.0.0.1:5050' }),
    encodeFrame(FrameType.Route, 0, 0, route(0, 'greeter', 'Greeter.Hello', 'application/cbor')),
    encodeFrame(FrameType.Request, Flag.EndStream, 1, request(0, 2000, { traceparent: formatTraceParent('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', 1) }, cbor.encode({ name: 'x' })))),
  concat(hello({ v: 1 }), encodeFrame(FrameType.Request, Flag.Streaming | Flag.InputStream, 3,
    request(INLINE_ROUTE, 0, {}, new Uint8Array(0), cbor.encode(['s', 'S.E', 'application/json']))),
  encodeFrame(FrameType.Data, 0, 3, utf8.encode('{"a":1}')), encodeFrame(FrameType.Credit, 0, 3, Uint8Array.of(0, 1, 0, 0)),
  encodeFrame(FrameType.End, 0, 3), encodeFrame(FrameType.Cancel, 0, 3)),
  concat(encodeFrame(FrameType.Ping, 0, 0, new Uint8Array(8)), encodeFrame(FrameType.Ping, Flag.Ack, 0, new Uint8Array(8)),
    encodeFrame(FrameType.Error, 0, 2, cbor.encode({ id: 'x', code: 'NOT_FOUND', detail: 'd', status: 404 })), encodeFrame(FrameType.GoAway, 0, 0)),
  encodeFrame(FrameType.Hello, 0, 0, Uint8Array.of(0xa0)),
];

class FakeSocket implements Socket {
  readonly localAddress = '127.0.0.1:5050';
  readonly remoteAddress = '127.0.0.1:40000';
  closed = false;
  handlers: SocketHandlers | undefined;
  attach(h: SocketHandlers): void { this.handlers = h; }
  write(): boolean { return true; }
  end(): void { this.closed = true; }
  destroy(): void { this.closed = true; }
}

const rpcConfig = resolveRpcConfig({ keepaliveIntervalMs: 0, maxFrameBytes: 64 * 1024, maxRoutes: 16 });

/** The whole inbound side of a connection: frames, Hello, Route, Request (with its metadata and inline route), stream frames. */
const rpcSession: FuzzTarget = {
  name: 'rpc.session',
  seeds: rpcSeeds,
  accepts: never,
  run(input) {
    const socket = new FakeSocket();
    const stats = createRpcStats();
    // A clock per input: virtual time never advances here, so a shared clock would hold every session's pending timers.
    const session = new Session(socket, {
      role: 'acceptor', config: rpcConfig, clock: new VirtualClock(), logger: silentLogger, stats,
      onRequest: (call) => {
        decodeMetadata(call.metadataBytes, cbor);
        call.reject(new MeshError('NOT_FOUND', 'fuzz'));
      },
    });
    // Two reads, split where the input says, so frames straddle chunks.
    const cut = input.length === 0 ? 0 : input[0]! % input.length;
    socket.handlers!.data(input.subarray(0, cut));
    socket.handlers!.data(input.subarray(cut));
    const broken = session.closedWith?.code === 'PROTOCOL_ERROR';
    if (broken && stats.get('protocolErrors') === 0) throw new Uncounted('session closed without counting a protocol error');
    session.close();
    return broken ? 'rejected' : 'accepted';
  },
};

const frameParser: FuzzTarget = {
  name: 'rpc.frames',
  seeds: rpcSeeds,
  accepts: never,
  run(input) {
    let bad = false;
    const p = new FrameParser(1024, { frame() {}, oversized() {}, malformed() { bad = true; } });
    for (let at = 0; at < input.length; at += 7) p.push(input.subarray(at, at + 7));
    return bad ? 'rejected' : 'accepted';
  },
};

const routeTable: FuzzTarget = {
  name: 'rpc.route',
  seeds: [route(0, 'greeter', 'Greeter.Hello', 'application/cbor'), route(15, '', '', ''), route(3, 'a'.repeat(300), 'b', 'c')],
  accepts: never,
  run(input) {
    return new RouteTable(cbor, 16, () => {}).define(input) === undefined ? 'accepted' : 'rejected';
  },
};

const metadata: FuzzTarget = {
  name: 'rpc.metadata',
  seeds: [cbor.encode({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'x-request-id': 'r1' }), cbor.encode({ a: 1, b: 'x', c: [1] })],
  accepts: never,
  run(input) {
    const md = decodeMetadata(input, cbor);
    for (const v of Object.values(md)) if (typeof v !== 'string') throw new Error('metadata value not a string');
    return Object.keys(md).length > 0 ? 'accepted' : 'rejected';
  },
};

const traceparent: FuzzTarget = {
  name: 'rpc.traceparent',
  seeds: [utf8.encode('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'), utf8.encode('cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what-the-future-holds'),
    utf8.encode('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7')],
  accepts: never,
  run(input) {
    const s = text.decode(input);
    const tp = parseTraceParent(s);
    acceptTraceState(s);
    if (tp !== undefined && parseTraceParent(formatTraceParent(tp.traceId, tp.spanId, tp.flags))?.traceId !== tp.traceId) throw new Error('traceparent does not round-trip');
    return tp === undefined ? 'rejected' : 'accepted';
  },
};

// ---------------------------------------------------------------- SWIM

const swimWire = new SwimWire();
const swimMessages = [
  swimWire.ping(7, 'node-b', 'node-a'), swimWire.indirectPing(8, 'node-c', '10.0.0.3:7946', true), swimWire.ack(7), swimWire.nack(8),
  swimWire.alive('node-a', 3, '10.0.0.1:7946', cbor.encode({ v: 2, r: '10.0.0.1:5050' }), 2), swimWire.suspect('node-c', 1, 'node-a'),
  swimWire.dead('node-c', 1, 'node-c'),
];
const pushPull = swimWire.pushPull(true, [
  { id: 'node-a', incarnation: 1, address: '10.0.0.1:7946', state: 0, meta: new Uint8Array(0), metaVersion: 0 },
  { id: 'node-b', incarnation: 9, address: '10.0.0.2:7946', state: 2, meta: Uint8Array.of(1, 2), metaVersion: 4 },
]);
const KEY = new Uint8Array(32).fill(7);

/** A packet's envelope opened, then its body decoded; every drop counted as PacketIO counts it. */
function swimPacket(name: string, keyring: Keyring | undefined): FuzzTarget {
  const env = new Envelope('mesh', keyring);
  const seal = (...parts: Uint8Array[]): Uint8Array => env.seal(parts, parts.reduce((n, p) => n + p.length, 0));
  return {
    name,
    seeds: [seal(...swimMessages), seal(swimMessages[0]!), seal(swimMessages[4]!, swimMessages[5]!)],
    accepts: never,
    run(input) {
      const body = env.open(input);
      if (typeof body === 'string') return 'rejected';
      const out: SwimMessage[] = [];
      const bad = swimWire.decodeSequence(body, out);
      if (body.length > 0 && out.length + bad.malformed + bad.unknown === 0) throw new Uncounted('bytes decoded to nothing, uncounted');
      return bad.malformed + bad.unknown > 0 ? 'rejected' : 'accepted';
    },
  };
}

/** The body after decryption, and stream frames (one message each). */
const swimBody: FuzzTarget = {
  name: 'swim.body',
  seeds: [concat(...swimMessages), pushPull, ...swimMessages],
  accepts: never,
  run(input) {
    const one = swimWire.decodeOne(input);
    const out: SwimMessage[] = [];
    const bad = swimWire.decodeSequence(input, out);
    if (input.length > 0 && out.length + bad.malformed + bad.unknown === 0) throw new Uncounted('bytes decoded to nothing, uncounted');
    return typeof one === 'string' && bad.malformed + bad.unknown > 0 ? 'rejected' : 'accepted';
  },
};

// ---------------------------------------------------------------- mDNS

const MDNS_TYPE = '_micromesh._udp.local';
const mdnsAnnouncement = {
  cluster: 'mesh', nodeId: 'node-a', gossipAddress: '0.0.0.0:7946', rpcAddress: '0.0.0.0:5050', protocolVersion: 1, meta: { zone: 'eu' },
};
const mdnsSeeds = [
  cbor.encode({ type: 'response', answers: announcementRecords(mdnsAnnouncement, { serviceType: MDNS_TYPE, ttlS: 120, interfaceAddress: '10.0.0.1' }) }),
  cbor.encode({ type: 'response', answers: announcementRecords({ ...mdnsAnnouncement, nodeId: 'node-b' }, { serviceType: MDNS_TYPE, ttlS: 0 }) }),
  cbor.encode({ type: 'query', questions: [{ name: MDNS_TYPE, type: 'PTR' }], answers: [{ name: MDNS_TYPE, type: 'PTR', ttl: 120, data: `node-z.${MDNS_TYPE}` }] }),
];

/** Records and questions without the fields every one needs: each must be counted malformedRecords. */
function malformedIn(packet: unknown): number {
  const list = (k: string): unknown[] => {
    const v = packet !== null && typeof packet === 'object' ? (packet as Record<string, unknown>)[k] : undefined;
    return Array.isArray(v) ? v : [];
  };
  const named = (r: unknown): r is { name: string; type: string; ttl?: unknown } =>
    r !== null && typeof r === 'object' && typeof (r as { name?: unknown }).name === 'string' && typeof (r as { type?: unknown }).type === 'string';
  const ttlOk = (t: unknown): boolean => typeof t === 'number' && Number.isInteger(t) && t >= 0 && t <= 0x7fffffff;
  return list('questions').filter((q) => !named(q)).length
    + [...list('answers'), ...list('additionals')].filter((r) => !named(r) || !ttlOk(r.ttl)).length;
}

/** A packet as dns-packet hands it over (here: any value CBOR can express), through both the query and the response paths. */
const mdnsPacket: FuzzTarget = {
  name: 'mdns.packet',
  seeds: mdnsSeeds,
  accepts: never,
  // Not CBOR stands for dns-packet's throw: multicast-dns reports it as a warning, counted malformedPackets.
  run: (input) => fromCbor(input, (packet) => {
    const tally: Tally = {};
    classifyQuery(packet, { serviceType: MDNS_TYPE, nodeId: 'node-q', ttlS: 120 }, tally);
    const r = decodeResponse(packet, { serviceType: MDNS_TYPE, cluster: 'mesh', selfId: 'node-q', source: '10.0.0.9' }, tally);
    for (const p of [...r.peers, ...r.goodbyes]) if (p.cluster !== 'mesh' || p.nodeId === 'node-q') throw new Error('a foreign or own announcement was accepted');
    if ((tally.malformedRecords ?? 0) < malformedIn(packet)) throw new Uncounted('a malformed record went uncounted');
    return r.peers.length + r.goodbyes.length > 0 ? 'accepted' : 'rejected';
  }),
};

// ---------------------------------------------------------------- pubsub

const msgs = [
  encodeBroadcastMessage(0, 'orders.created', { 'content-type': 'application/json' }, utf8.encode('{"id":1}')),
  encodeBroadcastMessage(1, 'orders.created', { 'content-type': 'application/json' }, utf8.encode('{"id":2}')),
  encodeBroadcastMessage(2 ** 40, 'a.b.c', {}, new Uint8Array(300)),
];
const batch = cborArrayOf(msgs);

const deliverBatch: FuzzTarget = {
  name: 'pubsub.deliver-batch',
  seeds: [batch, cborArrayOf([msgs[0]!]), cbor.encode([[5, 'q.t', {}, new Uint8Array(1), 'workers', 2, ['node-a']]])],
  accepts: isMeshError,
  run(input) {
    decodeDeliver({ n: 'node-a', p: 'abcd', m: input }, cbor);
    return 'accepted';
  },
};

const deliverRequest: FuzzTarget = {
  name: 'pubsub.deliver-request',
  seeds: [cbor.encode({ n: 'node-a', p: 'abcd', m: batch }), cbor.encode({ n: 'node-a', p: 'abcd', m: [[1, 'q.t', { h: 'v' }, new Uint8Array(2), 'workers', 1]] })],
  accepts: isMeshError,
  // Not CBOR stands for the RPC server's codec error, counted decodeErrors.
  run: (input) => fromCbor(input, (req) => {
    decodeDeliver(req, cbor);
    return 'accepted';
  }),
};

const held = (seq: number, topic: string, body: Uint8Array) => ({ seq, topic, headers: { k: 'v' }, body }) as unknown as Parameters<typeof encodeEnvelope>[3][number];
const gossipEnvelope: FuzzTarget = {
  name: 'pubsub.gossip-envelope',
  seeds: [encodeEnvelope(prefixBytes('0123456789abcdef'), 7, 'node-a', [held(1, 'orders.created', utf8.encode('x')), held(2, 'orders.created', new Uint8Array(40))]),
    encodeEnvelope(prefixBytes('fedcba9876543210'), 0xffffffff, 'n', [held(0, 'a', new Uint8Array(0))])],
  accepts: isMeshError,
  run(input) {
    decodeEnvelope(cbor, input);
    return 'accepted';
  },
};

// ---------------------------------------------------------------- member records

const subsRecord: FuzzTarget = {
  name: 'pubsub.subs-record',
  seeds: [
    cbor.encode(encodeSubs([{ pattern: 'orders.*', queue: undefined }, { pattern: 'a.>', queue: 'workers' }, { pattern: 'b', queue: 'workers' }], 4096, (v) => cbor.encode(v).length)),
    cbor.encode(encodeSubs([{ pattern: 'x', queue: undefined }, { pattern: 'y', queue: 'q' }], 10, () => 10)),
  ],
  accepts: isMeshError,
  run: (input) => fromCbor(input, (v) => {
    decodeSubs(v);
    return 'accepted';
  }),
};

const servicesRecord: FuzzTarget = {
  name: 'registry.services',
  seeds: [cbor.encode([{ n: 'greeter', v: '1.0.0', i: 'node-a', a: '10.0.0.1:5050', m: { zone: 'eu' }, e: ['Greeter.Hello', ['Greeter.Stream', { stream: 'server' }]], nm: { w: '1' } }]),
    cbor.encode([{ n: 'a', v: '', i: 'b', a: 'c' }, { n: 'd', v: '2', i: 'b', a: 'c' }])],
  accepts: never,
  run: (input) => fromCbor(input, (v) => (servicesOf({ id: 'node-a', version: 1, data: { services: v } }).length > 0 ? 'accepted' : 'rejected')),
};

const memberDigest: FuzzTarget = {
  name: 'membership.digest',
  seeds: [cbor.encode({ v: 3, r: '10.0.0.1:5050', d: { rpc: '10.0.0.1:5050', services: [] } }), cbor.encode({ v: 1, r: 'x' })],
  accepts: never,
  run(input) {
    return decodeDigest(input, cbor) === undefined ? 'rejected' : 'accepted';
  },
};

// ---------------------------------------------------------------- HTTP inputs

/** `schema \0 key=value&key=value`: a request schema from the registry, then a query string. */
const coerceInputs: FuzzTarget = {
  name: 'http.coerce',
  seeds: [
    utf8.encode('{"type":"object","properties":{"count":{"type":"integer"},"ok":{"type":"boolean"},"ids":{"type":"array","items":{"type":"number"}}}}\0count=2&ok=true&ids=1&ids=2.5'),
    utf8.encode('{"properties":{"n":{"anyOf":[{"type":"number"},{"type":"null"}]},"s":{"type":["string","integer"]}}}\0n=1e3&s=4'),
    utf8.encode('{"properties":{"x":{"oneOf":[{"type":"integer"}]}}}\0x=7'),
  ],
  accepts: never,
  run(input) {
    const s = text.decode(input);
    const cut = s.indexOf('\0');
    const plan = new CoercionCache().of({ [REQUEST_SCHEMA_METADATA]: cut < 0 ? s : s.slice(0, cut) });
    const query: Record<string, unknown> = {};
    for (const kv of (cut < 0 ? '' : s.slice(cut + 1)).split('&')) {
      const eq = kv.indexOf('=');
      const k = eq < 0 ? kv : kv.slice(0, eq);
      const v = eq < 0 ? '' : kv.slice(eq + 1);
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    coerce(query, plan);
    return plan === undefined ? 'rejected' : 'accepted';
  },
};

const rules = headerRules({ metadataHeaders: ['traceparent', 'tracestate', 'authorization', 'x-request-id', 'x-forwarded-for'], metadataPrefix: 'x-micro-' });

/** Request headers, one `name: value` a line (a repeated name becomes a list, as Node gives set-cookie). */
const requestHeaders: FuzzTarget = {
  name: 'http.headers',
  seeds: [utf8.encode('traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\nx-micro-tenant: acme\ntimeout: 250ms\nx-forwarded-for: 1.2.3.4'),
    utf8.encode('x-micro-timeout: 2\nauthorization: Bearer x\nauthorization: Bearer y'), utf8.encode('timeout: 1.5s\ntimeout:\n')],
  accepts: isMeshError,
  run(input) {
    const headers: Record<string, string | string[] | undefined> = {};
    for (const line of text.decode(input).split('\n')) {
      const c = line.indexOf(':');
      const k = (c < 0 ? line : line.slice(0, c)).toLowerCase();
      const v = c < 0 ? [] : [line.slice(c + 1).trim()];
      const prev = headers[k];
      headers[k] = prev === undefined ? (v.length === 0 ? [] : v[0]) : [...(Array.isArray(prev) ? prev : [prev]), ...v];
    }
    const md = headersToMetadata(headers, rules, 'req-1', '10.0.0.9');
    metadataToHeaders(md, rules);
    return requestTimeoutMs(headers, 60_000) === undefined ? 'rejected' : 'accepted';
  },
};

export const TARGETS: readonly FuzzTarget[] = [
  frameParser, rpcSession, routeTable, metadata, traceparent,
  swimPacket('swim.packet', undefined), swimPacket('swim.packet-encrypted', new Keyring([KEY])), swimBody,
  mdnsPacket, deliverBatch, deliverRequest, gossipEnvelope, subsRecord, servicesRecord, memberDigest,
  coerceInputs, requestHeaders,
];

export { Uncounted };
