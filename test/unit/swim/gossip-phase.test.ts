// The gossip loop sleeps while nothing is queued; when news arrives it must
// wake on the loop's own phase, as a free-running ticker would, not a whole
// interval after the news (which would add a full interval to every hop).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualCluster } from '../../sim/cluster.ts';

test('an idle gossip loop, woken by news, keeps the phase it started with', async () => {
  const c = new VirtualCluster({ seed: 41 });
  const hosts = await c.startJoined(4);
  const a = hosts[0]!.node;
  await c.run(5000); // the join's news is spent: the loop sleeps
  const loopRounds = (): number => a.stats().gossipRounds - a.stats().eagerGossipRounds;
  const phases = new Set<number>();
  for (const wait of [1234, 2871, 4309, 3003]) {
    await c.run(wait, 1); // news at moments unrelated to the loop's phase
    a.setMetadata(new Uint8Array([wait & 0xff]));
    for (let t = 0; t < 1000; t++) {
      const before = loopRounds();
      await c.run(1, 1);
      if (loopRounds() > before) phases.add(Math.round(c.clock.now()) % a.config.gossipIntervalMs);
    }
  }
  assert.equal(phases.size, 1, `loop rounds fell on phases ${[...phases].join(', ')} (ms into the interval)`);
  await c.stopAll();
});
