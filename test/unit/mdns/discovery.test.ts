// The mDNS shell over an in-memory LAN (real multicast-dns encoding, fake
// sockets) on a VirtualClock: deterministic timers, no network.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { MdnsDiscovery, type MdnsConfig, type MdnsEvent, type LocalAnnouncement } from '../../../src/mdns/index.ts';
import { announcementRecords } from '../../../src/mdns/records.ts';
import { SeededRandom, VirtualClock } from '../../../src/clock/index.ts';
import { MeshError } from '../../../src/errors/index.ts';
import { MemoryLan, codec, settle, type FakeSocketOptions } from './memory-lan.ts';
import { discoveryCompliance } from '../../compliance/discovery.ts';

const ST = '_mmunit._udp.local';
const FAST: Partial<MdnsConfig> = { serviceType: ST, browseIntervalMs: 800, browseJitter: 0.25, announceTtlS: 3, startupIntervalMs: 250 };

interface Node {
  d: MdnsDiscovery;
  events: MdnsEvent[];
}

interface MakeOptions {
  cluster?: string;
  announce?: Partial<LocalAnnouncement> | false;
  config?: Partial<MdnsConfig>;
  socket?: FakeSocketOptions;
  nics?: Record<string, NetworkInterfaceInfo[]>;
}

/** A LAN, a clock and a node factory; every node is stopped when the test ends, pass or fail. */
function world(t: TestContext) {
  const lan = new MemoryLan();
  const clock = new VirtualClock();
  let seed = 1;
  const nodes: Node[] = [];
  const make = (id: string, o: MakeOptions = {}): Node => {
    const d = new MdnsDiscovery({
      cluster: o.cluster ?? 'c',
      announce: o.announce === false ? undefined : { nodeId: id, gossipAddress: '0.0.0.0:7946', rpcAddress: '0.0.0.0:8080', protocolVersion: 1, ...o.announce },
      config: { ...FAST, ...o.config },
      clock, random: new SeededRandom(seed++), createSocket: lan.factory(o.socket),
      ...(o.nics !== undefined ? { networkInterfaces: () => o.nics! } : {}),
    });
    const n = { d, events: [] as MdnsEvent[] };
    d.on('*', (e) => n.events.push(e));
    nodes.push(n);
    return n;
  };
  /** Advances virtual time in small steps, letting deliveries run between them. */
  const run = async (ms: number, step = 25): Promise<void> => {
    for (let t = 0; t < ms; t += step) {
      clock.advance(step);
      await settle();
    }
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.d.stop()));
  };
  t.after(stopAll);
  return { lan, clock, make, run, stopAll };
}

// The Discovery compliance suite over the memory LAN; a node's packets carry its own source address, so it can be silenced.
discoveryCompliance('mdns over the memory LAN', {
  canSilence: true,
  setup: async () => {
    const lan = new MemoryLan();
    const clock = new VirtualClock();
    const made: MdnsDiscovery[] = [];
    const sourceOf = new Map<string, string>();
    const silent = new Set<string>();
    lan.drop = (from) => silent.has(from);
    return {
      make: ({ cluster, announce }) => {
        const address = `192.0.2.${made.length + 1}`;
        if (announce !== undefined) sourceOf.set(announce.nodeId, address);
        const d = new MdnsDiscovery({ cluster, announce, config: FAST, clock, random: new SeededRandom(made.length + 1), createSocket: lan.factory({ address }) });
        made.push(d);
        return d;
      },
      step: async () => {
        clock.advance(25);
        await settle();
      },
      silence: (id, on) => void (on ? silent.add(sourceOf.get(id)!) : silent.delete(sourceOf.get(id)!)),
      teardown: async () => {
        await Promise.all(made.map((d) => d.stop()));
      },
    };
  },
});

const nic = (address: string, netmask = '255.255.255.0'): NetworkInterfaceInfo =>
  ({ address, netmask, family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: `${address}/24` });

async function rejectsWith(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof MeshError, String(err));
    assert.equal(err.code, code);
    if (re !== undefined) assert.match(err.detail, re);
    return true;
  });
}

