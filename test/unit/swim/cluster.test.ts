// Multi-node behaviour in virtual time, over the in-memory packet and stream
// networks. Assertions are about protocol outcomes; the time limits are
// generous "eventually" bounds derived from the config, not measurements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualCluster, type SimHost } from '../../sim/cluster.ts';
import { MeshError } from '../../../src/errors/index.ts';

const others = (hosts: SimHost[], ...names: string[]): SimHost[] => hosts.filter((h) => !names.includes(h.name));
const everyone = (hosts: SimHost[], pred: (h: SimHost) => boolean): boolean => hosts.every(pred);

test('nodes joining through one seed converge; join returns the seeds that answered and is harmless to repeat', async () => {
  const c = new VirtualCluster({ seed: 11 });
  const hosts = await c.startJoined(12);
  assert.ok(everyone(hosts, (h) => h.node.members().length === 12));
  assert.equal(await c.joining(hosts[5]!.node.join(['n0:7946', 'n1:7946', hosts[5]!.node.address])), 2, 'own address skipped');
  await c.run(2000);
  assert.ok(everyone(hosts, (h) => h.node.liveCount() === 12));
  const joins = hosts[3]!.events.filter((e) => e.type === 'join').map((e) => e.member.id).sort();
  assert.equal(joins.length, 12, 'one join event per member, self included');
  await c.stopAll();
});

test('join errors are typed: before start, and when no seed answers', async () => {
  const c = new VirtualCluster();
  const a = await c.add('a');
  await assert.rejects(c.joining(a.node.join(['nobody:7946'])), (e: unknown) => e instanceof MeshError && e.code === 'SWIM_JOIN_FAILED' && e.retryable);
  await assert.rejects(a.node.join(['no-port']), (e: unknown) => e instanceof MeshError && e.code === 'INVALID_ARGUMENT');
  assert.equal(await a.node.join([]), 0);
  await a.node.stop();
  await assert.rejects(a.node.join(['a:1']), (e: unknown) => e instanceof MeshError && e.code === 'NOT_RUNNING');
  await assert.rejects(a.node.start(), (e: unknown) => e instanceof MeshError && e.code === 'NOT_RUNNING');
});

test('start and stop are idempotent; a stopped node answers nothing', async () => {
  const c = new VirtualCluster();
  const h = await c.add('a');
  await Promise.all([h.node.start(), h.node.start()]);
  await Promise.all([h.node.stop(), h.node.stop()]);
  await h.node.stop();
  assert.equal(await h.node.pushPullOnce(), false);
  h.node.probeOnce();
  h.node.gossipOnce();
});

test('a host crash (nothing answers) goes through suspicion to dead everywhere, never through the refused path', async () => {
  const c = new VirtualCluster({ seed: 2 });
  const hosts = await c.startJoined(10);
  await c.run(3000);
  await c.crashHost('n4');
  const rest = others(hosts, 'n4');
  // Bound: first probe (≤ N probe intervals) + probe + max suspicion (24 s at N ≤ 10) + gossip.
  assert.ok(await c.runUntil(() => everyone(rest, (h) => h.stateOf('n4') === 'dead'), 40_000), 'declared dead everywhere');
  assert.ok(rest.some((h) => h.events.some((e) => e.type === 'suspect' && e.member.id === 'n4')), 'suspected first');
  assert.equal(rest.reduce((n, h) => n + h.node.stats().refusedDeaths, 0), 0, 'a timeout is never a refusal');
  assert.ok(everyone(rest, (h) => h.node.liveCount() === 9));
  await c.stopAll();
});

test('a process crash (its port refuses) is declared dead at once, well inside the suspicion timeout', async () => {
  const c = new VirtualCluster({ seed: 3 });
  const hosts = await c.startJoined(10);
  await c.run(2000);
  await c.crashProcess('n7');
  const t0 = c.clock.now();
  const rest = others(hosts, 'n7');
  assert.ok(await c.runUntil(() => everyone(rest, (h) => h.stateOf('n7') === 'dead'), 30_000));
  const took = c.clock.now() - t0;
  assert.ok(took < 4000, `dead everywhere after ${took} ms, under the 4 s minimum suspicion`);
  assert.ok(rest.reduce((n, h) => n + h.node.stats().refusedDeaths, 0) >= 1);
  await c.stopAll();
});

