import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryMembershipNetwork } from '../../../src/membership/memory.ts';
import { DirectBroker } from '../../../src/pubsub/direct.ts';
import type { BrokerMessage } from '../../../src/pubsub/types.ts';
import { until } from '../../compliance/broker.ts';
import { converged, rpcNode, type RpcNode } from './harness.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

async function cluster(n: number, opts: Partial<ConstructorParameters<typeof DirectBroker>[0]> = {}) {
  const net = new MemoryMembershipNetwork();
  const nodes: RpcNode[] = [];
  for (let i = 0; i < n; i++) nodes.push(await rpcNode(net, `n${i}`));
  const brokers = nodes.map((node) => new DirectBroker({ membership: node.membership, client: node.client, server: node.server, ...opts }));
  for (const b of brokers) await b.start();
  return {
    net, nodes, brokers,
    async close() {
      for (const b of brokers) await b.stop();
      for (const node of nodes) await node.stop();
    },
  };
}

test('direct: a queue member whose node leaves mid-delivery has its message redelivered elsewhere as the next attempt', async () => {
  const c = await cluster(3);
  try {
    const onB: BrokerMessage[] = [];
    const onC: BrokerMessage[] = [];
    await c.brokers[1]!.subscribe('jobs', (m) => {
      onB.push(m);
      return new Promise(() => {}); // never acks: the node is about to "die"
    }, { queue: 'w' });
    await c.brokers[2]!.subscribe('jobs', (m) => void onC.push(m), { queue: 'w' });
    await converged(c.net);
    for (let i = 0; i < 4; i++) await c.brokers[0]!.publish('jobs', bytes(`j${i}`));
    await until(() => onB.length >= 1 && onC.length >= 2, 'first deliveries');
    c.net.remove('n1', 'dead');
    await until(() => onC.length >= 4, 'redelivery to the survivor');
    assert.deepEqual(onC.map((m) => text(m.body)).sort(), ['j0', 'j1', 'j2', 'j3']);
    // Whatever n1 held (in its handler or its mailbox) may have run: it comes back as attempt 2.
    for (const m of onC) if (onB.some((b) => b.id === m.id)) assert.equal(m.deliveryAttempt, 2);
    assert.equal(onC.filter((m) => m.deliveryAttempt === 2).length, 2, 'round robin gave n1 two of the four');
    assert.ok(c.brokers[0]!.stats().redelivered >= 1);
  } finally {
    await c.close();
  }
});

test('direct: a refused connection is reported to the membership and the message goes elsewhere without counting an attempt', async () => {
  const c = await cluster(3);
  try {
    const onC: BrokerMessage[] = [];
    await c.brokers[1]!.subscribe('jobs', () => {}, { queue: 'w' });
    await c.brokers[2]!.subscribe('jobs', (m) => void onC.push(m), { queue: 'w' });
    await converged(c.net);
    await c.nodes[1]!.stop(); // its RPC port closes; the membership still lists it
    for (let i = 0; i < 6; i++) await c.brokers[0]!.publish('jobs', bytes(`j${i}`));
    await until(() => onC.length >= 6, 'all on the live member');
    assert.ok(onC.every((m) => m.deliveryAttempt === 1), 'refusals do not count as attempts');
    const reports = c.nodes[0]!.membership.unreachableReports;
    assert.ok(reports.some((r) => r.id === 'n1' && r.refused), JSON.stringify(reports));
  } finally {
    await c.close();
  }
});

test('direct: malformed deliveries are refused, counted, and the node keeps serving', async () => {
  const c = await cluster(2);
  try {
    const got: string[] = [];
    await c.brokers[1]!.subscribe('t', (m) => void got.push(text(m.body)));
    await converged(c.net);
    for (const junk of [{}, 'text', { n: 'x', p: 'y', m: [[1, 't', {}, 'not bytes']] }]) {
      await assert.rejects(c.nodes[0]!.client.call('$mesh', 'Broker.Deliver', junk, { address: c.nodes[1]!.address, retries: 0 }), { code: 'BAD_REQUEST' });
    }
    assert.equal(c.brokers[1]!.stats().malformed, 3);
    await c.brokers[0]!.publish('t', bytes('fine'));
    await until(() => got.length === 1, 'a good message after bad ones');
  } finally {
    await c.close();
  }
});