test('mdns discovery: two nodes find each other, stay while they answer, and a stop says goodbye', async (t) => {
  const w = world(t);
  const a = w.make('a', { socket: { address: '10.0.0.1' } });
  const b = w.make('b', { socket: { address: '10.0.0.2' }, announce: { meta: { zone: 'z' } } });
  await a.d.start();
  await b.d.start();
  await w.run(300);
  assert.deepEqual(a.events.map((e) => [e.type, e.peer.nodeId]), [['peer', 'b']]);
  assert.deepEqual(b.events.map((e) => [e.type, e.peer.nodeId]), [['peer', 'a']]);
  const seen = a.d.peers()[0]!;
  assert.equal(seen.gossipAddress, '10.0.0.2:7946', 'unspecified host filled from the source');
  assert.equal(seen.rpcAddress, '10.0.0.2:8080');
  assert.deepEqual(seen.meta, { zone: 'z' });
  assert.equal(seen.via, undefined);
  await w.run(10 * 3000, 100); // ten TTLs: the browse keeps refreshing
  assert.equal(a.events.length, 1, 'no expiry while b answers');
  await b.d.stop();
  await settle();
  assert.deepEqual(a.events.at(-1), { type: 'expired', peer: seen.nodeId === 'b' ? a.events.at(-1)!.peer : seen, reason: 'goodbye' });
  assert.equal(a.events.at(-1)!.peer.nodeId, 'b');
  assert.deepEqual(a.d.peers(), []);
  assert.equal(b.d.stats().goodbyesSent, 1);
  assert.equal(a.d.stats().goodbyesReceived, 1);
  await w.stopAll();
});

test('mdns discovery: startup repeats, then browses at jittered intervals', async (t) => {
  const w = world(t);
  const a = w.make('a', { config: { startupRepeats: 3 } });
  await a.d.start();
  assert.deepEqual([a.d.stats().queriesSent, a.d.stats().responsesSent], [1, 1]);
  await w.run(250, 250);
  assert.equal(a.d.stats().queriesSent, 2);
  await w.run(250, 250);
  assert.equal(a.d.stats().queriesSent, 3);
  // 3 announcements plus answers to its own queries (it hears itself, like any other node on the host).
  assert.ok(a.d.stats().responsesSent >= 5);
  // From here on only the periodic browse queries.
  const times: number[] = [];
  let last = a.d.stats().queriesSent;
  for (let t = 0; t < 20_000; t += 10) {
    w.clock.advance(10);
    await settle(2);
    const q = a.d.stats().queriesSent;
    if (q !== last) times.push(w.clock.now());
    last = q;
  }
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  assert.ok(gaps.length >= 18, `${gaps.length} browses`);
  for (const g of gaps) assert.ok(g >= 600 && g <= 1010, `gap ${g} within 800 ms ± 25%`);
  assert.ok(new Set(gaps).size > 3, 'intervals vary');
  await w.stopAll();
});

test('mdns discovery: a browse listing a fresh known answer gets no reply (known-answer suppression)', async (t) => {
  const w = world(t);
  const a = w.make('a');
  const b = w.make('b');
  await Promise.all([a.d.start(), b.d.start()]);
  await w.run(300);
  const before = b.d.stats();
  await a.d.browse();
  await w.run(200);
  const after = b.d.stats();
  assert.equal(after.answersSuppressed, before.answersSuppressed + 1);
  assert.equal(after.responsesSent, before.responsesSent);
  await w.stopAll();
});

test('mdns discovery: a peer that falls silent expires after its TTL', async (t) => {
  const w = world(t);
  const a = w.make('a');
  const b = w.make('b', { socket: { address: '10.9.9.9' } });
  await Promise.all([a.d.start(), b.d.start()]);
  await w.run(300);
  const lastSeen = a.d.peers()[0]!.lastSeenAtMs;
  w.lan.drop = (from) => from === '10.9.9.9';
  await w.run(3500, 50);
  const e = a.events.at(-1)!;
  assert.deepEqual([e.type, e.peer.nodeId, e.type === 'expired' && e.reason], ['expired', 'b', 'ttl']);
  assert.equal(e.peer.expiresAtMs, lastSeen + 3000);
  assert.equal(a.d.stats().peersExpired, 1);
  // Heard again (a healed partition): found again by the periodic browse.
  w.lan.drop = () => false;
  await w.run(1500);
  assert.deepEqual(a.events.at(-1)!.type, 'peer');
  await w.stopAll();
});

