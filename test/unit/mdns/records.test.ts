import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_PACKET_BYTES, announcementRecords, browseQuery, classifyQuery, decodeResponse, packetBytes,
  type DecodeContext, type DnsRecord,
} from '../../../src/mdns/records.ts';
import { MDNS_COUNTERS, type Tally } from '../../../src/mdns/stats.ts';
import { encodeTxt } from '../../../src/mdns/txt.ts';
import type { PeerAnnouncement } from '../../../src/mdns/types.ts';
import { SeededRandom } from '../../../src/clock/index.ts';
import { codec } from './memory-lan.ts';

const ST = '_micromesh._udp.local';
const peer: PeerAnnouncement = {
  cluster: 'prod', nodeId: 'node-1', gossipAddress: '10.0.0.1:7946', rpcAddress: '10.0.0.1:8080', protocolVersion: 3, meta: { zone: 'eu' },
};
const ctx: DecodeContext = { serviceType: ST, cluster: 'prod', selfId: 'me', source: '10.0.0.99' };
const c = codec();
after(() => c.close());

/** Encodes `answers` (and `additionals`) as a response with the real multicast-dns and decodes the bytes again. */
async function overTheWire(answers: DnsRecord[], additionals: DnsRecord[] = []): Promise<unknown> {
  return c.decode(await c.encode({ type: 'response', flags: 0x400, answers, additionals }));
}

function decode(packet: unknown, context: DecodeContext = ctx): { peers: PeerAnnouncement[]; goodbyes: PeerAnnouncement[]; tally: Tally } {
  const tally: Tally = {};
  const r = decodeResponse(packet, context, tally);
  return { ...r, tally };
}

test('mdns records: an announcement is PTR, SRV, TXT and A with the cache-flush bit on the unique ones', () => {
  const rs = announcementRecords(peer, { serviceType: ST, ttlS: 120 });
  assert.deepEqual(rs, [
    { name: ST, type: 'PTR', class: 'IN', ttl: 120, flush: false, data: `node-1.${ST}` },
    { name: `node-1.${ST}`, type: 'SRV', class: 'IN', ttl: 120, flush: true, data: { priority: 0, weight: 0, port: 7946, target: 'node-1.micromesh.local' } },
    { name: `node-1.${ST}`, type: 'TXT', class: 'IN', ttl: 120, flush: true, data: encodeTxt(peer) },
    { name: 'node-1.micromesh.local', type: 'A', class: 'IN', ttl: 120, flush: true, data: '10.0.0.1' },
  ]);
});

test('mdns records: unspecified hosts are filled with the interface address; without one, no A record', () => {
  const wild = { ...peer, gossipAddress: '0.0.0.0:7946', rpcAddress: '[::]:8080' };
  const rs = announcementRecords(wild, { serviceType: ST, ttlS: 120, interfaceAddress: '198.18.0.7' });
  assert.match((rs[2]!.data as string[]).join(' '), /gossip=198\.18\.0\.7:7946 rpc=198\.18\.0\.7:8080/);
  assert.equal(rs[3]!.data, '198.18.0.7');
  const none = announcementRecords(wild, { serviceType: ST, ttlS: 120 });
  assert.deepEqual(none.map((r) => r.type), ['PTR', 'SRV', 'TXT']);
  assert.match((none[2]!.data as string[]).join(' '), /gossip=0\.0\.0\.0:7946/);
  const named = announcementRecords({ ...peer, gossipAddress: 'box.lan:7946' }, { serviceType: ST, ttlS: 1 });
  assert.deepEqual(named.map((r) => r.type), ['PTR', 'SRV', 'TXT'], 'a host name is not an A record');
});

test('mdns records: round trip through multicast-dns bytes; packetBytes is the exact encoded size', async () => {
  const variants: PeerAnnouncement[] = [
    peer,
    { ...peer, nodeId: 'ünïcode.node/1', meta: {} },
    { ...peer, gossipAddress: '[fd00::1]:7946', rpcAddress: 'box.lan:1', meta: { a: 'x'.repeat(200), b: 'é'.repeat(100) } },
  ];
  for (const a of variants) {
    const rs = announcementRecords(a, { serviceType: ST, ttlS: 120, interfaceAddress: '10.0.0.1' });
    const bytes = await c.encode({ type: 'response', flags: 0x400, answers: rs });
    assert.equal(bytes.length, packetBytes(rs), a.nodeId);
    const { peers, goodbyes, tally } = decode(await c.decode(bytes));
    assert.deepEqual(tally, {});
    assert.deepEqual(goodbyes, []);
    assert.deepEqual(peers, [{ ...a, instance: rs[1]!.name, ttlS: 120, source: '10.0.0.99' }]);
  }
});

