// RPC across real processes on 127.0.0.1: the end-to-end list.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { createService, silentLogger, StaticRegistry, DefaultSelector, MeshError, parseHostPort } from 'micromesh';
import { spawnTs, type Child } from '../support/process.ts';

const fixture = fileURLToPath(new URL('./fixtures/rpc-server.ts', import.meta.url));
const started: Child[] = [];
after(async () => {
  await Promise.all(started.map((c) => c.kill('SIGKILL')));
});

async function server(env: Record<string, string> = {}): Promise<{ child: Child; address: string }> {
  const child = spawnTs(fixture, [], env);
  started.push(child);
  const m = await child.waitFor(/^READY (\S+) (\d+)/);
  return { child, address: m[1]! };
}

function client(addresses: string[], strategy: 'random' | 'roundRobin' = 'random', maxFrameBytes?: number) {
  const registry = new StaticRegistry({ services: { e2e: addresses } });
  const selector = new DefaultSelector({ registry, options: { strategy } });
  return createService({ name: 'e2e-client', registry, selector, logger: silentLogger, rpc: { maxFrameBytes } });
}

const isCode = (c: string) => (e: unknown) => e instanceof MeshError && e.code === c;

test('unary and all three stream kinds across processes', async () => {
  const { address } = await server();
  const svc = client([address]);
  const c = svc.client;
  assert.deepEqual(await c.call('e2e', 'Test.Echo', { hello: 'world', n: [1, 2] }), { hello: 'world', n: [1, 2] });
  assert.deepEqual(await c.call('e2e', 'Test.Echo', { json: true }, { contentType: 'application/json' }), { json: true });
  const seen: number[] = [];
  for await (const m of await c.stream<unknown, { i: number }>('e2e', 'Test.Count', { n: 1000 })) seen.push(m.i);
  assert.equal(seen.length, 1000);
  assert.equal(seen[999], 999);
  const sum = await c.stream<{ n: number }, { sum: number }>('e2e', 'Test.Sum');
  for (let n = 1; n <= 1000; n++) await sum.send({ n });
  assert.deepEqual(await sum.response(), { sum: 500_500 });
  const upper = await c.stream<string, string>('e2e', 'Test.Upper');
  const words = ['alpha', 'beta', 'gamma'];
  const replies: string[] = [];
  const reading = (async () => { for await (const r of upper) replies.push(r); })();
  for (const w of words) await upper.send(w);
  upper.end();
  await reading;
  assert.deepEqual(replies, ['ALPHA', 'BETA', 'GAMMA']);
  await svc.stop();
});

test('cancellation and deadline expiry reach the handler in the other process', async () => {
  const { child, address } = await server();
  const svc = client([address]);
  const ac = new AbortController();
  const call = svc.client.call('e2e', 'Test.Slow', { ms: 30_000 }, { signal: ac.signal });
  await child.waitFor(/^CALL Slow/);
  ac.abort();
  await assert.rejects(call, isCode('CANCELLED'));
  await child.waitFor(/^ABORT CANCELLED/);
  await assert.rejects(svc.client.call('e2e', 'Test.Slow', { ms: 30_000 }, { timeoutMs: 200, retries: 0 }), isCode('TIMEOUT'));
  await child.waitFor(/^ABORT TIMEOUT/);
  await svc.stop();
});

test('a call in flight on a SIGKILLed replica is retried on the other replica', async () => {
  const a = await server();
  const b = await server();
  const svc = client([a.address, b.address], 'roundRobin');
  const call = svc.client.call<{ pid: number }>('e2e', 'Test.Slow', { ms: 1500 }, { timeoutMs: 10_000 });
  // Whichever replica got it prints CALL; kill that one mid-call.
  const first = await Promise.race([a, b].map((s) => s.child.waitFor(/^CALL Slow/).then(() => s)));
  const other = first === a ? b : a;
  await first.child.kill('SIGKILL');
  const r = await call;
  assert.equal(r.pid, other.child.pid, 'answered by the surviving replica');
  assert.ok(svc.stats().retries >= 1);
  await svc.stop();
});

test('an oversized request or response fails clearly; the connection keeps serving', async () => {
  // Each side enforces its own limit on what it receives and respects the peer's on what it sends.
  const { address } = await server({ MAX_FRAME_BYTES: String(256 * 1024) });
  const svc = client([address], 'random', 256 * 1024);
  const c = svc.client;
  await assert.rejects(c.call('e2e', 'Test.Big', { bytes: 1 << 20 }), (e: unknown) =>
    e instanceof MeshError && e.code === 'FRAME_TOO_LARGE' && /response of \d+ bytes exceeds the limit of 262144/.test(e.detail));
  await assert.rejects(c.call('e2e', 'Test.Echo', { blob: new Uint8Array(1 << 20) }), (e: unknown) =>
    e instanceof MeshError && e.code === 'FRAME_TOO_LARGE' && /request of \d+ bytes/.test(e.detail));
  assert.deepEqual(await c.call('e2e', 'Test.Echo', { small: 1 }), { small: 1 });
  assert.equal(svc.stats().connectionsOpened, 1);
  await svc.stop();
});

test('random bytes into the server port do not hurt the server', async () => {
  const { child, address } = await server();
  const { host, port } = parseHostPort(address);
  for (let round = 0; round < 20; round++) {
    await new Promise<void>((resolve) => {
      const s = net.connect({ host, port }, () => {
        const junk = Buffer.alloc(1 + ((round * 977) % 5000));
        for (let i = 0; i < junk.length; i++) junk[i] = (i * 131 + round * 7) & 0xff;
        s.write(junk);
        setTimeout(() => s.destroy(), 20);
      });
      s.on('error', () => {});
      s.on('close', () => resolve());
    });
  }
  const svc = client([address]);
  assert.deepEqual(await svc.client.call('e2e', 'Test.Pid', {}), { pid: child.pid });
  assert.equal(child.proc.exitCode, null, 'server still running');
  await svc.stop();
});

test('10,000 concurrent calls across processes leave no handles or listeners behind', async () => {
  const { address } = await server();
  const before = new Set(process.getActiveResourcesInfo().map((r, i) => `${r}#${i}`)).size;
  const svc = client([address]);
  const results = await Promise.all(Array.from({ length: 10_000 }, (_, i) => svc.client.call<{ i: number }>('e2e', 'Test.Echo', { i })));
  assert.equal(results.filter((r, i) => r.i === i).length, 10_000);
  await svc.stop();
  await new Promise((r) => setTimeout(r, 50));
  const resources = process.getActiveResourcesInfo();
  assert.ok(resources.length <= before, `handles leaked: ${resources.join(', ')}`);
});