test('mdns discovery: update() announces at once and peers see the change', async (t) => {
  const w = world(t);
  const a = w.make('a');
  const b = w.make('b');
  await Promise.all([a.d.start(), b.d.start()]);
  await w.run(300);
  await b.d.update({ nodeId: 'b', gossipAddress: '10.1.1.1:7000', rpcAddress: '10.1.1.1:9000', protocolVersion: 2 });
  await settle();
  const e = a.events.at(-1)!;
  assert.equal(e.type, 'peer');
  assert.equal(e.type === 'peer' && e.previous?.protocolVersion, 1);
  assert.equal(e.peer.rpcAddress, '10.1.1.1:9000');
  assert.equal(a.d.stats().peersChanged, 1);
  await w.stopAll();
  await rejectsWith(b.d.update({ nodeId: 'b', gossipAddress: '1.1.1.1:1', rpcAddress: '1.1.1.1:1', protocolVersion: 1 }), 'NOT_RUNNING');
});

// What is reported is the compliance suite's; this is what goes on the wire.
test('mdns discovery: a browse-only node sends no announcement and no goodbye; other clusters are counted', async (t) => {
  const w = world(t);
  const a = w.make('a');
  const red = w.make('r', { cluster: 'red' });
  const watcher = w.make('w', { announce: false });
  await Promise.all([a.d.start(), red.d.start(), watcher.d.start()]);
  await w.run(3000);
  assert.ok(a.d.stats().otherCluster > 0);
  assert.equal(watcher.d.stats().responsesSent, 0);
  await watcher.d.stop();
  assert.equal(watcher.d.stats().goodbyesSent, 0, 'nothing to take back');
  await w.stopAll();
});

test('mdns discovery: disabled does nothing; start and stop are idempotent; no restart', async (t) => {
  const w = world(t);
  const off = w.make('off', { config: { enabled: false } });
  await off.d.start();
  await off.d.browse();
  assert.equal(w.lan.sockets.size, 0);
  assert.equal(off.d.running, false);
  await off.d.stop();

  const a = w.make('a');
  await rejectsWith(a.d.browse(), 'NOT_RUNNING', /start the mDNS discovery first/);
  const p1 = a.d.start();
  assert.equal(a.d.start(), p1);
  await p1;
  assert.equal(w.lan.sockets.size, 1);
  assert.equal(a.d.running, true);
  const s1 = a.d.stop();
  assert.equal(a.d.stop(), s1);
  await s1;
  assert.equal(w.lan.sockets.size, 0);
  assert.equal(a.d.stats().goodbyesSent, 1);
  await rejectsWith(a.d.start(), 'NOT_RUNNING', /cannot be restarted/);
  await rejectsWith(a.d.browse(), 'NOT_RUNNING');
  assert.equal(w.clock.pending(), 0, 'no timer left behind');
});

test('mdns discovery: socket failures at start become MDNS_UNAVAILABLE with a hint, and start can be retried', async (t) => {
  const w = world(t);
  const busy: FakeSocketOptions = { bindError: 'EADDRINUSE' };
  const a = w.make('a', { socket: busy });
  await rejectsWith(a.d.start(), 'MDNS_UNAVAILABLE', /EADDRINUSE.*another process holds the port/);
  assert.equal(w.lan.sockets.size, 0, 'the socket was closed');
  busy.bindError = undefined;
  await a.d.start();
  assert.equal(a.d.running, true);

  const noRoute = w.make('n', { socket: { sendError: 'ENETUNREACH' } });
  await rejectsWith(noRoute.d.start(), 'MDNS_UNAVAILABLE', /ENETUNREACH.*no route for multicast/);
  const nics = { eth0: [nic('10.0.0.1')] };
  const missing = w.make('m', { config: { interfaces: ['10.0.0.7'] }, nics });
  await rejectsWith(missing.d.start(), 'MDNS_UNAVAILABLE', /10\.0\.0\.7 is not an IPv4 address of this host \(have: 10\.0\.0\.1\)/);
  const noJoin = w.make('j', { config: { interfaces: ['10.0.0.1'] }, nics, socket: { membershipError: 'ENODEV' } });
  await rejectsWith(noJoin.d.start(), 'MDNS_UNAVAILABLE', /ENODEV/);
  const anyJoin = w.make('k', { socket: { membershipError: 'ENODEV' } });
  await anyJoin.d.start(); // with all interfaces, one that cannot join is not fatal
  const err = await a.d.start().then(() => undefined);
  assert.equal(err, undefined);
  await w.stopAll();
  assert.equal(w.lan.sockets.size, 0);
});

