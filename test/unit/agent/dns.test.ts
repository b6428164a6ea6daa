// Consul's DNS answers from a catalog snapshot (src/agent/dns.ts), checked through dns-packet's own encoding: what
// dig would receive for node, service, tag, RFC 2782 and .addr names; NXDOMAIN with an SOA; REFUSED outside the
// domain; only instances not critical; UDP answers cut to the client's buffer with TC set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dnsPacket from 'dns-packet';
import fc from 'fast-check';
import type { Packet } from 'dns-packet';
import { SeededRandom } from '../../../src/clock/seeded.ts';
import { dnsAnswer } from '../../../src/agent/dns.ts';
import { addrToHex, parseDnsName } from '../../../src/agent/dns-names.ts';
import { snapshotOf } from '../../support/agent-snapshot.ts';

const snap = snapshotOf({
  datacenter: 'dc1', index: 7,
  nodes: [
    { name: 'n1', id: 'id-1', address: '198.18.0.1', meta: { rack: 'a' } },
    { name: 'n2', id: 'id-2', address: '198.18.0.2', meta: {} },
    { name: 'n3', id: 'id-3', address: 'fd00::3', meta: {} },
  ],
  instances: [
    { node: 'n1', id: 'web-1', service: 'web', address: '', port: 8080, tags: ['primary'], meta: {}, status: 'passing' },
    { node: 'n2', id: 'web-2', service: 'web', address: '', port: 8081, tags: [], meta: {}, status: 'warning' },
    { node: 'n2', id: 'web-3', service: 'web', address: '', port: 8082, tags: [], meta: {}, status: 'critical' },
    { node: 'n1', id: 'db-1', service: 'db', address: '192.0.2.10', port: 5432, tags: ['rails'], meta: {}, status: 'passing' },
    { node: 'n3', id: 'v6-1', service: 'v6', address: '', port: 1, tags: [], meta: {}, status: 'passing' },
    { node: 'n2', id: 'down-1', service: 'down', address: '', port: 1, tags: [], meta: {}, status: 'critical' },
  ],
});
const opts = { domain: 'consul', ttlSeconds: 0 };

/** Asks as dig does (RD, EDNS unless `edns` is false) and decodes the wire answer. */
function ask(name: string, type: string, { udp = true, edns = true } = {}) {
  const q: Packet = {
    type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: type as 'A' }],
    additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0 } as never] : [],
  };
  const wire = dnsPacket.encode(dnsAnswer(dnsPacket.decode(dnsPacket.encode(q)), snap, opts, new SeededRandom(1), udp));
  return dnsPacket.decode(wire);
}
const rcode = (p: { flags?: number }) => (p.flags ?? 0) & 0xf;

test('names parse as Consul writes them', () => {
  assert.deepEqual(parseDnsName('n1.node.consul', 'consul'), { kind: 'node', node: 'n1', dc: undefined });
  assert.deepEqual(parseDnsName('N1.node.DC1.dc.consul.', 'consul'), { kind: 'node', node: 'n1', dc: 'dc1' });
  assert.deepEqual(parseDnsName('primary.web.service.consul', 'consul'), { kind: 'service', service: 'web', tag: 'primary', dc: undefined });
  assert.deepEqual(parseDnsName('_web._tcp.service.consul', 'consul'), { kind: 'service', service: 'web', tag: undefined, dc: undefined });
  assert.deepEqual(parseDnsName('_db._rails.dc1.consul', 'consul'), { kind: 'service', service: 'db', tag: 'rails', dc: 'dc1' });
  assert.deepEqual(parseDnsName('c000020a.addr.dc1.consul', 'consul'), { kind: 'addr', address: '192.0.2.10', dc: 'dc1' });
  assert.deepEqual(parseDnsName('example.com', 'consul'), { kind: 'outside' });
  assert.deepEqual(parseDnsName('what.ever.consul', 'consul'), { kind: 'unknown' });
  assert.deepEqual(parseDnsName('web.service.mesh.local', 'mesh.local'), { kind: 'service', service: 'web', dc: undefined });
  assert.equal(addrToHex('192.0.2.10'), 'c000020a');
  assert.equal(addrToHex('fd00::3'), 'fd000000000000000000000000000003');
});

