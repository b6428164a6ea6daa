// mDNS discovery between hosts of a virtual LAN (test/support/netns.ts): real
// multicast on port 5353, one process per host, no seeds. Short browse
// intervals and TTLs keep the file well under a minute.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { LocalAnnouncement, MdnsConfig } from '../../src/mdns/index.ts';
import { JsonLinesProcess, type Message } from '../support/json-lines.ts';
import { VirtualLan, netnsGate, type VirtualHost } from '../support/netns.ts';

/** Skips every test with the reason where virtual LANs cannot run, unless MICROMESH_REQUIRE_NETNS=1. */
const netns = await netnsGate();

const PEER = fileURLToPath(new URL('./fixtures/mdns-peer.ts', import.meta.url));
const WAIT_MS = 10_000;

/** Fast timings: browse every 0.6–1 s, forget a silent peer after 3 s. */
const FAST: Partial<MdnsConfig> = { browseIntervalMs: 800, browseJitter: 0.25, announceTtlS: 3, startupRepeats: 2, startupIntervalMs: 250 };

let lan: VirtualLan;
const procs: JsonLinesProcess[] = [];

interface PeerOptions {
  cluster?: string;
  nodeId?: string;
  serviceType: string;
  config?: Partial<MdnsConfig>;
  announce?: Partial<LocalAnnouncement> | false;
}

/** Starts a discovery process on `h`; its gossip address leaves the host unspecified, as a node bound to 0.0.0.0 does. */
function startPeer(h: VirtualHost, o: PeerOptions): JsonLinesProcess {
  const nodeId = o.nodeId ?? `node-${h.name}`;
  const announce = o.announce === false ? undefined : {
    nodeId, gossipAddress: '0.0.0.0:7946', rpcAddress: '0.0.0.0:8080', protocolVersion: 1, ...o.announce,
  };
  const spec = { cluster: o.cluster ?? 'lan', announce, config: { ...FAST, serviceType: o.serviceType, ...o.config } };
  const p = new JsonLinesProcess(h.spawnNode(PEER, [JSON.stringify(spec)]), `${nodeId}@${h.name}`);
  procs.push(p);
  return p;
}

const started = (p: JsonLinesProcess): Promise<Message> => p.waitFor((m) => m.started === true || m.startError !== undefined, WAIT_MS, 'start');
const peerEvent = (id: string) => (m: Message): boolean => m.event === 'peer' && m.nodeId === id;
const expiredEvent = (id: string) => (m: Message): boolean => m.event === 'expired' && m.nodeId === id;

async function stop(p: JsonLinesProcess): Promise<Message> {
  p.send({ cmd: 'stop' });
  return p.waitFor((m) => m.stopped === true, WAIT_MS, 'stop');
}

async function stats(p: JsonLinesProcess): Promise<Record<string, number>> {
  const from = p.messages.length;
  p.send({ cmd: 'stats' });
  return (await p.waitFor((m) => m.stats !== undefined, WAIT_MS, 'stats', from)).stats as Record<string, number>;
}

before(async () => {
  if (!netns.ready()) return; // skipped here: build nothing
  lan = await VirtualLan.create({ hosts: 4, prefix: 'mmmdns' });
});

after(async () => {
  for (const p of procs) p.child.kill('SIGKILL');
  await lan?.destroy();
});

test('mdns on a LAN: two hosts discover each other by mDNS alone, with addresses filled from the interface', netns, async () => {
  const [h0, h1] = lan.hosts as VirtualHost[];
  const a = startPeer(h0!, { serviceType: '_mmt1._udp.local' });
  const b = startPeer(h1!, { serviceType: '_mmt1._udp.local', announce: { meta: { zone: 'z1' } } });
  assert.equal((await started(a)).started, true);
  assert.equal((await started(b)).started, true);
  const seenByA = await a.waitFor(peerEvent('node-h1'), WAIT_MS, 'peer node-h1');
  const seenByB = await b.waitFor(peerEvent('node-h0'), WAIT_MS, 'peer node-h0');
  assert.equal(seenByA.gossip, `${h1!.address}:7946`);
  assert.equal(seenByA.rpc, `${h1!.address}:8080`);
  assert.deepEqual(seenByA.meta, { zone: 'z1' });
  assert.equal(seenByB.gossip, `${h0!.address}:7946`);
  // Figures for the report: time from a process's start to its first discovery.
  console.log(`# discovery after start: h0 saw h1 at ${String(seenByA.sinceStartMs)} ms, h1 saw h0 at ${String(seenByB.sinceStartMs)} ms`);
  await Promise.all([stop(a), stop(b)]);
});