test('mdns discovery: an aborted start is CANCELLED and closes what it opened', async (t) => {
  const w = world(t);
  const a = w.make('a');
  await rejectsWith(a.d.start({ signal: AbortSignal.abort() }), 'CANCELLED');
  const ctl = new AbortController();
  const p = a.d.start({ signal: ctl.signal });
  ctl.abort();
  await rejectsWith(p, 'CANCELLED');
  await settle();
  assert.equal(w.lan.sockets.size, 0);
  await a.d.start();
  assert.equal(a.d.running, true);
  await w.stopAll();
});

test('mdns discovery: bad packets and throwing listeners are counted, never fatal', async (t) => {
  const w = world(t);
  const a = w.make('a');
  let reached = 0;
  a.d.on('peer', () => {
    throw new Error('listener bug');
  });
  a.d.on('peer', () => reached++);
  await a.d.start();
  const rnd = new SeededRandom(3);
  for (let i = 0; i < 50; i++) w.lan.inject('10.0.0.66', rnd.bytes(1 + rnd.int(60)));
  const c = codec();
  t.after(() => c.close());
  const foreign = await c.encode({ type: 'response', answers: [{ name: '_http._tcp.local', type: 'PTR', ttl: 5, data: 'x._http._tcp.local' }] });
  const peer = await c.encode({ type: 'response', answers: announcementRecords(
    { cluster: 'c', nodeId: 'p', gossipAddress: '10.0.0.5:1', rpcAddress: '10.0.0.5:2', protocolVersion: 1, meta: {} }, { serviceType: ST, ttlS: 5 }) });
  w.lan.inject('10.0.0.66', foreign);
  w.lan.inject('10.0.0.5', peer);
  await settle();
  const s = a.d.stats();
  assert.ok(s.malformedPackets > 10, `${s.malformedPackets} malformed`);
  assert.equal(s.otherService, 1);
  assert.equal(s.listenerErrors, 1);
  assert.equal(reached, 1, 'the other listener still ran');
  assert.equal(a.d.running, true);
  await w.stopAll();
});

test('mdns discovery: one socket per chosen interface, announcing that interface and hearing only its subnet', async (t) => {
  const w = world(t);
  const nics = { eth0: [nic('10.0.0.1')], eth1: [nic('10.0.1.1')] };
  const a = w.make('a', { config: { interfaces: ['10.0.0.1', '10.0.1.1'] }, nics });
  await a.d.start();
  assert.deepEqual(a.d.interfaces, ['10.0.0.1', '10.0.1.1']);
  const c = codec();
  t.after(() => c.close());
  const sentBy = (from: string) => w.lan.sent.filter((s) => s.from === from);
  for (const addr of ['10.0.0.1', '10.0.1.1']) {
    const announcements: { type: string; answers: { type: string; data: Buffer[] }[] }[] = [];
    for (const s of sentBy(addr)) announcements.push(await c.decode(s.bytes) as never); // one at a time: decode takes the next packet
    const txt = announcements.find((p) => p.type === 'response')!.answers.find((r) => r.type === 'TXT')!;
    assert.ok(txt.data.map(String).includes(`gossip=${addr}:7946`), `announced on ${addr} with that address`);
  }
  const peer = await c.encode({ type: 'response', answers: announcementRecords(
    { cluster: 'c', nodeId: 'p', gossipAddress: '0.0.0.0:1', rpcAddress: '0.0.0.0:2', protocolVersion: 1, meta: {} }, { serviceType: ST, ttlS: 5 }) });
  // Each socket already dropped the other's own packets (one LAN in memory); count from here.
  const dropped = a.d.stats().otherSubnet;
  w.lan.inject('10.0.2.9', peer); // on neither subnet: both sockets drop it
  await settle();
  assert.equal(a.d.stats().otherSubnet, dropped + 2);
  assert.deepEqual(a.d.peers(), []);
  w.lan.inject('10.0.1.9', peer); // both sockets hear it (one LAN in memory), only eth1's admits it
  await settle();
  assert.deepEqual(a.d.peers().map((p) => [p.nodeId, p.via, p.gossipAddress]), [['p', '10.0.1.1', '10.0.1.9:1']]);
  assert.equal(a.d.stats().otherSubnet, dropped + 3);
  await w.stopAll();
});

test('mdns discovery: the peer table is bounded by maxPeers', async (t) => {
  const w = world(t);
  const a = w.make('a', { config: { maxPeers: 1 } });
  const others = ['b', 'c', 'd'].map((id) => w.make(id));
  await Promise.all([a, ...others].map((n) => n.d.start()));
  await w.run(300);
  assert.equal(a.d.peers().length, 1);
  assert.ok(a.d.stats().tableFull >= 2);
  await w.stopAll();
});
