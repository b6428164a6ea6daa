// A partition long enough that both sides forgot each other, then healed: the mesh is one
// again through the periodic re-join, and a burst of members new to a node brings its next
// push-pull forward, so gossip's tail (a node missing a few of the burst) does not wait for
// the 30 s push-pull cadence. Virtual time: the figures are the simulated clock's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOptions, type SimOptions } from './options.ts';
import { runOnce } from './run.ts';

test('partition past the reap time, then heal: one membership within seconds, not a push-pull period (seeds that waited 30 s before)', async () => {
  for (const seed of [3, 4, 5]) {
    const o = parseOptions(['--scenario', 'partition', '--nodes', '100', '--reap', '--seed', String(seed)]);
    assert.notEqual(o, 'help');
    const r = await runOnce(o as SimOptions, seed);
    assert.equal(r.falsePositives, 0, `seed ${seed}: no false positive`);
    assert.ok(r.convergeMs !== null && r.convergeMs < 10_000, `seed ${seed}: one membership ${r.convergeMs} ms after the heal (the re-join and push-pull period is 30 s)`);
  }
});