test('mdns on a LAN: a host that was unreachable when it started is found by the periodic browse once reachable', netns, async () => {
  const [h0, h1, h2] = lan.hosts as VirtualHost[];
  await lan.partition([[h0!, h1!], [h2!]]);
  const a = startPeer(h0!, { serviceType: '_mmt2._udp.local' });
  const b = startPeer(h1!, { serviceType: '_mmt2._udp.local' });
  const late = startPeer(h2!, { serviceType: '_mmt2._udp.local' });
  await Promise.all([a, b, late].map(started));
  await a.waitFor(peerEvent('node-h1'), WAIT_MS, 'peer node-h1');
  // Let the late host's startup announcements and queries go by while cut off.
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(a.all(peerEvent('node-h2')).length, 0, 'not across the partition');
  assert.equal(late.all((m) => m.event === 'peer').length, 0, 'not across the partition');
  const healedAt = Date.now();
  await lan.heal();
  await a.waitFor(peerEvent('node-h2'), WAIT_MS, 'peer node-h2 after heal');
  await late.waitFor(peerEvent('node-h0'), WAIT_MS, 'peer node-h0 after heal');
  console.log(`# found again ${Date.now() - healedAt} ms after heal (browse every ${FAST.browseIntervalMs} ms ± 25%)`);
  // Its startup announcements were long over. The others' periodic browse reaches it once healed: it
  // hears their queries, which before the heal it could not (it heard only its own). Whichever side's
  // browse fired first found the peers above, so wait for the others' next one (every 0.6–1 s).
  let s = await stats(late);
  for (const until = Date.now() + WAIT_MS; s.queriesReceived <= s.queriesSent && Date.now() < until;) {
    await new Promise((r) => setTimeout(r, 200));
    s = await stats(late);
  }
  assert.ok(s.queriesReceived > s.queriesSent, `heard others' queries: ${s.queriesReceived} received, ${s.queriesSent} sent`);
  await Promise.all([a, b, late].map(stop));
});

test('mdns on a LAN: a node of another cluster is never reported', netns, async () => {
  const [h0, h1, h2] = lan.hosts as VirtualHost[];
  const a = startPeer(h0!, { serviceType: '_mmt3._udp.local', cluster: 'blue' });
  const other = startPeer(h1!, { serviceType: '_mmt3._udp.local', cluster: 'red' });
  const c = startPeer(h2!, { serviceType: '_mmt3._udp.local', cluster: 'blue' });
  await Promise.all([a, other, c].map(started));
  await a.waitFor(peerEvent('node-h2'), WAIT_MS, 'peer node-h2');
  await other.waitFor((m) => m.event === 'peer', 100, 'nothing').then(
    () => assert.fail('red must not see blue nodes'), () => {});
  await new Promise((r) => setTimeout(r, 2 * FAST.browseIntervalMs!)); // a few browse rounds
  assert.equal(a.all(peerEvent('node-h1')).length, 0);
  assert.equal(c.all(peerEvent('node-h1')).length, 0);
  assert.equal(other.all((m) => m.event === 'peer').length, 0);
  assert.ok((await stats(a)).otherCluster > 0, 'red announcements were heard and skipped');
  await Promise.all([a, other, c].map(stop));
});

test('mdns on a LAN: stop says goodbye and peers drop the node at once; a killed node expires by TTL', netns, async () => {
  const [h0, h1, h2] = lan.hosts as VirtualHost[];
  const a = startPeer(h0!, { serviceType: '_mmt4._udp.local' });
  const b = startPeer(h1!, { serviceType: '_mmt4._udp.local' });
  const c = startPeer(h2!, { serviceType: '_mmt4._udp.local' });
  await Promise.all([a, b, c].map(started));
  await a.waitFor(peerEvent('node-h1'), WAIT_MS, 'peer node-h1');
  await a.waitFor(peerEvent('node-h2'), WAIT_MS, 'peer node-h2');
  const stoppedAt = Date.now();
  const bye = await stop(b);
  assert.equal((bye.stats as Record<string, number>).goodbyesSent, 1);
  const gone = await a.waitFor(expiredEvent('node-h1'), WAIT_MS, 'node-h1 expired');
  assert.equal(gone.reason, 'goodbye');
  const goodbyeMs = Date.now() - stoppedAt;
  assert.ok(goodbyeMs < FAST.announceTtlS! * 1000, `goodbye took ${goodbyeMs} ms, no faster than the TTL`);
  const killedAt = Date.now();
  c.child.kill('SIGKILL');
  const lapsed = await a.waitFor(expiredEvent('node-h2'), WAIT_MS, 'node-h2 expired');
  assert.equal(lapsed.reason, 'ttl');
  console.log(`# gone after stop (goodbye): ${goodbyeMs} ms; after SIGKILL (TTL ${FAST.announceTtlS} s): ${Date.now() - killedAt} ms`);
  await stop(a);
});