test('mdns records: TTL 0 is a goodbye; other clusters and ourselves are skipped and counted', async () => {
  const bye = decode(await overTheWire(announcementRecords(peer, { serviceType: ST, ttlS: 0 })));
  assert.equal(bye.peers.length, 0);
  assert.equal(bye.goodbyes[0]?.nodeId, 'node-1');
  const other = decode(await overTheWire(announcementRecords({ ...peer, cluster: 'dev' }, { serviceType: ST, ttlS: 5 })));
  assert.deepEqual([other.peers, other.tally], [[], { otherCluster: 1 }]);
  const self = decode(await overTheWire(announcementRecords({ ...peer, nodeId: 'me' }, { serviceType: ST, ttlS: 5 })));
  assert.deepEqual([self.peers, self.tally], [[], { self: 1 }]);
});

test('mdns records: unspecified hosts resolve through the A record, else the source address', async () => {
  const wild = { ...peer, gossipAddress: '0.0.0.0:7946', rpcAddress: '0.0.0.0:8080' };
  const rs = announcementRecords(wild, { serviceType: ST, ttlS: 9 });
  const fromSource = decode(await overTheWire(rs)).peers[0]!;
  assert.equal(fromSource.gossipAddress, '10.0.0.99:7946');
  assert.equal(fromSource.rpcAddress, '10.0.0.99:8080');
  const a: DnsRecord = { name: 'NODE-1.micromesh.local', type: 'A', class: 'IN', ttl: 9, flush: true, data: '172.16.0.5' };
  const fromA = decode(await overTheWire(rs, [a])).peers[0]!;
  assert.equal(fromA.gossipAddress, '172.16.0.5:7946');
});

test('mdns records: names compare case-insensitively, records may sit in additionals, several peers per packet', async () => {
  const one = announcementRecords(peer, { serviceType: ST, ttlS: 9 }).map((r) => ({ ...r, name: r.name.toUpperCase() }));
  const two = announcementRecords({ ...peer, nodeId: 'node-2' }, { serviceType: ST, ttlS: 9 });
  const r = decode(await overTheWire(one.slice(0, 1), [...one.slice(1), ...two]));
  assert.deepEqual(r.peers.map((p) => p.nodeId), ['node-1', 'node-2']);
  assert.deepEqual(r.tally, {});
});

test('mdns records: other services, wrong types, orphans and mismatched names are skipped and counted', async () => {
  const ours = announcementRecords(peer, { serviceType: ST, ttlS: 9 });
  const foreign: DnsRecord[] = [
    { name: '_http._tcp.local', type: 'PTR', class: 'IN', ttl: 9, flush: false, data: 'web._http._tcp.local' },
    { name: 'printer.local', type: 'A', class: 'IN', ttl: 9, flush: true, data: '10.0.0.5' },
  ];
  const r1 = decode(await overTheWire([...ours, ...foreign]));
  assert.equal(r1.peers.length, 1);
  assert.deepEqual(r1.tally, { otherService: 2 });

  const wrong = [
    { name: ST, type: 'A', class: 'IN', ttl: 9, flush: false, data: '1.2.3.4' }, // our service name must be a PTR
    { name: `x.${ST}`, type: 'A', class: 'IN', ttl: 9, flush: false, data: '1.2.3.4' }, // A is fine anywhere, but unreferenced
    { name: `node-1.${ST}`, type: 'CNAME', class: 'IN', ttl: 9, flush: false, data: 'a.local' },
    { name: ST, type: 'PTR', class: 'IN', ttl: 9, flush: false, data: 'not-ours.local' },
    { name: ST, type: 'PTR', class: 'IN', ttl: 9, flush: false, data: `a.b.${ST}` },
  ] as unknown as DnsRecord[];
  const r2 = decode(await overTheWire(wrong));
  assert.deepEqual(r2.tally, { malformedRecords: 3, otherService: 2 });

  const orphan = decode(await overTheWire(ours.slice(0, 2)));
  assert.deepEqual([orphan.peers, orphan.tally], [[], { incomplete: 1 }]);

  const renamed = ours.map((r) => (r.type === 'TXT' ? { ...r, name: `impostor.${ST}` } : r));
  const r3 = decode(await overTheWire(renamed));
  assert.deepEqual([r3.peers, r3.tally], [[], { invalidFields: 1, incomplete: 1 }]);
});

