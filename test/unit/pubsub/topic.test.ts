import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deadLetterTopic, isDeadLetterTopic, messageIds, topicMatches } from '../../../src/pubsub/topic.ts';
import { SeededRandom } from '../../../src/clock/seeded.ts';

test('topicMatches: NATS wildcard semantics', () => {
  const table: Array<[string, string, boolean]> = [
    ['orders', 'orders', true],
    ['orders', 'orders.created', false],
    ['orders.created', 'orders', false],
    ['orders.*', 'orders.created', true],
    ['orders.*', 'orders', false],
    ['orders.*', 'orders.eu.created', false],
    ['*.created', 'orders.created', true],
    ['*.*', 'a.b', true],
    ['*.*', 'a', false],
    ['orders.>', 'orders.created', true],
    ['orders.>', 'orders.eu.created', true],
    ['orders.>', 'orders', false],
    ['>', 'a', true],
    ['>', 'a.b.c', true],
    ['*.>', 'a', false],
    ['*.>', 'a.b', true],
    ['a.*.c.>', 'a.b.c.d.e', true],
    ['a.*.c.>', 'a.b.x.d', false],
    ['Orders', 'orders', false], // case-sensitive
    // First-position wildcards skip `$` topics (dead letters), literal `$` tokens match.
    ['>', '$dead-letter.orders', false],
    ['*.orders', '$dead-letter.orders', false],
    ['$dead-letter.>', '$dead-letter.orders.created', true],
    ['$dead-letter.orders', '$dead-letter.orders', true],
    ['a.>', 'a.$b', true],
  ];
  for (const [pattern, topic, want] of table) assert.equal(topicMatches(pattern, topic), want, `${pattern} vs ${topic}`);
});

test('topicMatches: invalid patterns and topics throw INVALID_ARGUMENT', () => {
  const bad: Array<[string, string, RegExp]> = [
    ['a.>.b', 'a.x.b', /'>' may only be the last token/],
    ['a..b', 'a.x.b', /empty token/],
    ['.a', 'a', /empty token/],
    ['a.', 'a', /empty token/],
    ['', 'a', /non-empty/],
    ['a*', 'a', /whole tokens/],
    ['a.b>', 'a.b', /whole tokens/],
    ['a', 'a.*', /wildcard/],
    ['a', 'a.>', /wildcard/],
    ['a', 'a b', /whitespace/],
    ['a', 'x'.repeat(2000), /limit of 1024/],
  ];
  for (const [pattern, topic, re] of bad) {
    assert.throws(() => topicMatches(pattern, topic), (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'INVALID_ARGUMENT');
      assert.match((err as Error).message, re);
      return true;
    }, `${pattern} vs ${topic}`);
  }
});

test('deadLetterTopic prefixes $dead-letter.', () => {
  assert.equal(deadLetterTopic('orders.created'), '$dead-letter.orders.created');
  assert.ok(isDeadLetterTopic('$dead-letter.orders'));
  assert.ok(!isDeadLetterTopic('orders'));
  assert.throws(() => deadLetterTopic('a..b'), { code: 'INVALID_ARGUMENT' });
});

test('messageIds are unique and deterministic under a seeded Random', () => {
  const a = messageIds(new SeededRandom(1));
  const b = messageIds(new SeededRandom(1));
  const ids = new Set(Array.from({ length: 1000 }, () => a()));
  assert.equal(ids.size, 1000);
  assert.equal(b(), [...ids][0]);
  assert.notEqual(messageIds(new SeededRandom(2))(), [...ids][0]);
});
