import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_RECORD_TOPICS, decodeLibp2p } from '../../../src/pubsub/gossip/peers.ts';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEY_FILE } from '../../../src/pubsub/gossip/node.ts';
import { MemoryMembershipNetwork } from '../../../src/membership/memory.ts';
import { GossipBroker } from '../../../src/pubsub/gossip/broker.ts';
import { brokerCompliance, until } from '../../compliance/broker.ts';
import { converged, rpcNode, type RpcNode } from './harness.ts';

/** Resolves once every broker's gossipsub knows every other broker's gossip topics. */
export async function gossipReady(brokers: GossipBroker[], limitMs = 10_000): Promise<void> {
  const start = performance.now();
  const ok = (): boolean => brokers.every((a) => brokers.every((b) => a === b
    || b.gossipTopics().every((t) => a.gossipSubscribers(t).includes(b.peerId!))));
  while (!ok()) {
    if (performance.now() - start > limitMs) throw new Error('gossip did not converge');
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function gossipNetwork(n: number, opts: { maxDeliveries: number; queueStrategy?: 'roundRobin' | 'random'; streamWaitMs?: number }) {
  const net = new MemoryMembershipNetwork();
  const nodes: RpcNode[] = [];
  for (let i = 0; i < n; i++) nodes.push(await rpcNode(net, `g${i}`));
  const idOf = (b: GossipBroker): string => nodes[brokers.indexOf(b)]!.id;
  const brokers = nodes.map((node) => new GossipBroker({ membership: node.membership, client: node.client, server: node.server, ...opts }));
  return {
    net,
    brokers,
    maxDeliveries: opts.maxDeliveries,
    settle: async () => {
      await converged(net);
      await gossipReady(brokers.filter((b) => b.peerId !== undefined && net.nodes.has(idOf(b))));
    },
    teardown: async () => {
      for (const node of nodes) await node.stop();
    },
  };
}

/** Runs `body` with two started gossip brokers; stops them and the network afterwards, whatever happens. */
async function withPair(opts: { streamWaitMs?: number },
  body: (a: GossipBroker, b: GossipBroker, h: Awaited<ReturnType<typeof gossipNetwork>>) => Promise<void>): Promise<void> {
  const h = await gossipNetwork(2, { maxDeliveries: 3, ...opts });
  const [a, b] = h.brokers as [GossipBroker, GossipBroker];
  try {
    await a.start();
    await b.start();
    await body(a, b, h);
  } finally {
    await a.stop();
    await b.stop();
    await h.teardown();
  }
}

brokerCompliance('gossip (3 nodes over libp2p)', { setup: () => gossipNetwork(3, { maxDeliveries: 3 }) });
brokerCompliance('gossip (1 node)', { setup: () => gossipNetwork(1, { maxDeliveries: 2 }) });

test('gossip broker: patterns starting with a wildcard (mm/*) get each message once, even beside a literal subscription', async () => {
  await withPair({}, async (a, b, h) => {
    const wild: string[] = [];
    const exact: string[] = [];
    await b.subscribe('*.created', (m) => void wild.push(m.topic));
    await b.subscribe('orders.created', (m) => void exact.push(m.topic));
    await h.settle();
    for (let i = 0; i < 20; i++) await a.publish(i % 2 === 0 ? 'orders.created' : 'users.created', new Uint8Array([i]));
    await until(() => wild.length >= 20 && exact.length >= 10, 'wildcard deliveries');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(wild.length, 20);
    assert.equal(exact.length, 10);
    assert.deepEqual(b.gossipTopics().sort(), ['mm/*', 'mm/orders']);
    // Remote subscribers count as a match on the publisher; a topic nobody listens to does not.
    assert.equal(a.stats().unmatched, 0);
    await a.publish('$nobody', new Uint8Array([1]));
    assert.equal(a.stats().unmatched, 1);
    assert.equal(a.stats().published, 21);
  });
});

test('gossip broker: the peer id survives a restart when dataDir is set, and its key file is private', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mm-gossip-'));
  const h = await gossipNetwork(1, { maxDeliveries: 3 });
  const node = h.brokers[0] as GossipBroker;
  try {
    const net = new MemoryMembershipNetwork();
    const m = net.join('solo');
    const opts = { membership: m, client: (node as any).o.client, server: (node as any).o.server, dataDir: join(dir, 'data') };
    const first = new GossipBroker(opts);
    await first.start();
    const id = first.peerId;
    assert.deepEqual((m.local().data.libp2p as { i: string }).i, id);
    await first.stop();
    assert.equal(m.local().data.libp2p, undefined, 'the record is withdrawn on stop');
    const second = new GossipBroker(opts);
    await second.start();
    assert.equal(second.peerId, id);
    await second.stop();
    assert.equal((await stat(join(dir, 'data', KEY_FILE))).mode & 0o777, 0o600);
    const fresh = new GossipBroker({ ...opts, dataDir: undefined });
    await fresh.start();
    assert.notEqual(fresh.peerId, id);
    await fresh.stop();
  } finally {
    await h.teardown();
    await rm(dir, { recursive: true, force: true });
  }
});

test('gossip broker: config is validated with the field and range named', () => {
  const net = new MemoryMembershipNetwork();
  const m = net.join('x');
  const fake = { handleInternal() {} } as any;
  assert.throws(() => new GossipBroker({ membership: m, client: fake, server: fake, meshDegree: 0 }), /broker\.meshDegree must be an integer in \[1, 12\]/);
  assert.throws(() => new GossipBroker({ membership: m, client: fake, server: fake, ackTimeoutMs: 5 }), /broker\.ackTimeoutMs/);
  assert.throws(() => new GossipBroker({ membership: m, client: fake, server: fake, streamWaitMs: -1 }), /broker\.streamWaitMs must be an integer in \[0, 60000\]/);
});

test('gossip broker: peers are dialed from the membership and hung up on when it drops them', async () => {
  const h = await gossipNetwork(3, { maxDeliveries: 3 });
  const brokers = h.brokers as GossipBroker[];
  try {
    for (const b of brokers) await b.start();
    await until(() => brokers.every((b) => b.stats().libp2pPeers === 2), 'a full libp2p mesh');
    const got: string[] = [];
    await brokers[1]!.subscribe('t', (m) => void got.push(m.topic));
    await h.settle();
    h.net.remove('g2', 'dead');
    await until(() => brokers[0]!.stats().libp2pPeers === 1 && brokers[1]!.stats().libp2pPeers === 1, 'the dropped member hung up on');
    await brokers[0]!.publish('t', new Uint8Array([1]));
    await until(() => got.length === 1, 'delivery among the survivors');
    // src/pubsub/gossip/wire.ts's adjustments found the Noise and yamux internals they rely on (fails after an upgrade that moved them).
    for (const b of brokers) assert.equal(b.stats().wireFallbacks, 0);
    assert.equal(brokers[0]!.stats().notSentCopies, 0, 'every subscriber had a stream when we published');
  } finally {
    for (const b of brokers) await b.stop();
    await h.teardown();
  }
});

test('gossip broker: a member whose broker stopped (record withdrawn, member still alive) is forgotten: a publish does not wait for it', async () => {
  await withPair({}, async (a, b, h) => {
    await b.subscribe('news.x', () => {});
    await h.settle();
    await b.stop();
    await until(() => a.stats().libp2pPeers === 0, 'a hung up on b');
    const sent0 = a.stats().envelopesSent;
    await a.publish('news.x', new Uint8Array([1]));
    await new Promise<void>((r) => process.nextTick(r));
    assert.equal(a.stats().envelopesSent, sent0 + 1, 'not held for b');
    assert.equal(a.stats().notSentCopies, 0, 'b is no subscriber any more, so nothing is lost');
  });
});

test('gossip broker: the libp2p record is validated; its topic list is optional and bounded', () => {
  const base = { i: '12D3KooWabc', a: ['/ip4/127.0.0.1/tcp/1'] };
  assert.deepEqual(decodeLibp2p(base), base, 'an older record without t');
  assert.deepEqual(decodeLibp2p({ ...base, t: ['mm/news', 'mm/*'] }), { ...base, t: ['mm/news', 'mm/*'] });
  assert.equal(decodeLibp2p({ ...base, t: 'mm/news' }), undefined);
  assert.equal(decodeLibp2p({ ...base, t: [7] }), undefined);
  assert.equal(decodeLibp2p({ ...base, t: Array.from({ length: MAX_RECORD_TOPICS + 1 }, (_, k) => `mm/${k}`) }), undefined);
  assert.equal(decodeLibp2p({ ...base, a: [] }), undefined);
  assert.equal(decodeLibp2p({ a: base.a }), undefined);
});

/** Takes a's outbound gossipsub stream to b away (the state right after a connection: b's topics known, no stream yet); returns how to put it back. */
function dropOutboundStream(a: GossipBroker, b: GossipBroker): () => void {
  const pubsub = (a as unknown as { node: { services: { pubsub: { streamsOutbound: Map<string, unknown> } } } }).node.services.pubsub;
  const stream = pubsub.streamsOutbound.get(b.peerId!);
  pubsub.streamsOutbound.delete(b.peerId!);
  return () => void pubsub.streamsOutbound.set(b.peerId!, stream);
}

test('gossip broker: a publish waits for the outbound stream to a subscriber gossipsub already knows, in order', async () => {
  await withPair({}, async (a, b) => {
    const got: number[] = [];
    await b.subscribe('news.x', (m) => void got.push(m.body[0]!));
    await until(() => a.gossipSubscribers('mm/news').length === 1 && a.missingSubscribers('news.x').length === 0, 'a can send to b');
    const restore = dropOutboundStream(a, b);
    assert.equal(a.missingSubscribers('news.x').length, 1, 'a publisher that waits would wait');
    await a.publish('news.x', new Uint8Array([1]));
    await new Promise((r) => setTimeout(r, 50));
    await a.publish('news.x', new Uint8Array([2]));
    assert.deepEqual(got, [], 'held while the stream is missing');
    restore();
    await a.sent();
    await until(() => got.length === 2, 'both delivered once the stream is back');
    assert.deepEqual(got, [1, 2]);
    assert.equal(a.stats().notSentCopies, 0);
  });
});

test('gossip broker: a subscriber whose stream never comes is given up on after streamWaitMs: copies counted as lost, once', async () => {
  await withPair({ streamWaitMs: 100 }, async (a, b) => {
    await b.subscribe('news.x', () => {});
    await until(() => a.gossipSubscribers('mm/news').length === 1 && a.missingSubscribers('news.x').length === 0, 'a can send to b');
    const restore = dropOutboundStream(a, b);
    const turn = (): Promise<void> => new Promise((r) => process.nextTick(r));
    const sent0 = a.stats().envelopesSent;
    await a.publish('news.x', new Uint8Array([1]));
    await turn();
    assert.equal(a.stats().envelopesSent, sent0, 'held for the stream at first');
    await a.sent();
    assert.equal(a.stats().envelopesSent, sent0 + 1);
    assert.equal(a.stats().notSentCopies, 1);
    // Given up on: a later publish goes out in its own turn, without waiting again.
    await a.publish('news.x', new Uint8Array([2]));
    await turn();
    assert.equal(a.stats().envelopesSent, sent0 + 2, 'no second wait for the same missing stream');
    assert.equal(a.stats().notSentCopies, 2);
    restore();
  });
});

/** a's gossipsub set of subscribers of `gossipTopic` (internal; the tests below edit it to stage what gossipsub has heard). */
function gossipsubTopic(a: GossipBroker, gossipTopic: string): Set<string> {
  return (a as unknown as { node: { services: { pubsub: { topics: Map<string, Set<string>> } } } }).node.services.pubsub.topics.get(gossipTopic)!;
}

test('gossip broker: a publish right after a new subscriber\'s record arrived reaches it, though gossipsub had not heard it yet', async (t) => {
  await withPair({}, async (a, b) => {
    const got: number[] = [];
    await b.subscribe('news.x', (m) => void got.push(m.body[0]!));
    const bId = b.peerId!;
    // Published as soon as b's record lists mm/news on a's side: gossipsub learns b's subscription later, over TCP.
    await until(() => a.missingSubscribers('news.x').length === 1 || a.gossipSubscribers('mm/news').includes(bId), 'b\'s record reached a');
    const heardFirst = a.gossipSubscribers('mm/news').includes(bId);
    await a.publish('news.x', new Uint8Array([1]));
    await a.publish('news.x', new Uint8Array([2]));
    await a.sent();
    await until(() => got.length === 2, 'both delivered');
    assert.deepEqual(got, [1, 2]);
    assert.equal(a.stats().notSentCopies, 0);
    if (heardFirst) t.diagnostic('gossipsub had heard b before the record was seen: the wait was not exercised this run');

    // Staged, so it is exercised every run: gossipsub "has not heard" b (not in its topic set), b's record lists the topic.
    const subs = gossipsubTopic(a, 'mm/news');
    subs.delete(bId);
    const sent0 = a.stats().envelopesSent;
    await a.publish('news.x', new Uint8Array([3]));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(a.stats().envelopesSent, sent0, 'held while gossipsub has not heard b');
    subs.add(bId);
    await a.sent();
    await until(() => got.length === 3, 'delivered once gossipsub knows b');
    assert.deepEqual(got, [1, 2, 3]);
  });
});

test('gossip broker: once gossipsub has heard a peer, its view wins over a record that still lists a topic (no wait after an unsubscribe)', async () => {
  await withPair({}, async (a, b) => {
    await b.subscribe('news.x', () => {});
    await b.subscribe('sport.y', () => {});
    await until(() => a.gossipSubscribers('mm/news').length === 1 && a.gossipSubscribers('mm/sport').length === 1
      && a.missingSubscribers('sport.y').length === 0, 'a knows b on both topics');
    // gossipsub heard b leave mm/sport; b's record (SWIM, slower) still lists it.
    gossipsubTopic(a, 'mm/sport').delete(b.peerId!);
    const sent0 = a.stats().envelopesSent;
    await a.publish('sport.y', new Uint8Array([1]));
    await new Promise<void>((r) => process.nextTick(r));
    assert.equal(a.stats().envelopesSent, sent0 + 1, 'sent in its own turn, not held for b');
  });
});