test('mdns records: shapes that did not come from dns-packet never throw', () => {
  const junk: unknown[] = [
    undefined, null, 0, 'x', [], {}, { answers: 'x' }, { answers: [null, 1, 'a', [], {}] },
    { answers: [{ name: ST, type: 'PTR', ttl: -1, data: `a.${ST}` }] },
    { answers: [{ name: ST, type: 'PTR', ttl: 1.5, data: `a.${ST}` }] },
    { answers: [{ name: `a.${ST}`, type: 'TXT', ttl: 1, data: { length: 3 } }] },
    { answers: [{ name: `a.${ST}`, type: 'SRV', ttl: 1, data: { port: -1, target: 'x' } }] },
    { answers: [{ name: `a.${ST}`, type: 'SRV', ttl: 1, data: null }] },
    { answers: [{ name: 7, type: 'TXT', ttl: 1, data: [] }], additionals: [{ name: 'x', type: {}, ttl: 1 }] },
  ];
  for (const p of junk) {
    const r = decode(p);
    assert.deepEqual([r.peers, r.goodbyes], [[], []]);
    for (const k of Object.keys(r.tally)) assert.ok(MDNS_COUNTERS.includes(k as never), k);
    assert.equal(classifyQuery(p, { serviceType: ST, nodeId: 'a', ttlS: 120 }, {}), 'ignore');
  }
});

test('mdns records: a query for our service or names is answered unless it already knows us well enough', () => {
  const q = (questions: unknown[], answers: unknown[] = []): unknown => ({ type: 'query', questions, answers });
  const our = { serviceType: ST, nodeId: 'node-1', ttlS: 120 };
  const known = (ttl: number): object => ({ name: ST, type: 'PTR', class: 'IN', ttl, data: `NODE-1.${ST}` });
  const classify = (p: unknown, o = our): [string, Tally] => {
    const t: Tally = {};
    return [classifyQuery(p, o, t), t];
  };
  assert.deepEqual(classify(q([{ name: ST, type: 'PTR' }])), ['answer', {}]);
  assert.deepEqual(classify(q([{ name: ST.toUpperCase(), type: 'ANY' }])), ['answer', {}]);
  assert.deepEqual(classify(q([{ name: ST, type: 'PTR' }], [known(60)])), ['suppress', {}]);
  assert.deepEqual(classify(q([{ name: ST, type: 'PTR' }], [known(59)])), ['answer', {}]);
  assert.deepEqual(classify(q([{ name: `node-1.${ST}`, type: 'TXT' }], [known(120)])), ['answer', {}], 'direct questions are always answered');
  assert.deepEqual(classify(q([{ name: `node-1.${ST}`, type: 'SRV' }])), ['answer', {}]);
  assert.deepEqual(classify(q([{ name: 'node-1.micromesh.local', type: 'A' }])), ['answer', {}]);
  assert.deepEqual(classify(q([{ name: `node-2.${ST}`, type: 'TXT' }])), ['ignore', {}]);
  assert.deepEqual(classify(q([{ name: '_http._tcp.local', type: 'PTR' }])), ['ignore', { otherService: 1 }]);
  assert.deepEqual(classify(q([{ name: ST, type: 'PTR' }]), { ...our, nodeId: undefined as unknown as string }), ['ignore', {}], 'browse-only answers nothing');
  assert.deepEqual(classify(q([null, { name: 1 }, { name: ST, type: 'PTR' }])), ['answer', { malformedRecords: 2 }]);
});