test('a node: A with its meta as TXT in ADDITIONAL; AAAA for an IPv6 node; authoritative, no recursion', () => {
  const r = ask('n1.node.consul', 'A');
  assert.equal(r.flag_aa, true);
  assert.equal(r.flag_rd, true);
  assert.equal(r.flag_ra, false);
  assert.equal(r.id, 4242);
  assert.deepEqual(r.answers!.map((a) => [a.type, (a as { data: unknown }).data]), [['A', '198.18.0.1']]);
  assert.deepEqual(r.additionals!.filter((a) => a.type === 'TXT').map((a) => (a as { data: Buffer[] }).data.map(String)), [['rack=a']]);
  assert.ok(r.additionals!.some((a) => a.type === 'OPT'), 'EDNS echoed');
  assert.deepEqual(ask('n3.node.dc1.dc.consul', 'AAAA').answers!.map((a) => (a as { data: unknown }).data), ['fd00::3']);
});

test('a service: A records of instances not critical, SRV with node targets and their addresses in ADDITIONAL', () => {
  const a = ask('web.service.consul', 'A');
  assert.deepEqual(a.answers!.map((x) => (x as { data: string }).data).sort(), ['198.18.0.1', '198.18.0.2']);
  const srv = ask('web.service.consul', 'SRV');
  const rows = srv.answers!.map((x) => (x as { data: { port: number; target: string; priority: number; weight: number } }).data);
  assert.deepEqual(rows.map((d) => `${d.priority} ${d.weight} ${d.port} ${d.target}`).sort(), ['1 1 8080 n1.node.dc1.consul', '1 1 8081 n2.node.dc1.consul']);
  assert.deepEqual(srv.additionals!.filter((x) => x.type === 'A').map((x) => `${x.name} ${(x as { data: string }).data}`).sort(), ['n1.node.dc1.consul 198.18.0.1', 'n2.node.dc1.consul 198.18.0.2']);
  assert.deepEqual(ask('primary.web.service.consul', 'SRV').answers!.map((x) => (x as { data: { port: number } }).data.port), [8080]);
  assert.deepEqual(ask('_web._tcp.service.consul', 'SRV').answers!.length, 2);
  // An instance with its own address: the SRV target is its .addr name, which answers too.
  const db = ask('_db._rails.service.consul', 'SRV');
  assert.deepEqual(db.answers!.map((x) => (x as { data: { target: string } }).data.target), ['c000020a.addr.dc1.consul']);
  assert.deepEqual(ask('c000020a.addr.dc1.consul', 'A').answers!.map((x) => (x as { data: string }).data), ['192.0.2.10']);
});

test('unknown names and services with no healthy instance: NXDOMAIN with the SOA; another datacenter too', () => {
  for (const name of ['nope.service.consul', 'down.service.consul', 'n9.node.consul', 'n1.node.dc2.dc.consul', 'what.ever.consul']) {
    const r = ask(name, 'A');
    assert.equal(rcode(r), 3, name);
    assert.deepEqual(r.answers, []);
    assert.equal(r.authorities![0]!.type, 'SOA', name);
  }
  // A name that exists but has no record of the type asked: NOERROR with the SOA.
  const r = ask('n1.node.consul', 'AAAA');
  assert.equal(rcode(r), 0);
  assert.deepEqual(r.answers, []);
  assert.equal(r.authorities![0]!.type, 'SOA');
});

test('names outside the domain are refused (no recursion, no amplification); a query with no question is FORMERR', () => {
  const r = ask('example.com', 'A');
  assert.equal(rcode(r), 5);
  assert.equal(r.flag_aa, false);
  assert.deepEqual(r.answers, []);
  const empty = dnsAnswer({ type: 'query', id: 1, questions: [] }, snap, opts, new SeededRandom(1), true);
  assert.equal(rcode(empty), 1);
});

