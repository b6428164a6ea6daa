import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryMembership, MemoryMembershipNetwork } from '../../../src/membership/memory.ts';
import type { Membership, MembershipEvent } from '../../../src/membership/types.ts';
import { membershipCompliance } from '../../compliance/membership.ts';

const flush = () => new Promise((r) => setImmediate(r));

// What the compliance suite cannot see through the interface: delivery is
// never synchronous, ids are unique, and the test seams behave.
test('delivery is asynchronous; a taken id is a CONFLICT; removing an unknown node is a no-op; reports are recorded', async () => {
  const net = new MemoryMembershipNetwork();
  const a = net.join('a', { rpc: 'h:1' });
  const seen: string[] = [];
  a.subscribe((e: MembershipEvent) => seen.push(`${e.type}:${e.member.id}:${e.member.version}`));
  const b = net.join('b');
  b.setLocal('subs', ['orders']);
  assert.deepEqual(seen, [], 'delivery is asynchronous');
  net.remove('nobody', 'dead');
  await flush();
  assert.deepEqual(seen, ['join:b:1', 'update:b:2']);
  assert.throws(() => net.join('a'), { code: 'CONFLICT' });
  a.reportUnreachable('b', true);
  assert.deepEqual(a.unreachableReports, [{ id: 'b', refused: true }]);
});

membershipCompliance('memory', {
  capabilities: { disseminates: true, joins: true, leaves: true, detectsCrash: true },
  setup: async (specs) => {
    const net = new MemoryMembershipNetwork();
    const mine = (m: Membership): MemoryMembership => m as MemoryMembership;
    return {
      members: specs.map((s) => net.join(s.id, s.data)),
      join: async (s) => net.join(s.id, s.data),
      leave: async (m) => mine(m).leave(),
      crash: async (m) => net.remove(m.localId, 'dead'),
      teardown: async () => {},
    };
  },
});