test('with refusedAsDead off, a process crash takes the suspicion path', async () => {
  const c = new VirtualCluster({ seed: 4, config: { refusedAsDead: false } });
  const hosts = await c.startJoined(6);
  await c.crashProcess('n2');
  const rest = others(hosts, 'n2');
  assert.ok(await c.runUntil(() => everyone(rest, (h) => h.stateOf('n2') === 'dead'), 40_000));
  assert.ok(rest.some((h) => h.events.some((e) => e.type === 'suspect' && e.member.id === 'n2')));
  assert.equal(rest.reduce((n, h) => n + h.node.stats().refusedDeaths, 0), 0);
  await c.stopAll();
});

test('a stall shorter than the suspicion timeout kills nobody', async () => {
  const c = new VirtualCluster({ seed: 5 });
  const hosts = await c.startJoined(8);
  await c.run(2000);
  const h = c.host('n3');
  h.stall();
  await c.run(3000); // the minimum suspicion at N = 8 is 4 s, and unconfirmed ones wait 24 s
  h.resume();
  await c.run(10_000);
  for (const x of hosts) assert.ok(x.events.every((e) => e.type !== 'dead'), `${x.name} saw a death`);
  assert.equal(h.node.stats().suspicionsStarted, 0, 'the stalled node accused nobody on waking');
  assert.ok(everyone(hosts, (x) => x.node.liveCount() === 8));
  await c.stopAll();
});

test('a stall past the suspicion timeout: dead everywhere, then it refutes with a higher incarnation and is alive again', async () => {
  const c = new VirtualCluster({ seed: 6 });
  const hosts = await c.startJoined(8);
  await c.run(2000);
  const h = c.host('n5');
  const before = h.node.member('n5')!.incarnation;
  h.stall();
  const rest = others(hosts, 'n5');
  assert.ok(await c.runUntil(() => everyone(rest, (x) => x.stateOf('n5') === 'dead'), 60_000), 'dead everywhere');
  assert.equal(rest.reduce((n, x) => n + x.node.stats().refusedDeaths, 0), 0, 'a stalled process refuses nothing');
  h.resume();
  assert.ok(await c.runUntil(() => everyone(rest, (x) => x.stateOf('n5') === 'alive'), 30_000), 'alive again everywhere');
  const after = h.node.member('n5')!.incarnation;
  assert.ok(after > before, `incarnation ${after} > ${before}`);
  assert.ok(rest.every((x) => x.node.member('n5')!.incarnation === after));
  assert.ok(h.node.stats().refutations >= 1);
  await c.stopAll();
});

test('a node stalled in the middle of its own probe does not accuse the target when it wakes', async () => {
  const c = new VirtualCluster({ seed: 19 });
  const hosts = await c.startJoined(6);
  const h = c.host('n1');
  const target = c.host('n2');
  target.stall(); // the target is silent, so n1's next probe of it stays in flight...
  h.node.probeNow('n2').catch(() => {});
  await c.run(100);
  h.stall(); // ...and n1 stops before its verdict is due
  target.resume();
  await c.run(5000);
  h.resume();
  await c.run(3000);
  assert.equal(h.node.stats().lateProbes, 1);
  assert.equal(h.node.stats().suspicionsStarted, 0);
  assert.ok(hosts.every((x) => x.node.liveCount() === 6));
  await c.stopAll();
});

test('a graceful leave is seen as left (not dead) everywhere, and the leaver stops', async () => {
  const c = new VirtualCluster({ seed: 7 });
  const hosts = await c.startJoined(6);
  const h = c.host('n2');
  await c.joining(h.node.leave());
  const rest = others(hosts, 'n2');
  assert.ok(await c.runUntil(() => everyone(rest, (x) => x.stateOf('n2') === 'left'), 5000));
  assert.ok(rest.every((x) => x.events.some((e) => e.type === 'leave' && e.member.id === 'n2')));
  assert.ok(rest.every((x) => !x.events.some((e) => e.type === 'dead' && e.member.id === 'n2')));
  assert.ok(h.events.some((e) => e.type === 'leave' && e.member.isSelf));
  await c.run(31_000);
  assert.ok(everyone(rest, (x) => x.stateOf('n2') === undefined), 'reaped after deadReapMs');
  await c.stopAll();
});

test('metadata updates disseminate like any state change; oversized metadata is a typed error', async () => {
  const c = new VirtualCluster({ seed: 8 });
  const hosts = await c.startJoined(10);
  const meta = new TextEncoder().encode('{"services":["greeter"]}');
  hosts[4]!.node.setMetadata(meta);
  assert.ok(await c.runUntil(() => everyone(hosts, (h) => h.node.member('n4')!.metaVersion === 1), 5000));
  for (const h of hosts) assert.deepEqual([...h.node.member('n4')!.metadata], [...meta]);
  assert.ok(others(hosts, 'n4').every((h) => h.events.some((e) => e.type === 'update' && e.member.id === 'n4')));
  assert.throws(() => hosts[4]!.node.setMetadata(new Uint8Array(513)),
    (e: unknown) => e instanceof MeshError && e.code === 'SWIM_META_TOO_LARGE' && /513 bytes.*512/.test(e.detail));
  await c.stopAll();
});