test('mdns on a LAN: sockets bound to chosen interfaces hear only their own LANs', netns, async () => {
  // h0 is on LANs 0 and 1; h1 only on 0, h2 only on 1.
  const multi = await VirtualLan.create({ hosts: [{ lans: [0, 1] }, { lans: [0] }, { lans: [1] }], prefix: 'mmmdns' });
  try {
    const [h0, h1, h2] = multi.hosts as VirtualHost[];
    const st = '_mmt5._udp.local';
    const both = startPeer(h0!, { serviceType: st, nodeId: 'both', config: { interfaces: [h0!.addressOn(0), h0!.addressOn(1)] } });
    const only1 = startPeer(h0!, { serviceType: st, nodeId: 'only1', config: { interfaces: [h0!.addressOn(1)] } });
    const p1 = startPeer(h1!, { serviceType: st });
    const p2 = startPeer(h2!, { serviceType: st });
    await Promise.all([both, only1, p1, p2].map(started));
    const viaLan0 = await both.waitFor(peerEvent('node-h1'), WAIT_MS, 'peer on LAN 0');
    const viaLan1 = await both.waitFor(peerEvent('node-h2'), WAIT_MS, 'peer on LAN 1');
    assert.equal(viaLan0.via, h0!.addressOn(0));
    assert.equal(viaLan1.via, h0!.addressOn(1));
    // Each side sees the multi-homed node at its address on the shared LAN.
    assert.equal((await p1.waitFor(peerEvent('both'), WAIT_MS, 'both from LAN 0')).gossip, `${h0!.addressOn(0)}:7946`);
    assert.equal((await p2.waitFor(peerEvent('both'), WAIT_MS, 'both from LAN 1')).gossip, `${h0!.addressOn(1)}:7946`);
    await only1.waitFor(peerEvent('node-h2'), WAIT_MS, 'LAN 1 peer');
    await new Promise((r) => setTimeout(r, 2 * FAST.browseIntervalMs!));
    assert.equal(only1.all(peerEvent('node-h1')).length, 0, 'a socket on LAN 1 must not report LAN 0 peers');
    assert.equal(p1.all(peerEvent('only1')).length, 0, 'a node bound to LAN 1 must not be heard on LAN 0');
    // Same host: the kernel hands the LAN-0 packets to every 5353 socket; the subnet check drops them.
    assert.ok((await stats(only1)).otherSubnet > 0);
    await Promise.all([both, only1, p1, p2].map(stop));
  } finally {
    await multi.destroy();
  }
});

test('mdns on a LAN: start fails with MDNS_UNAVAILABLE when multicast cannot work', netns, async () => {
  const h3 = lan.host(3);
  const unknown = startPeer(h3, { serviceType: '_mmt6._udp.local', config: { interfaces: ['10.99.0.1'] } });
  const e1 = await started(unknown);
  assert.equal(e1.startError, 'MDNS_UNAVAILABLE');
  assert.match(String(e1.message), /10\.99\.0\.1 is not an IPv4 address of this host \(have: 127\.0\.0\.1, 198\.18\.0\.4\)/);
  await h3.exec('ip', ['route', 'del', '224.0.0.0/4', 'dev', 'eth0']);
  try {
    const noRoute = startPeer(h3, { serviceType: '_mmt6._udp.local' });
    const e2 = await started(noRoute);
    assert.equal(e2.startError, 'MDNS_UNAVAILABLE');
    assert.match(String(e2.message), /ENETUNREACH.*no route for multicast/);
  } finally {
    await h3.exec('ip', ['route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
  }
});
