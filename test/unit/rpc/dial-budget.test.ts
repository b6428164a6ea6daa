// A call's timeout covers reaching the node, not only waiting for its answer: a host that swallows connection
// attempts costs the call its own timeout (then a retry on another node), never the pool's 5 s dial timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../../src/clock/virtual.ts';
import { MeshError } from '../../../src/errors/index.ts';
import { MemoryRegistry } from '../../../src/registry/memory.ts';
import { DefaultSelector } from '../../../src/selector/selector.ts';
import { MemoryNetwork } from '../../../src/transport/memory.ts';
import type { DialOptions, Transport } from '../../../src/transport/types.ts';
import { makePeer } from '../../support/rpc-peer.ts';

async function settle(clock: VirtualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 10) {
    clock.advance(10);
    await new Promise((r) => setImmediate(r));
  }
}

/** `inner`, but every connection takes `ms` to open (a slow handshake). */
function slowDialing(inner: Transport, clock: VirtualClock, ms: number): Transport {
  return Object.assign(Object.create(inner) as Transport, {
    dial: async (address: string, opts?: DialOptions) => {
      await clock.sleep(ms);
      return inner.dial(address, opts);
    },
  });
}

/** A greeter replica on host `live` and a registered one on host `gone`, which swallows connection attempts. */
async function goneAndLive(clock: VirtualClock) {
  const net = new MemoryNetwork({ clock });
  net.setHostReachable('gone', false);
  const live = makePeer(net.transport('live'), { name: 'greeter', address: 'live:0', clock });
  live.server.handle('Greeter', { Hello: () => ({ msg: 'hi' }) });
  await live.server.start();
  const registry = new MemoryRegistry();
  await registry.register({ name: 'greeter', version: '1', metadata: {}, endpoints: [], nodes: [
    { id: 'gone', address: 'gone:1', metadata: {} }, { id: 'live', address: live.server.address!, metadata: {} }] });
  return { net, live, registry };
}

test('a unary call to an unreachable host fails with TIMEOUT after the call timeout, not the dial timeout', async () => {
  const clock = new VirtualClock();
  const net = new MemoryNetwork({ clock });
  net.setHostReachable('gone', false);
  const client = makePeer(net.transport('caller'), { name: 'caller', address: 'caller:0', clock, config: { dialTimeoutMs: 5000 } });
  const seen: { outcome?: unknown } = {};
  const p = client.client.call('greeter', 'Greeter.Hello', {}, { address: 'gone:1', timeoutMs: 300, retries: 0 }).then(
    () => { seen.outcome = 'answered'; }, (e: unknown) => { seen.outcome = e; });
  await settle(clock, 290);
  assert.equal(seen.outcome, undefined, 'still within its timeout');
  await settle(clock, 30);
  const e = seen.outcome as unknown; // not the undefined it was narrowed to above
  assert.ok(e instanceof MeshError && e.code === 'TIMEOUT', `TIMEOUT at 300 ms, got ${String(e)}`);
  await settle(clock, 5000); // the shared dial runs out in the pool; nothing else happens
  await p;
  await client.stop();
});

test('the time spent dialling comes off the answer\'s wait: the attempt ends at its timeout in total', async () => {
  const clock = new VirtualClock();
  const net = new MemoryNetwork({ clock });
  const server = makePeer(net.transport('srv'), { name: 'greeter', address: 'srv:0', clock });
  server.server.handle('Greeter', { Never: () => new Promise(() => {}) });
  await server.server.start();
  // Connecting takes 150 ms (a slow handshake); the handler never answers.
  const client = makePeer(slowDialing(net.transport('caller'), clock, 150), { name: 'caller', address: 'caller:0', clock });
  let failedAt = -1;
  const p = client.client.call('greeter', 'Greeter.Never', {}, { address: server.server.address!, timeoutMs: 400, retries: 0 })
    .catch((e: unknown) => {
      assert.ok(e instanceof MeshError && e.code === 'TIMEOUT', String(e));
      failedAt = clock.now();
    });
  await settle(clock, 700);
  assert.ok(failedAt >= 400 && failedAt < 520, `timed out ${failedAt} ms after the call began (timeout 400 ms)`);
  await p;
  await client.stop();
  await server.stop();
});