test('a partition longer than the reap time splits the cluster; a re-join through a seed heals it', async () => {
  const c = new VirtualCluster({ seed: 9, profile: 'local' });
  const hosts = await c.startJoined(8);
  const left = ['n0', 'n1', 'n2', 'n3'];
  const right = ['n4', 'n5', 'n6', 'n7'];
  c.packets.partition([left, right]);
  const sideOf = (h: SimHost) => (left.includes(h.name) ? left : right);
  assert.ok(await c.runUntil(() => everyone(hosts, (h) => h.node.liveCount() === 4), 60_000), 'two clusters of four');
  await c.run(20_000); // past deadReapMs (15 s in local): each side forgets the other
  assert.ok(everyone(hosts, (h) => h.node.members().every((m) => sideOf(h).includes(m.id))));
  c.packets.heal();
  // The mesh layer re-bootstraps periodically through seeds (mDNS or static): here, n5 re-joins through n0.
  assert.equal(await c.joining(c.host('n5').node.join(['n0:7946'])), 1);
  assert.ok(await c.runUntil(() => everyone(hosts, (h) => h.node.liveCount() === 8), 30_000), 'one cluster again');
  await c.stopAll();
});

test('nodes with another key, no key, or another cluster name never merge', async () => {
  const key = new Uint8Array(32).fill(1);
  const c = new VirtualCluster({ seed: 10 });
  const a = await c.add('a', { keys: [key], config: { clusterName: 'prod' } });
  const b = await c.add('b', { keys: [key], config: { clusterName: 'prod' } });
  const wrongKey = await c.add('wk', { keys: [new Uint8Array(32).fill(2)], config: { clusterName: 'prod' } });
  const noKey = await c.add('nk', { config: { clusterName: 'prod' } });
  const wrongCluster = await c.add('wc', { keys: [key], config: { clusterName: 'staging' } });
  assert.equal(await c.joining(b.node.join(['a:7946'])), 1);
  for (const h of [wrongKey, noKey, wrongCluster]) {
    await assert.rejects(c.joining(h.node.join(['a:7946'])), (e: unknown) => e instanceof MeshError && e.code === 'SWIM_JOIN_FAILED');
  }
  await c.run(5000);
  for (const h of [a, b]) assert.deepEqual(h.node.members().map((m) => m.id).sort(), ['a', 'b']);
  for (const h of [wrongKey, noKey, wrongCluster]) assert.deepEqual(h.node.members().map((m) => m.id), [h.name]);
  const s = a.node.stats();
  assert.ok(s.droppedUndecryptable >= 1 && s.droppedUnencrypted >= 1 && s.droppedWrongCluster >= 1, JSON.stringify(s));
  await c.stopAll();
});

test('keys rotate without downtime: add everywhere, use, remove', async () => {
  const k1 = new Uint8Array(32).fill(1);
  const k2 = new Uint8Array(32).fill(2);
  const c = new VirtualCluster({ seed: 12 });
  const hosts = await c.startJoined(4, { keys: [k1] });
  for (const h of hosts) h.node.keyring!.addKey(k2);
  hosts[0]!.node.keyring!.useKey(k2);
  await c.run(3000);
  for (const h of hosts.slice(1)) h.node.keyring!.useKey(k2);
  for (const h of hosts) h.node.keyring!.removeKey(k1);
  await c.run(10_000);
  assert.ok(everyone(hosts, (h) => h.node.liveCount() === 4 && h.node.stats().suspicionsSeen === 0));
  await c.stopAll();
});

test('under 10 % packet loss nobody healthy is declared dead', async () => {
  const c = new VirtualCluster({ seed: 13, loss: 0.1 });
  const hosts = await c.startJoined(16);
  await c.run(120_000, 20);
  for (const h of hosts) assert.ok(h.events.every((e) => e.type !== 'dead'), `${h.name} declared someone dead`);
  assert.ok(everyone(hosts, (h) => h.node.liveCount() === 16));
  await c.stopAll();
});

