import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryMembershipNetwork } from '../../../src/membership/memory.ts';
import type { MembershipEvent } from '../../../src/membership/types.ts';

const flush = () => new Promise((r) => setImmediate(r));

test('members see each other join, update and leave, in order, never synchronously, never themselves', async () => {
  const net = new MemoryMembershipNetwork();
  const a = net.join('a', { rpc: 'h:1' });
  const seen: string[] = [];
  a.subscribe((e: MembershipEvent) => seen.push(`${e.type}:${e.member.id}:${e.member.version}${e.type === 'leave' ? `:${e.reason}` : ''}`));
  const b = net.join('b');
  b.setLocal('subs', ['orders']);
  assert.deepEqual(seen, [], 'delivery is asynchronous');
  await flush();
  assert.deepEqual(seen, ['join:b:1', 'update:b:2']);
  assert.deepEqual(a.member('b')!.data, { subs: ['orders'] });
  assert.deepEqual(b.members().map((m) => m.id), ['a']);
  b.setLocal('subs', undefined);
  b.leave();
  net.remove('nobody', 'dead');
  await flush();
  assert.deepEqual(seen.slice(2), ['update:b:3', 'leave:b:3:left']);
  assert.equal(a.members().length, 0);
  const c = net.join('c');
  net.remove('c', 'dead');
  await flush();
  assert.deepEqual(seen.slice(4), ['join:c:1', 'leave:c:1:dead']);
  assert.throws(() => net.join('a'), { code: 'CONFLICT' });
  a.reportUnreachable('c', true);
  assert.deepEqual(a.unreachableReports, [{ id: 'c', refused: true }]);
  void c;
});
