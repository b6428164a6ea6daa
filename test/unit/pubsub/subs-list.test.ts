import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_TOPICS_PATTERN, topicsOf, type MemberView } from '../../../src/index.ts';

const member = (id: string, data: Record<string, unknown>): MemberView => ({ id, version: 1, data });
const svc = (name: string) => [{ n: name, v: 'latest', i: 'x', a: '127.0.0.1:1' }];
const libp2p = (t: string[]) => ({ i: '12D3KooW', a: ['/ip4/127.0.0.1/tcp/1'], t });

test('direct records: one row per pattern, broadcast and queue-group subscribers, with their services', () => {
  const { topics, skipped } = topicsOf([
    member('a', { services: svc('billing'), subs: { b: ['orders.>', 'users.created'], q: [['workers', 'orders.created', 'orders.>']] } }),
    member('b', { services: svc('mailer'), subs: { q: [['workers', 'orders.created'], ['audit', 'orders.created']] } }),
    member('c', { services: svc('idle') }),
  ]);
  assert.deepEqual(skipped, []);
  assert.deepEqual(topics, [
    { pattern: 'orders.>', match: 'pattern', subscribers: [
      { node: 'a', services: ['billing'] }, { node: 'a', queue: 'workers', services: ['billing'] },
    ] },
    { pattern: 'orders.created', match: 'pattern', subscribers: [
      { node: 'a', queue: 'workers', services: ['billing'] },
      { node: 'b', queue: 'audit', services: ['mailer'] }, { node: 'b', queue: 'workers', services: ['mailer'] },
    ] },
    { pattern: 'users.created', match: 'pattern', subscribers: [{ node: 'a', services: ['billing'] }] },
  ]);
});

test('gossip records: broadcast by first token (wildcard-first patterns as *), queue groups from subs', () => {
  const { topics, skipped } = topicsOf([
    member('g1', { libp2p: libp2p(['mm/orders', 'mm/*']), subs: { q: [['workers', 'orders.created']] } }),
    member('g2', { libp2p: libp2p(['mm/orders']) }),
    member('g3', { libp2p: { i: '12D3KooW', a: ['/ip4/127.0.0.1/tcp/1'] } }),
  ]);
  assert.deepEqual(skipped, []);
  assert.deepEqual(topics.map((t) => [t.pattern, t.match, t.subscribers.map((s) => s.queue ? `${s.node}/${s.queue}` : s.node)]), [
    ['*', 'first-token', ['g1']],
    ['orders', 'first-token', ['g1', 'g2']],
    ['orders.created', 'pattern', ['g1/workers']],
  ]);
});

test('coarse records show as the all-topics row, apart from a real > subscription', () => {
  const { topics } = topicsOf([
    member('big', { subs: { a: true, q: [['workers'], ['audit']] } }),
    member('catchall', { subs: { b: ['>'] } }),
  ]);
  assert.equal(ALL_TOPICS_PATTERN, '>');
  assert.deepEqual(topics, [
    { pattern: '>', match: 'all', subscribers: [
      { node: 'big', services: [] }, { node: 'big', queue: 'audit', services: [] }, { node: 'big', queue: 'workers', services: [] },
    ] },
    { pattern: '>', match: 'pattern', subscribers: [{ node: 'catchall', services: [] }] },
  ]);
});

test('malformed records are skipped and reported, never thrown; the rest is listed', () => {
  const records = [
    member('ok', { subs: { b: ['orders.created'] }, services: [null, 5, { n: 7 }, { n: 'fine' }] }),
    member('bad-subs', { subs: { b: 'orders' } }),
    member('bad-pattern', { subs: { b: ['orders..x'] } }),
    member('bad-queue', { subs: { q: [['workers']] } }),
    member('bad-libp2p', { libp2p: { i: 5 } }),
    member('bad-topic', { libp2p: libp2p(['orders', 'mm/', 'mm/fine']), subs: 'nope' }),
    { id: 'no-data', version: 1, data: null } as unknown as MemberView,
    null as unknown as MemberView,
  ];
  const { topics, skipped } = topicsOf(records);
  assert.deepEqual(topics.map((t) => [t.pattern, t.match, t.subscribers.map((s) => s.node)]), [
    ['fine', 'first-token', ['bad-topic']],
    ['orders.created', 'pattern', ['ok']],
  ]);
  assert.deepEqual(topics[1]!.subscribers[0]!.services, ['fine']);
  assert.deepEqual(skipped.map((s) => `${s.node}:${s.key}`), [
    'bad-subs:subs', 'bad-pattern:subs', 'bad-queue:subs', 'bad-libp2p:libp2p',
    'bad-topic:subs', 'bad-topic:libp2p', 'bad-topic:libp2p', 'no-data:member', '?:member',
  ]);
  assert.ok(skipped.every((s) => s.reason.length > 0));
});