test('two processes with one name: the older one reports a conflict and stops refuting', async () => {
  const c = new VirtualCluster({ seed: 14 });
  await c.startJoined(4);
  const dup = await c.add('dup-host', { name: 'n1', incarnation: Number.MAX_SAFE_INTEGER - 10 });
  await c.joining(dup.node.join(['n0:7946']));
  const original = c.host('n1');
  assert.ok(await c.runUntil(() => original.events.some((e) => e.type === 'conflict'), 60_000));
  const ev = original.events.find((e) => e.type === 'conflict')!;
  assert.ok(ev.type === 'conflict' && ev.otherAddress === 'dup-host:7946');
  assert.equal(original.node.stats().nameConflicts, 1);
  await c.run(5000);
  assert.equal(c.host('n0').node.member('n1')!.address, 'dup-host:7946', 'the newer process owns the name');
  await c.stopAll();
});

test('a node restarted under the same name comes back at once with its higher incarnation', async () => {
  const c = new VirtualCluster({ seed: 15 });
  const hosts = await c.startJoined(5);
  await c.run(1000);
  await c.crashProcess('n2');
  c.hosts.delete('n2');
  await c.run(1); // the restart happens later in (virtual) wall time
  const again = await c.add('n2');
  await c.joining(again.node.join(['n0:7946']));
  assert.ok(await c.runUntil(() => everyone(others(hosts, 'n2'), (h) => h.stateOf('n2') === 'alive'), 10_000));
  assert.ok(await c.runUntil(() => again.node.liveCount() === 5, 10_000));
  await c.stopAll();
});

test('events are delivered in order and never re-entrantly, even when a listener calls back into the node', async () => {
  const c = new VirtualCluster({ seed: 16 });
  const hosts = await c.startJoined(3);
  const node = hosts[0]!.node;
  const seen: string[] = [];
  let depth = 0;
  node.on('*', (e) => {
    depth++;
    assert.equal(depth, 1, 're-entrant delivery');
    seen.push(`${e.type}:${e.member.id}:${e.member.metaVersion}`);
    if (e.type === 'update' && e.member.isSelf && e.member.metaVersion < 3) node.setMetadata(new Uint8Array([e.member.metaVersion]));
    depth--;
  });
  node.on('update', () => {
    throw new Error('a broken listener');
  });
  node.setMetadata(new Uint8Array([9]));
  assert.deepEqual(seen, ['update:n0:1', 'update:n0:2', 'update:n0:3']);
  assert.equal(node.stats().listenerErrors, 3);
  await c.stopAll();
});

test('probeNow and reportUnreachable: alive, refused → dead at once, unknown targets', async () => {
  const c = new VirtualCluster({ seed: 17 });
  const hosts = await c.startJoined(5);
  const n0 = hosts[0]!.node;
  assert.equal(await c.joining(n0.probeNow('n1')), 'alive');
  assert.equal(await c.joining(n0.probeNow('n1:7946')), 'alive', 'by address');
  assert.equal(await n0.probeNow('nobody'), 'unknown');
  assert.equal(n0.reportUnreachable('nobody', { refused: true }), false);
  await c.crashProcess('n3');
  assert.equal(n0.reportUnreachable('n3', { refused: true }), true);
  assert.ok(await c.runUntil(() => n0.member('n3')!.state === 'dead', 200), 'dead within a round trip or two');
  assert.equal(n0.stats().refusedDeaths, 1);
  // A refusal from somewhere other than the member's SWIM port is not believed on its own.
  assert.equal(n0.reportUnreachable('n1', { refused: true }), true);
  await c.run(3000);
  assert.equal(n0.member('n1')!.state, 'alive');
  await c.stopAll();
});

test('garbage packets are dropped and counted; the node carries on', async () => {
  const c = new VirtualCluster({ seed: 18 });
  const hosts = await c.startJoined(3);
  const attacker = await c.packets.bind('evil:1');
  for (let i = 0; i < 200; i++) attacker.send('n0:7946', c.random.bytes(1 + c.random.int(300)));
  attacker.send('n0:7946', new Uint8Array([1, 0, 0, 0xff, 0xff]));
  attacker.send('n0:7946', new Uint8Array([1, 0, 0, 0x82, 0x18, 0x63, 0x01])); // [99, 1]: an unknown type
  await c.run(2000);
  const s = hosts[0]!.node.stats();
  assert.ok(s.droppedMalformed + s.droppedBadVersion + s.droppedWrongCluster >= 150, JSON.stringify(s));
  assert.equal(s.unknownMessages, 1);
  assert.ok(everyone(hosts, (h) => h.node.liveCount() === 3));
  await c.stopAll();
});
