// A node that was paused for less than a probe interval (a GC pause, a busy
// event loop) wakes with its timers due and its socket full. Node runs the
// timers first; these tests check that SWIM reads what already arrived
// before it convicts or suspects on such a late timer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualCluster } from '../../sim/cluster.ts';

/** n1's suspicion timer of n3 fires 300 ms late, with n3's refutation waiting in n1's inbox. */
async function lateSuspicionTimer(stallAwareTimers: boolean) {
  // A fixed 2 s suspicion timeout that wants no confirmations (k = suspicionMult − 2 = 0),
  // so the deadline is known and nothing but the timer decides.
  const c = new VirtualCluster({ seed: 31, config: { suspicionMult: 2, suspicionMaxTimeoutMult: 1, stallAwareTimers } });
  const hosts = await c.startJoined(6);
  await c.run(2000);
  const [, n1, , n3] = hosts as [unknown, (typeof hosts)[0], unknown, (typeof hosts)[0]];
  n3.stall();
  assert.ok(await c.runUntil(() => n1.stateOf('n3') === 'suspect', 10_000), 'n1 suspects the silent n3');
  const deadline = n1.node.member('n3')!.stateChangedAtMs + 2000;
  await c.run(500);
  const before = n3.node.member('n3')!.incarnation;
  n1.stall(); // n1 pauses across its own deadline...
  n3.resume(); // ...while n3 wakes and refutes; the refutation waits in n1's socket
  assert.ok(await c.runUntil(() => n3.node.member('n3')!.incarnation > before, 2500), 'n3 refuted while n1 was paused');
  assert.equal(n1.stateOf('n3'), 'suspect', 'n1 has not read the refutation yet');
  await c.run(deadline + 300 - c.clock.now()); // n1 wakes 300 ms late: less than a probe interval
  n1.resume();
  await c.run(200);
  const convicted = n1.events.some((e) => e.type === 'dead' && e.member.id === 'n3');
  const deferred = n1.node.stats().lateTimersDeferred;
  await c.stopAll();
  return { convicted, deferred };
}

test('a suspicion timer that fires late reads the refutation waiting in the inbox before convicting', async () => {
  const r = await lateSuspicionTimer(true);
  assert.equal(r.convicted, false, 'n1 never declared n3 dead');
  assert.ok(r.deferred >= 1);
});

test('with stallAwareTimers off (memberlist), the same late timer convicts the member whose refutation is unread', async () => {
  const r = await lateSuspicionTimer(false);
  assert.equal(r.convicted, true);
  assert.equal(r.deferred, 0);
});

test('a probe verdict that falls due while the node is paused reads the relayed acks waiting in the inbox before suspecting', async () => {
  const c = new VirtualCluster({ seed: 32 });
  const hosts = await c.startJoined(5);
  await c.run(2000);
  const n1 = hosts[1]!;
  // n2's answers to n1 are lost (direct acks, and the TCP fallback's handshake): only relays can vouch for it.
  c.packets.setLink('n2', 'n1', { loss: 1 });
  const probe = n1.node.probeNow('n2');
  await c.run(500); // the direct ping timed out and the indirect pings are out; relayed acks arrive in a few ms...
  n1.stall(); // ...but n1 is paused until past its verdict (1 s), by less than a probe interval
  await c.run(1000);
  n1.resume();
  assert.equal(await c.joining(probe), 'alive');
  assert.equal(n1.node.stats().suspicionsStarted, 0);
  assert.ok(n1.node.stats().lateTimersDeferred >= 1);
  await c.stopAll();
});
