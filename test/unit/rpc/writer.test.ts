// FrameWriter's flush modes: `tick` writes at the end of the current
// callback; `iteration` waits for the end of the event-loop iteration, so
// frames queued by separate I/O callbacks of one iteration share a write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameWriter } from '../../../src/rpc/writer.ts';
import { resolveRpcConfig } from '../../../src/rpc/config.ts';
import type { Socket } from '../../../src/transport/types.ts';

function recorder(): { socket: Socket; writes: number[] } {
  const writes: number[] = [];
  const socket = { write: (b: Uint8Array) => { writes.push(b.length); return true; } } as unknown as Socket;
  return { socket, writes };
}

/**
 * Queues one frame from each of `n` separate macrotasks of one loop
 * iteration: immediates queued together all run in the same check phase
 * (timers due "together" may straddle a millisecond under load and land in
 * two iterations, which made this test fail once in CI).
 */
async function framesFromSeparateCallbacks(w: FrameWriter, n: number): Promise<void> {
  await new Promise<void>((resolve) => {
    let left = n;
    for (let i = 0; i < n; i++) setImmediate(() => { w.frame(1, 0, i, new Uint8Array(10)); if (--left === 0) resolve(); });
  });
  await new Promise((r) => setImmediate(r));
}

test('tick: frames of separate callbacks are written separately', async () => {
  const { socket, writes } = recorder();
  await framesFromSeparateCallbacks(new FrameWriter(socket, 2048, 'tick'), 5);
  assert.equal(writes.length, 5);
});

test('iteration: frames of separate callbacks in one loop iteration share one write', async () => {
  const { socket, writes } = recorder();
  await framesFromSeparateCallbacks(new FrameWriter(socket, 2048, 'iteration'), 5);
  assert.equal(writes.length, 1);
});

test('flushBytes writes early in both modes', () => {
  for (const mode of ['tick', 'iteration'] as const) {
    const { socket, writes } = recorder();
    const w = new FrameWriter(socket, 256, mode);
    for (let i = 0; i < 30; i++) w.frame(1, 0, i, new Uint8Array(10));
    assert.ok(writes.length >= 1, `${mode}: wrote before the end of the turn`);
  }
});

test('rpc.flush is validated: tick (default) or iteration', () => {
  assert.equal(resolveRpcConfig().flush, 'tick');
  assert.equal(resolveRpcConfig({ flush: 'iteration' }).flush, 'iteration');
  assert.throws(() => resolveRpcConfig({ flush: 'sometimes' as never }), /rpc\.flush must be one of tick, iteration/);
});