test('over UDP an answer larger than the client\'s buffer is cut and flagged TC; over TCP it is whole', () => {
  const many = snapshotOf({
    datacenter: snap.datacenter, index: snap.index,
    nodes: Array.from({ length: 60 }, (_, i) => ({ name: `node-with-a-long-name-${i}`, id: `i${i}`, address: `198.18.1.${i + 1}`, meta: {} })),
    instances: Array.from({ length: 60 }, (_, i) => ({ node: `node-with-a-long-name-${i}`, id: `w${i}`, service: 'big', address: '', port: 9000 + i, tags: [], meta: {}, status: 'passing' as const })),
  });
  const q = dnsPacket.decode(dnsPacket.encode({ type: 'query', id: 9, questions: [{ name: 'big.service.consul', type: 'SRV' }] }));
  const udp = dnsAnswer(q, many, opts, new SeededRandom(1), true);
  const wire = dnsPacket.encode(udp);
  assert.ok(wire.length <= 512, `${wire.length} bytes without EDNS`);
  assert.ok((udp.flags! & dnsPacket.TRUNCATED_RESPONSE) !== 0, 'TC set');
  assert.ok(udp.answers!.length > 0 && udp.answers!.length < 60);
  const tcp = dnsAnswer(q, many, opts, new SeededRandom(1), false);
  assert.equal(tcp.answers!.length, 60);
  assert.equal(tcp.flags! & dnsPacket.TRUNCATED_RESPONSE, 0);
});

test('instances come back shuffled (by the injected Random)', () => {
  const orders = new Set<string>();
  for (let seed = 1; seed <= 20; seed++) {
    const q = dnsPacket.decode(dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'web.service.consul', type: 'SRV' }] }));
    orders.add(dnsAnswer(q, snap, opts, new SeededRandom(seed), false).answers!.map((a) => (a as { data: { port: number } }).data.port).join());
  }
  assert.equal(orders.size, 2, 'both orders of the two healthy instances appear');
});

test('the SRV targets Consul writes resolve: <node>.node.<dc>.<domain> and <hex>.addr.<dc>.<domain>', () => {
  assert.deepEqual(parseDnsName('n1.node.dc1.consul', 'consul'), { kind: 'node', node: 'n1', dc: 'dc1' });
  assert.deepEqual(parseDnsName('web.service.dc1.consul', 'consul'), { kind: 'service', service: 'web', dc: 'dc1' });
  assert.deepEqual(ask('n2.node.dc1.consul', 'A').answers!.map((a) => (a as { data: string }).data), ['198.18.0.2']);
});

test('any query, however odd, gets an answer that encodes (never a throw): random names, types, classes and bytes', () => {
  const types = ['A', 'AAAA', 'SRV', 'TXT', 'ANY', 'MX', 'SOA', 'PTR', 'CNAME', 'NS'];
  const label = fc.stringMatching(/^[a-z0-9_-]{1,12}$/);
  fc.assert(fc.property(
    fc.array(label, { minLength: 0, maxLength: 6 }), fc.constantFrom(...types), fc.boolean(), fc.constantFrom('consul', 'mesh.local'),
    (labels, type, udp, suffix) => {
      const q = { type: 'query' as const, id: 1, questions: [{ name: [...labels, suffix].join('.'), type: type as 'A' }] };
      const res = dnsAnswer(dnsPacket.decode(dnsPacket.encode(q)), snap, opts, new SeededRandom(3), udp);
      dnsPacket.encode(res);
    },
  ), { numRuns: 2000 });
  // Raw bytes: what dns-packet decodes at all is answered without a throw.
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
    let q: Packet;
    try {
      q = dnsPacket.decode(Buffer.from(bytes));
    } catch {
      return;
    }
    dnsPacket.encode(dnsAnswer(q, snap, opts, new SeededRandom(3), true));
  }), { numRuns: 5000 });
});