test('mdns records: browse queries carry known answers within the packet budget', async () => {
  const known = Array.from({ length: 100 }, (_, i) => ({ instance: `node-${i}.${ST}`, ttlS: 100 - i + 0.7 }));
  const q = browseQuery(ST, known);
  assert.deepEqual(q.questions, [{ name: ST, type: 'PTR', class: 'IN' }]);
  assert.ok(q.answers.length > 10 && q.answers.length < 100, `${q.answers.length} known answers`);
  assert.deepEqual(q.answers[0], { name: ST, type: 'PTR', class: 'IN', ttl: 100, flush: false, data: `node-0.${ST}` });
  const bytes = await c.encode({ type: 'query', ...q });
  assert.equal(bytes.length, packetBytes(q.answers, q.questions));
  assert.ok(bytes.length <= MAX_PACKET_BYTES);
  assert.deepEqual(browseQuery(ST, []).answers, []);
});

test('mdns records (fuzz): random bytes and mutated announcements never throw and never yield invalid peers', async () => {
  const rnd = new SeededRandom(4242);
  const good = await c.encode({ type: 'response', flags: 0x400, answers: announcementRecords(peer, { serviceType: ST, ttlS: 120, interfaceAddress: '10.0.0.1' }) });
  let decodedPackets = 0;
  let peersFound = 0;
  const check = (packet: unknown): void => {
    const r = decode(packet);
    for (const p of [...r.peers, ...r.goodbyes]) {
      peersFound++;
      assert.equal(p.cluster, 'prod');
      assert.match(p.gossipAddress, /:\d+$/);
      assert.ok(Number.isInteger(p.protocolVersion));
    }
    for (const k of Object.keys(r.tally)) assert.ok(MDNS_COUNTERS.includes(k as never), k);
    classifyQuery(packet, { serviceType: ST, nodeId: 'node-1', ttlS: 120 }, {});
  };
  for (let i = 0; i < 1500; i++) {
    let bytes: Uint8Array;
    const mode = i % 3;
    if (mode === 0) bytes = rnd.bytes(rnd.int(200));
    else if (mode === 1) {
      bytes = Buffer.from(good);
      for (let k = 0, n = 1 + rnd.int(4); k < n; k++) bytes[rnd.int(bytes.length)] = rnd.int(256);
    } else bytes = good.subarray(0, rnd.int(good.length));
    let packet: unknown;
    try {
      packet = await c.decode(bytes);
    } catch {
      continue; // dns-packet refused the bytes: the shell counts those as malformedPackets
    }
    decodedPackets++;
    check(packet);
  }
  assert.ok(decodedPackets > 100, `${decodedPackets} packets decoded`);
  assert.ok(peersFound > 10, `${peersFound} peers survived mutation`);
});

test('mdns records (fuzz): random structured packets never throw', () => {
  const rnd = new SeededRandom(7);
  const pick = <T>(xs: T[]): T => xs[rnd.int(xs.length)]!;
  const names = [ST, `node-1.${ST}`, `a.${ST}`, 'node-1.micromesh.local', '_x._tcp.local', '', 'x'];
  const values = (): unknown => pick<unknown>([
    undefined, null, -1, 0, 1.5, 2 ** 40, 'str', `node-1.${ST}`, '10.0.0.1', [], [Buffer.from('txtvers=1')],
    encodeTxt(peer).map((s) => Buffer.from(s)), { port: 1, target: 'node-1.micromesh.local' }, { port: 'x' }, Buffer.alloc(3),
  ]);
  for (let i = 0; i < 3000; i++) {
    const record = (): unknown => rnd.next() < 0.1 ? values() : {
      name: rnd.next() < 0.8 ? pick(names) : values(), type: pick(['PTR', 'SRV', 'TXT', 'A', 'ANY', 'NSEC', 7]),
      ttl: pick([0, 1, 120, -5, 1.2, 'x']), data: values(),
    };
    const list = (): unknown => rnd.next() < 0.1 ? values() : Array.from({ length: rnd.int(6) }, record);
    const packet = rnd.next() < 0.05 ? values() : { type: 'response', questions: list(), answers: list(), additionals: list() };
    decode(packet);
    classifyQuery(packet, { serviceType: ST, nodeId: 'node-1', ttlS: 120 }, {});
  }
});