test('a call whose first node cannot be reached within its timeout is retried on another node', async () => {
  const clock = new VirtualClock();
  const { net, live, registry } = await goneAndLive(clock);
  const selector = new DefaultSelector({ registry, clock, options: { strategy: 'roundRobin' } });
  const client = makePeer(net.transport('caller'), { name: 'caller', address: 'caller:0', clock, selector });
  const answers: unknown[] = [];
  const calls = [0, 1].map(() => client.client.call('greeter', 'Greeter.Hello', {}, { timeoutMs: 250, retries: 1 }).then((r) => answers.push(r)));
  await settle(clock, 600);
  assert.deepEqual(answers, [{ msg: 'hi' }, { msg: 'hi' }]);
  await Promise.all(calls);
  assert.ok(client.stats.get('retries') >= 1);
  selector.close();
  await settle(clock, 5000);
  await client.stop();
  await live.stop();
});

test('a dial still pending after silenceSuspectMs sends its calls to another node at once, even with retries: 0', async () => {
  const clock = new VirtualClock();
  const { net, live, registry } = await goneAndLive(clock);
  const selector = new DefaultSelector({ registry, clock, options: { strategy: 'roundRobin', slowStartMs: 0 } });
  const client = makePeer(net.transport('caller'), { name: 'caller', address: 'caller:0', clock, selector, onSilence: (a, on) => selector.suspect(a, on) });
  const answeredAt: number[] = [];
  const calls = [0, 1, 2, 3].map(() => client.client.call('greeter', 'Greeter.Hello', {}, { timeoutMs: 2000, retries: 0 }).then(() => answeredAt.push(clock.now())));
  await settle(clock, 400);
  assert.equal(answeredAt.length, 4, 'all four answered (by live)');
  assert.ok(Math.max(...answeredAt) < 400, `the ones sent to the hung dial moved on at silenceSuspectMs (200 ms), not at 2 s: ${answeredAt.join(', ')}`);
  await Promise.all(calls);
  selector.close();
  await settle(clock, 5000);
  await client.stop();
  await live.stop();
});

test('a service whose only node connects slowly (300 ms) is still called: the call waits on the dial it came back to', async () => {
  const clock = new VirtualClock();
  const net = new MemoryNetwork({ clock });
  const server = makePeer(net.transport('srv'), { name: 'greeter', address: 'srv:0', clock });
  server.server.handle('Greeter', { Hello: () => ({ msg: 'hi' }) });
  await server.server.start();
  const slow = slowDialing(net.transport('caller'), clock, 300);
  const registry = new MemoryRegistry();
  await registry.register({ name: 'greeter', version: '1', metadata: {}, endpoints: [], nodes: [{ id: 'srv', address: server.server.address!, metadata: {} }] });
  const selector = new DefaultSelector({ registry, clock });
  const client = makePeer(slow, { name: 'caller', address: 'caller:0', clock, selector, onSilence: (a, on) => selector.suspect(a, on) });
  const seen: { outcome?: unknown } = {};
  const p = client.client.call('greeter', 'Greeter.Hello', {}, { timeoutMs: 2000, retries: 0 }).then((r) => { seen.outcome = r; }, (e: unknown) => { seen.outcome = e; });
  await settle(clock, 600);
  assert.deepEqual(seen.outcome, { msg: 'hi' });
  await p;
  selector.close();
  await client.stop();
  await server.stop();
});

test('a peer that was slow to reach (a WAN) is given as long the next time: 4 × its last connect time before calls go elsewhere', async () => {
  const clock = new VirtualClock();
  const net = new MemoryNetwork({ clock });
  const server = makePeer(net.transport('far'), { name: 'greeter', address: 'far:0', clock });
  server.server.handle('Greeter', { Hello: () => ({ msg: 'hi' }) });
  await server.server.start();
  const client = makePeer(slowDialing(net.transport('caller'), clock, 300), { name: 'caller', address: 'caller:0', clock });
  const address = server.server.address!;
  const outcome = (p: Promise<unknown>, into: { v?: unknown }): void => void p.then((s) => { into.v = s; }, (e: unknown) => { into.v = e; });
  const first: { v?: unknown } = {};
  outcome(Promise.resolve(client.pool.get(address, undefined, true)), first);
  await settle(clock, 250);
  assert.ok(first.v instanceof MeshError && first.v.code === 'UNAVAILABLE' && /within 200 ms \(rpc\.silenceSuspectMs\)/.test(first.v.detail), String(first.v));
  await settle(clock, 100); // the dial itself completes at 300 ms and is remembered
  for (const s of client.pool.sessionsOpen()) s.close();
  await settle(clock, 20);
  const second: { v?: unknown } = {};
  outcome(Promise.resolve(client.pool.get(address, undefined, true)), second);
  await settle(clock, 400);
  assert.ok(second.v !== undefined && !(second.v instanceof Error), `the second dial was waited for: ${String(second.v)}`);
  await client.stop();
  await server.stop();
});
