import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lifecycle } from '../../../src/lifecycle/lifecycle.ts';

test('start and stop are idempotent; stop without start is a no-op', async () => {
  const l = new Lifecycle();
  let starts = 0;
  let stops = 0;
  const start = async () => { starts++; };
  const stop = async () => { stops++; };
  await l.stop(stop);
  assert.equal(stops, 0);
  await Promise.all([l.start(start), l.start(start)]);
  await l.start(start);
  assert.equal(starts, 1);
  assert.equal(l.state, 'running');
  await Promise.all([l.stop(stop), l.stop(stop)]);
  assert.equal(stops, 1);
  assert.equal(l.state, 'stopped');
});

test('a start during a stop waits for it; a failed start leaves it stopped', async () => {
  const l = new Lifecycle();
  const log: string[] = [];
  await l.start(async () => { log.push('start1'); });
  let release!: () => void;
  const stopping = l.stop(() => new Promise<void>((r) => { log.push('stop-begin'); release = () => { log.push('stop-end'); r(); }; }));
  const restarting = l.start(async () => { log.push('start2'); });
  await new Promise((r) => setImmediate(r));
  release();
  await stopping;
  await restarting;
  assert.deepEqual(log, ['start1', 'stop-begin', 'stop-end', 'start2']);
  const f = new Lifecycle();
  await assert.rejects(f.start(async () => { throw new Error('no port'); }), /no port/);
  assert.equal(f.state, 'stopped');
  await f.start(async () => {});
  assert.equal(f.state, 'running');
});
