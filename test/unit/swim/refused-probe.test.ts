// A direct ping refused at once (ICMP port unreachable) starts the indirect
// round and the TCP ping early (watchRefusals); the verdict stays with them.
// Virtual time over the in-memory networks, which answer a packet to an up
// host's unbound port with a refusal; then the same refusal over real UDP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { VirtualCluster, type SimHost } from '../../sim/cluster.ts';
import { SeededRandom, VirtualClock } from '../../../src/clock/index.ts';
import { MemoryPacketNetwork } from '../../../src/transport/memory-packet.ts';
import { UdpNetwork } from '../../../src/transport/udp.ts';
import type { ProbeOutcome } from '../../../src/swim/types.ts';
import type { SwimConfig } from '../../../src/swim/config.ts';

/** A converged cluster of 5 with its probe loops off, so only the probes under test run. */
async function cluster(config: Partial<SwimConfig> = {}): Promise<{ c: VirtualCluster; hosts: SimHost[] }> {
  const c = new VirtualCluster({ seed: 3, config, latencyMs: 1, jitterMs: 0 });
  const hosts = await c.startJoined(5, { startLoops: false });
  return { c, hosts };
}

/** Starts a probe of `target` from `from`; the outcome and when it came (virtual ms after the start). */
function probe(c: VirtualCluster, from: SimHost, target: string): { result: () => { outcome: ProbeOutcome; afterMs: number } | undefined } {
  const t0 = c.clock.now();
  let got: { outcome: ProbeOutcome; afterMs: number } | undefined;
  void from.node.probeNow(target).then((outcome) => {
    got = { outcome, afterMs: c.clock.now() - t0 };
  });
  return { result: () => got };
}

test('a crashed process refuses the direct ping: the TCP ping goes out at once and proves it dead, long before the probe timeout', async () => {
  const { c, hosts } = await cluster();
  const [a] = hosts as [SimHost];
  await c.crashProcess('n4');
  const p = probe(c, a, 'n4');
  await c.runUntil(() => p.result() !== undefined, 5000, 1);
  const r = p.result()!;
  assert.equal(r.outcome, 'dead');
  assert.ok(r.afterMs < 50, `verdict after ${r.afterMs} ms, probe timeout is 500`);
  const s = a.node.stats();
  assert.equal(s.probesRefused, 1);
  assert.equal(s.refusedDeaths, 1);
  assert.equal(a.stateOf('n4'), 'dead');
  await c.stopAll();
});

test('a refusal is never a verdict: without refusedAsDead the relays decide, at the usual deadline, and the member is only suspected', async () => {
  const { c, hosts } = await cluster({ refusedAsDead: false });
  const [a] = hosts as [SimHost];
  await c.crashProcess('n4');
  const p = probe(c, a, 'n4');
  await c.run(50, 1);
  assert.equal(a.node.stats().probesRefused, 1);
  assert.equal(a.node.stats().indirectProbesSent, 3, 'the indirect round started before the probe timeout');
  assert.equal(p.result(), undefined);
  assert.equal(a.stateOf('n4'), 'alive');
  await c.runUntil(() => p.result() !== undefined, 5000, 1);
  assert.equal(p.result()!.outcome, 'suspect');
  assert.ok(p.result()!.afterMs >= 1000, 'the verdict waits for the end of the probe interval');
  assert.equal(a.stateOf('n4'), 'suspect');
  await c.stopAll();
});

test('watchRefusals off: the indirect round waits out the probe timeout', async () => {
  const { c, hosts } = await cluster({ watchRefusals: false, refusedAsDead: false });
  const [a] = hosts as [SimHost];
  await c.crashProcess('n4');
  probe(c, a, 'n4');
  await c.run(400, 1);
  assert.equal(a.node.stats().indirectProbesSent, 0);
  assert.equal(a.node.stats().probesRefused, 0);
  await c.run(200, 1);
  assert.equal(a.node.stats().indirectProbesSent, 3);
  await c.stopAll();
});

test('live members, a restarted one on the same address, and a crashed host are never refused', async () => {
  const { c, hosts } = await cluster();
  const [a] = hosts as [SimHost];
  const live = probe(c, a, 'n1');
  await c.crashProcess('n2');
  await c.add('n2'); // a new life on the same port, not yet joined: it answers pings to its id
  const restarted = probe(c, a, 'n2');
  await c.crashHost('n3');
  const silent = probe(c, a, 'n3');
  await c.runUntil(() => [live, restarted, silent].every((p) => p.result() !== undefined), 5000, 1);
  assert.equal(live.result()!.outcome, 'alive');
  assert.equal(restarted.result()!.outcome, 'alive');
  assert.equal(silent.result()!.outcome, 'suspect', 'a host crash refuses nothing: only the suspicion path');
  assert.equal(a.node.stats().probesRefused, 0);
  assert.equal(a.node.stats().refusedDeaths, 0);
  await c.stopAll();
});

test('memory network: a watched send to an unbound port of an up host is refused once; bound, closed-watch, partitioned and down hosts are not', async () => {
  const clock = new VirtualClock();
  const net = new MemoryPacketNetwork({ clock, random: new SeededRandom(1), latencyMs: 2 });
  const a = net.bindSync('a:1');
  net.bindSync('b:1');
  const refusals: string[] = [];
  const on = (what: string) => () => refusals.push(what);
  a.sendWatched('b:2', new Uint8Array(8), on('unbound'));
  a.sendWatched('b:1', new Uint8Array(8), on('bound'));
  a.sendWatched('b:3', new Uint8Array(8), on('closed')).close();
  net.bindSync('c:1');
  net.partition([['c']]);
  a.sendWatched('c:2', new Uint8Array(8), on('partitioned'));
  net.bindSync('d:1');
  net.setHostDown('d', true);
  a.sendWatched('d:2', new Uint8Array(8), on('down'));
  clock.advance(3);
  assert.deepEqual(refusals, [], 'the refusal takes the way there and back');
  clock.advance(2);
  assert.deepEqual(refusals, ['unbound']);
  assert.equal(net.stats().refused, 2, 'the host answered the closed watch too; nobody listened');
});

test('UDP: a watched send to a loopback port where nothing listens is refused (ICMP port unreachable), and answers on the channel reach the handler', async () => {
  const ep = await new UdpNetwork().bind('127.0.0.1:0');
  const echo = dgram.createSocket('udp4');
  await new Promise<void>((r) => echo.bind(0, '127.0.0.1', () => r()));
  echo.on('message', (msg, rinfo) => echo.send(msg, rinfo.port, rinfo.address));
  const closed = dgram.createSocket('udp4');
  await new Promise<void>((r) => closed.bind(0, '127.0.0.1', () => r()));
  const deadPort = closed.address().port;
  await new Promise<void>((r) => closed.close(() => r()));
  try {
    const answered = new Promise<string>((resolve) => ep.onPacket((from) => resolve(from)));
    const watchEcho = ep.sendWatched('127.0.0.1:' + echo.address().port, new Uint8Array([1]), () => assert.fail('a live port refused'));
    assert.equal(await answered, `127.0.0.1:${echo.address().port}`);
    watchEcho.close();
    await new Promise<void>((resolve) => ep.sendWatched(`127.0.0.1:${deadPort}`, new Uint8Array([2]), resolve));
    assert.equal(ep.stats().refused, 1);
  } finally {
    echo.close();
    await ep.close();
  }
});
