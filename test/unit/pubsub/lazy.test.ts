import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnTs } from '../../support/process.ts';

test("import('micromesh') does not load libp2p; a gossip broker loads it when it starts", async () => {
  const child = spawnTs(new URL('./fixtures/lazy-import.ts', import.meta.url).pathname);
  const phases: Record<string, string[]> = {};
  for (const phase of ['root', 'constructed', 'started']) {
    const m = await child.waitFor(new RegExp(`"phase":"${phase}"`), 30_000);
    phases[phase] = JSON.parse(m.input).loaded;
  }
  await child.kill();
  assert.deepEqual(phases.root, [], `libp2p modules loaded by the root import: ${phases.root}`);
  assert.deepEqual(phases.constructed, [], 'constructing a gossip broker must not load libp2p either');
  assert.ok(phases.started!.includes('libp2p') && phases.started!.includes('@libp2p/gossipsub'), `after start: ${phases.started}`);
});
