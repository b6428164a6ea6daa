// Idle connections close gracefully (GoAway "idle" answered by the peer) and the next call dials
// again; a stream in progress keeps its connection; calls racing the idle close never fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createService, MemoryRegistry, silentLogger, type RpcConfig } from 'micromesh';

const FAST: Partial<RpcConfig> = { idleTimeoutMs: 200, keepaliveIntervalMs: 50, keepaliveTimeoutMs: 1000 };

async function pair(t: { after: (fn: () => Promise<void>) => void }, server: Partial<RpcConfig>, client: Partial<RpcConfig>) {
  const registry = new MemoryRegistry();
  const a = createService({ name: 'echo', registry, logger: silentLogger, rpc: server }).handle('E', {
    Say: (r: unknown) => r,
    async *Slow(r: { n: number; ms: number }) {
      for (let i = 0; i < r.n; i++) {
        await sleep(r.ms);
        yield i;
      }
    },
  });
  await a.start();
  const b = createService({ name: 'caller', registry, logger: silentLogger, rpc: client });
  t.after(async () => {
    await b.stop();
    await a.stop();
  });
  return { a, b };
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await sleep(10)) if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
}

test('an idle connection closes on both sides, counted; the next call opens a new one', async (t) => {
  const { a, b } = await pair(t, FAST, FAST);
  assert.deepEqual(await b.client.call('echo', 'E.Say', { x: 1 }), { x: 1 });
  assert.equal(b.stats().connectionsOpened, 1);
  await until('the idle close', () => b.stats().connectionsClosed === 1 && a.stats().connectionsClosed === 1);
  assert.ok(a.stats().idleClosed + b.stats().idleClosed >= 1);
  assert.deepEqual(await b.client.call('echo', 'E.Say', { x: 2 }), { x: 2 });
  assert.equal(b.stats().connectionsOpened, 2);
});

test('a stream that runs longer than the idle timeout keeps its connection', async (t) => {
  const { b } = await pair(t, FAST, FAST);
  const got: number[] = [];
  for await (const i of await b.client.stream<unknown, number>('echo', 'E.Slow', { n: 8, ms: 80 })) got.push(i);
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(b.stats().connectionsClosed, 0, 'no close while the stream ran (640 ms > idle 200 ms)');
});

test('calls made around the moment the peer goes idle all succeed, without retries', async (t) => {
  // The server closes idle connections; the client never does on its own. Calls land on both sides of the close.
  const { a, b } = await pair(t, FAST, { idleTimeoutMs: 0 });
  for (let i = 0; i < 40; i++) {
    assert.deepEqual(await b.client.call('echo', 'E.Say', { i }, { retries: 0 }), { i });
    await sleep(180 + (i % 7) * 10);
  }
  assert.ok(a.stats().idleClosed >= 1, 'the server closed idle connections meanwhile');
  assert.equal(b.stats().callsFailed, 0);
});
