import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamWait } from '../../../src/pubsub/gossip/stream-wait.ts';

test('stream wait: waits for the youngest missing stream, gives up after waitMs, and starts over after a stream came', () => {
  const w = new StreamWait(1000);
  assert.equal(w.remaining([], 0), 0, 'nothing missing: send now');
  assert.equal(w.remaining(['a'], 0), 1000);
  assert.equal(w.remaining(['a'], 400), 600);
  assert.equal(w.remaining(['a', 'b'], 500), 1000, 'b just started waiting');
  assert.equal(w.remaining(['a'], 1000), 0, 'a waited long enough');
  assert.equal(w.remaining(['a'], 5000), 0, 'and is not waited for again');
  w.retain((id) => id === 'b');
  assert.equal(w.size, 1);
  assert.equal(w.remaining(['a'], 6000), 1000, 'a had a stream meanwhile: a new gap is a new wait');
  w.clear();
  assert.equal(w.size, 0);
  assert.equal(new StreamWait(0).remaining(['a'], 0), 0, '0 never waits');
});
