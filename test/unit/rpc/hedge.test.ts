// Hedged calls (CallOptions.hedge): a second attempt on another node after the delay, the first answer wins and the
// loser is cancelled on its server; no hedge when the first answers in time; off unless asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HandlerContext } from '../../../src/rpc/types.ts';
import { MemoryRegistry } from '../../../src/registry/memory.ts';
import { DefaultSelector } from '../../../src/selector/selector.ts';
import { MemoryNetwork } from '../../../src/transport/memory.ts';
import { LatencyWindows } from '../../../src/rpc/hedge.ts';
import type { Filter, Strategy } from '../../../src/selector/types.ts';
import { makePeer, type Peer } from '../../support/rpc-peer.ts';

/** Two replicas: `slow` answers after 300 ms (or when cancelled), `fast` at once. */
async function pair() {
  const net = new MemoryNetwork();
  const registry = new MemoryRegistry();
  const cancelled: string[] = [];
  const served: string[] = [];
  const peers: Peer[] = [];
  for (const [host, ms] of [['slow', 300], ['fast', 0]] as const) {
    const p = makePeer(net.transport(host), { name: 'greeter', address: `${host}:0` });
    p.server.handle('Greeter', {
      Hello: async (_: unknown, ctx: HandlerContext) => {
        served.push(host);
        if (ms > 0) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, ms);
            ctx.signal.addEventListener('abort', () => {
              clearTimeout(t);
              cancelled.push(host);
              resolve();
            });
          });
        }
        return { from: host };
      },
    });
    await p.server.start();
    peers.push(p);
  }
  await registry.register({ name: 'greeter', version: '1', metadata: {}, endpoints: [],
    nodes: peers.map((p, i) => ({ id: ['slow', 'fast'][i]!, address: p.server.address!, metadata: {} })) });
  const selector = new DefaultSelector({ registry });
  const client = makePeer(net.transport('caller'), { name: 'caller', address: 'caller:0', selector });
  return {
    client, cancelled, served,
    async stop() {
      selector.close();
      await client.stop();
      for (const p of peers) await p.stop();
    },
  };
}

/** Picks the slow node while it is a candidate: the first attempt goes there, the hedge (which excludes it) elsewhere. */
const slowFirst: Strategy = (nodes) => nodes.find((n) => n.id === 'slow') ?? nodes[0]!;
const only = (id: string): Filter => (svcs) => svcs.map((s) => ({ ...s, nodes: s.nodes.filter((n) => n.id === id) }));

test('a hedged call sends a second attempt to another node after the delay; the first answer wins, the loser is cancelled', async () => {
  const h = await pair();
  const t0 = Date.now();
  const r = await h.client.client.call('greeter', 'Greeter.Hello', {}, { hedge: { afterMs: 50 }, select: { strategy: slowFirst } });
  const took = Date.now() - t0;
  assert.deepEqual(r, { from: 'fast' });
  assert.ok(took < 300, `answered by the hedge, not the slow node (${took} ms)`);
  assert.deepEqual(h.served, ['slow', 'fast']);
  assert.equal(h.client.stats.get('hedges'), 1);
  for (let i = 0; i < 50 && h.cancelled.length === 0; i++) await new Promise((r2) => setTimeout(r2, 10));
  assert.deepEqual(h.cancelled, ['slow'], 'the slow attempt was cancelled on its server');
  assert.equal(h.client.stats.get('callsFailed'), 0, 'the cancelled attempt is not a failed call');
  await h.stop();
});

test('no hedge when the first attempt answers in time, and none unless asked', async () => {
  const h = await pair();
  for (let i = 0; i < 5; i++) await h.client.client.call('greeter', 'Greeter.Hello', {}, { hedge: { afterMs: 100 }, select: { filters: [only('fast')] } });
  assert.equal(h.client.stats.get('hedges'), 0);
  const r = await h.client.client.call('greeter', 'Greeter.Hello', {}, { select: { strategy: slowFirst } });
  assert.deepEqual(r, { from: 'slow' }, 'without hedge the call waits for its node');
  assert.equal(h.client.stats.get('hedges'), 0);
  await h.stop();
});

test('the hedge delay is the p95 of the endpoint\'s recent calls, once there are 20', () => {
  const w = new LatencyWindows();
  for (let i = 1; i <= 19; i++) w.record('k', i);
  assert.equal(w.p95('k'), undefined);
  for (let i = 20; i <= 100; i++) w.record('k', i);
  assert.equal(w.p95('k'), 96);
  for (let i = 0; i < 128; i++) w.record('k', 5); // the window keeps the last 128
  assert.equal(w.p95('k'), 5);
});

test('a hedge that finds no other node waits for the first attempt; a caller abort cancels the call', async () => {
  const h = await pair();
  const r = await h.client.client.call('greeter', 'Greeter.Hello', {}, { hedge: { afterMs: 20 }, select: { filters: [only('slow')] } });
  assert.deepEqual(r, { from: 'slow' }, 'the hedge failed to select (no other node); the first attempt answered');
  const ctl = new AbortController();
  const p = h.client.client.call('greeter', 'Greeter.Hello', {}, { hedge: { afterMs: 20 }, select: { filters: [only('slow')] }, signal: ctl.signal });
  setTimeout(() => ctl.abort(), 60);
  await assert.rejects(p, (e: unknown) => (e as { code?: string }).code === 'CANCELLED');
  await h.stop();
});
