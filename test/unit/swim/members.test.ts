import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../../src/clock/index.ts';
import { MemberRecord, MemberTable } from '../../../src/swim/members.ts';
import { WireState } from '../../../src/swim/wire.ts';

const rec = (id: string): MemberRecord => new MemberRecord(id, `${id}:1`, 1, new Uint8Array(0), 0, 0);

function table(n: number, seed = 1): MemberTable {
  const t = new MemberTable(rec('self'), new SeededRandom(seed));
  for (let i = 0; i < n; i++) t.add(rec(`m${i}`));
  return t;
}

test('the round-robin visits every live member exactly once per pass, never self', () => {
  const t = table(20);
  for (let pass = 0; pass < 3; pass++) {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(t.nextProbeTarget()!.id);
    assert.equal(seen.size, 20);
    assert.equal(seen.has('self'), false);
  }
});

test('passes are reshuffled, and new members land at random positions', () => {
  const t = table(20, 7);
  const pass = (): string[] => Array.from({ length: 20 }, () => t.nextProbeTarget()!.id);
  const a = pass();
  const b = pass();
  assert.notDeepEqual(a, b);
  const positions = new Set<number>();
  for (let seed = 1; seed <= 30; seed++) {
    const u = table(10, seed);
    u.add(rec('new'));
    const order = Array.from({ length: 11 }, () => u.nextProbeTarget()!.id);
    positions.add(order.indexOf('new'));
  }
  assert.ok(positions.size > 5, `newcomers should not always go last: ${[...positions]}`);
});

test('dead and left members are skipped by probing and reaped after the timeout', () => {
  const t = table(3);
  const m0 = t.get('m0')!;
  const m1 = t.get('m1')!;
  t.setState(m0, WireState.Dead, 1000);
  t.setState(m1, WireState.Left, 2000);
  for (let i = 0; i < 6; i++) assert.equal(t.nextProbeTarget()!.id, 'm2');
  assert.deepEqual(t.reap(5000, 4000).map((m) => m.id), ['m0']);
  assert.equal(t.get('m0'), undefined);
  assert.equal(t.size, 3);
  assert.deepEqual(t.reap(6000, 4000).map((m) => m.id), ['m1']);
  t.setState(t.get('m2')!, WireState.Dead, 6000);
  assert.equal(t.nextProbeTarget(), undefined, 'nobody live to probe');
});

test('randomMembers returns distinct members passing the filter, never self', () => {
  const t = table(10);
  const picked = t.randomMembers(3, (m) => m.id !== 'm0');
  assert.equal(picked.length, 3);
  assert.equal(new Set(picked).size, 3);
  assert.ok(picked.every((m) => m.id !== 'm0' && m.id !== 'self'));
  assert.equal(t.randomMembers(50, () => true).length, 10, 'at most everyone else');
  assert.equal(t.randomMembers(3, () => false).length, 0);
});