test('direct: a node that joins later receives subsequent messages; its peers ignore a malformed subs record', async () => {
  const c = await cluster(2);
  try {
    const late = await rpcNode(c.net, 'late');
    c.nodes.push(late);
    const broker = new DirectBroker({ membership: late.membership, client: late.client, server: late.server });
    c.brokers.push(broker);
    await broker.start();
    const got: string[] = [];
    await broker.subscribe('news.*', (m) => void got.push(text(m.body)));
    const bogus = c.net.join('bogus', { subs: { b: [42] } });
    await converged(c.net);
    assert.equal(c.brokers[0]!.stats().badRecords, 1);
    await c.brokers[0]!.publish('news.today', bytes('hello'));
    await until(() => got.length === 1, 'delivery to the late joiner');
    bogus.leave();
  } finally {
    await c.close();
  }
});

test('direct: a coarse subs record (many subscriptions) still delivers exactly what is subscribed', async () => {
  const c = await cluster(2, { maxRecordBytes: 128 });
  try {
    const got: string[] = [];
    for (let i = 0; i < 50; i++) await c.brokers[1]!.subscribe(`topic.${i}`, (m) => void got.push(m.topic));
    await converged(c.net);
    assert.equal((c.nodes[1]!.membership.local().data.subs as { a?: boolean }).a, true);
    await c.brokers[0]!.publish('topic.7', bytes('x'));
    await c.brokers[0]!.publish('unrelated', bytes('x'));
    await until(() => got.length === 1 && c.brokers[1]!.stats().unmatched === 1, 'filtered at the receiver');
    assert.deepEqual(got, ['topic.7']);
  } finally {
    await c.close();
  }
});

test('direct: publish waits when the broker holds maxHeldMessages, and its signal aborts the wait', async () => {
  const c = await cluster(2, { maxHeldMessages: 16 });
  try {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    await c.brokers[1]!.subscribe('slow', () => gate, { queue: 'w' });
    await converged(c.net);
    for (let i = 0; i < 16; i++) await c.brokers[0]!.publish('slow', bytes(`m${i}`));
    assert.equal(c.brokers[0]!.stats().held, 16);
    const ac = new AbortController();
    const blocked = c.brokers[0]!.publish('slow', bytes('over'), { signal: ac.signal });
    ac.abort();
    await assert.rejects(blocked, { code: 'CANCELLED' });
    const waiting = c.brokers[0]!.publish('slow', bytes('later'));
    release();
    await waiting;
    await until(() => c.brokers[0]!.stats().held === 0, 'everything acked');
  } finally {
    await c.close();
  }
});

test('direct: a member without an rpc address gets no copies (counted), and its queue group falls back to reachable members', async () => {
  const c = await cluster(2);
  try {
    const got: string[] = [];
    await c.brokers[1]!.subscribe('jobs', (m) => void got.push(text(m.body)), { queue: 'w' });
    const ghost = c.net.join('ghost', { subs: { b: ['jobs'], q: [['w', 'jobs']] } });
    await converged(c.net);
    for (let i = 0; i < 10; i++) await c.brokers[0]!.publish('jobs', bytes(`j${i}`));
    await until(() => got.length === 10, 'every job on the reachable member');
    assert.ok(c.brokers[0]!.stats().dropped >= 10, 'broadcast copies to the unreachable member are counted');
    assert.ok(c.brokers[0]!.stats().refused >= 1);
    ghost.leave();
  } finally {
    await c.close();
  }
});

test('direct: publish copies the body, even a Buffer (whose slice() is a view)', async () => {
  const c = await cluster(2);
  try {
    const got: string[] = [];
    await c.brokers[0]!.subscribe('copy', (m) => void got.push(text(m.body)));
    await c.brokers[1]!.subscribe('copy', (m) => void got.push(text(m.body)));
    await converged(c.net);
    const body = Buffer.from('before');
    const publishing = c.brokers[0]!.publish('copy', body);
    body.write('AFTER!');
    await publishing;
    await until(() => got.length === 2, 'both copies');
    assert.deepEqual(got, ['before', 'before']);
  } finally {
    await c.close();
  }
});
