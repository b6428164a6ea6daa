import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../../src/clock/index.ts';
import { Counters } from '../../../src/metrics/counters.ts';
import { resolveSwimConfig, type SwimConfig } from '../../../src/swim/config.ts';
import { MemberRecord } from '../../../src/swim/members.ts';
import { Membership, type MembershipEffects } from '../../../src/swim/state.ts';
import { MAX_SUSPICION_CHECKS } from '../../../src/swim/suspicion.ts';
import { SWIM_COUNTERS, type SwimCounter } from '../../../src/swim/stats.ts';
import { SwimWire, WireState, type MemberEntry, type SwimMessage } from '../../../src/swim/wire.ts';

const wire = new SwimWire();
const EMPTY = new Uint8Array(0);

/** A Membership over a recording effect sink: the state machine has no I/O, so this is all it needs. */
function machine(overrides: Partial<SwimConfig> = {}) {
  const events: string[] = [];
  const broadcasts: { id: string; msg: SwimMessage; urgent: boolean }[] = [];
  const suspicions: string[] = [];
  const conflicts: string[] = [];
  const counters = new Counters<SwimCounter>(SWIM_COUNTERS);
  const fx: MembershipEffects = {
    broadcast: (id, bytes, urgent, notify) => {
      broadcasts.push({ id, msg: wire.decodeOne(bytes) as SwimMessage, urgent });
      notify?.();
    },
    event: (type, m) => events.push(`${type} ${m.id}`),
    suspicionChanged: (m) => suspicions.push(`${m.id} ${m.suspicion ? m.suspicion.deadlineMs : 'cleared'}`),
    conflict: (address, inc) => conflicts.push(`${address} ${inc}`),
    refuted: () => {},
  };
  const cfg = resolveSwimConfig('lan', overrides);
  const self = new MemberRecord('me', 'me:1', 10, EMPTY, 0, 0);
  const s = new Membership(cfg, self, new SeededRandom(1), wire, fx, counters);
  const alive = (id: string, incarnation: number, extra: Partial<MemberEntry> = {}) =>
    s.onAlive({ id, incarnation, address: `${id}:1`, meta: EMPTY, metaVersion: 0, ...extra }, 0);
  const reset = (): void => {
    events.length = 0;
    broadcasts.length = 0;
    suspicions.length = 0;
  };
  return { s, events, broadcasts, suspicions, conflicts, counters, alive, reset, self };
}

const state = (t: ReturnType<typeof machine>, id: string): number | undefined => t.s.table.get(id)?.state;

test('alive: a new member joins and is re-gossiped; duplicates and older incarnations are ignored', () => {
  const t = machine();
  t.alive('a', 5);
  assert.deepEqual(t.events, ['join a']);
  assert.deepEqual(t.broadcasts.map((b) => [b.id, b.msg.type, b.urgent]), [['a', 4, false]]);
  t.reset();
  t.alive('a', 5);
  t.alive('a', 4);
  assert.deepEqual(t.events, []);
  assert.deepEqual(t.broadcasts, []);
});

test('alive: a higher incarnation with new metadata or address is an update; without, it is silent', () => {
  const t = machine();
  t.alive('a', 5);
  t.reset();
  t.alive('a', 6);
  assert.deepEqual(t.events, [], 'same metadata and address');
  t.alive('a', 7, { meta: new Uint8Array([1]), metaVersion: 1 });
  t.alive('a', 8, { address: 'elsewhere:1', meta: new Uint8Array([1]), metaVersion: 1 });
  assert.deepEqual(t.events, ['update a', 'update a']);
  const a = t.s.table.get('a')!;
  assert.deepEqual([a.incarnation, a.address, [...a.meta], a.metaVersion], [8, 'elsewhere:1', [1], 1]);
});

test('suspect: an alive member becomes suspect with a Lifeguard timer; older incarnations are ignored', () => {
  const t = machine();
  for (const id of ['a', 'b', 'c', 'd']) t.alive(id, 5);
  t.reset();
  t.s.onSuspect({ id: 'a', incarnation: 4, from: 'b' }, 100);
  assert.deepEqual(t.events, []);
  t.s.onSuspect({ id: 'a', incarnation: 5, from: 'b' }, 100);
  assert.deepEqual(t.events, ['suspect a']);
  assert.equal(state(t, 'a'), 1);
  // N = 5 (self included): min = 4 × 1 × 1 s, max = 6 × min, k = 2.
  const s = t.s.table.get('a')!.suspicion!;
  assert.deepEqual([s.minMs, s.maxMs, s.k, s.deadlineMs], [4000, 24_000, 2, 24_100]);
  assert.deepEqual(t.broadcasts.map((b) => [b.msg, b.urgent]), [[{ type: 5, id: 'a', incarnation: 5, from: 'b' }, true]]);
});

test('suspect: independent confirmations shrink the timer and are re-gossiped; repeats are not', () => {
  const t = machine();
  for (const id of ['a', 'b', 'c', 'd']) t.alive(id, 5);
  t.s.onSuspect({ id: 'a', incarnation: 5, from: 'b' }, 0);
  t.reset();
  t.s.onSuspect({ id: 'a', incarnation: 5, from: 'b' }, 1000);
  assert.equal(t.broadcasts.length, 0, 'the accuser again');
  t.s.onSuspect({ id: 'a', incarnation: 5, from: 'c' }, 1000);
  // 1 of k = 2: max − (ln 2 / ln 3) × (max − min) = 24000 − 0.6309 × 20000.
  assert.equal(t.s.table.get('a')!.suspicion!.deadlineMs, 11_381);
  t.s.onSuspect({ id: 'a', incarnation: 5, from: 'd' }, 2000);
  assert.equal(t.s.table.get('a')!.suspicion!.deadlineMs, 4000, 'k confirmations: the minimum');
  assert.deepEqual(t.broadcasts.map((b) => (b.msg as { from: string }).from), ['c', 'd']);
  assert.equal(t.counters.get('suspicionConfirmations'), 2);
  assert.deepEqual(t.events, [], 'confirmations are not new events');
});

test('suspicion expiry: with its k confirmations the member is dead once the deadline passes', () => {
  const t = machine();
  for (const id of ['a', 'b', 'c', 'd']) t.alive(id, 5);
  t.s.onSuspect({ id: 'a', incarnation: 5, from: 'me' }, 0);
  t.s.onSuspect({ id: 'a', incarnation: 5, from: 'b' }, 0);
  t.s.onSuspect({ id: 'a', incarnation: 5, from: 'c' }, 0);
  const a = t.s.table.get('a')!;
  t.reset();
  assert.equal(t.s.suspicionExpired(a, 3999), 'wait');
  assert.equal(t.s.suspicionExpired(a, 4000), 'dead');
  assert.deepEqual(t.events, ['dead a']);
  assert.equal(state(t, 'a'), 2);
  assert.deepEqual(t.broadcasts.map((b) => b.msg), [{ type: 6, id: 'a', incarnation: 5, from: 'me' }]);
  assert.equal(t.counters.get('degradedTimeouts'), 0);
  assert.equal(t.s.suspicionExpired(a, 30_000), 'wait', 'no second death');
});

test('suspicion expiry short of k confirmations asks for one more check, then convicts', () => {
  const t = machine();
  for (const id of ['a', 'b', 'c', 'd']) t.alive(id, 5);
  t.s.onSuspect({ id: 'a', incarnation: 5, from: 'me' }, 0);
  const a = t.s.table.get('a')!;
  t.reset();
  assert.equal(t.s.suspicionExpired(a, 24_000), 'verify');
  assert.deepEqual(t.events, [], 'not yet');
  t.s.convict(a, 24_500);
  assert.deepEqual(t.events, ['dead a']);
  assert.equal(t.counters.get('degradedTimeouts'), 1, 'it ran out without its k confirmations');
  t.s.convict(a, 25_000);
  assert.deepEqual(t.events, ['dead a'], 'convicting twice is a no-op');
  // A second expiry of the same suspicion (the check passed but no refutation came) convicts at once.
  t.alive('b', 6);
  t.s.onSuspect({ id: 'b', incarnation: 6, from: 'me' }, 0);
  const b = t.s.table.get('b')!;
  assert.equal(t.s.suspicionExpired(b, 24_000), 'verify');
  b.suspicion!.deadlineMs = 25_000;
  assert.equal(t.s.suspicionExpired(b, 25_000), 'dead');
});

test('a suspicion of a newer incarnation replaces one we hold of an older life, with a timer of its own', () => {
  const t = machine();
  for (const id of ['a', 'b', 'c', 'd']) t.alive(id, 5);
  t.s.onSuspect({ id: 'a', incarnation: 5, from: 'b' }, 0);
  const a = t.s.table.get('a')!;
  const old = a.suspicion!;
  // a refuted (incarnation 6) and we missed it; now c suspects a at 6.
  t.s.onSuspect({ id: 'a', incarnation: 6, from: 'c' }, 10_000);
  assert.equal(a.incarnation, 6);
  assert.equal(a.state, WireState.Suspect);
  assert.notEqual(a.suspicion, old);
  assert.equal(a.suspicion!.startMs, 10_000);
  assert.equal(t.s.suspicionExpired(a, old.deadlineMs), 'wait', 'the old life\'s deadline convicts nobody');
  // The same incarnation again is a confirmation, as before.
  t.s.onSuspect({ id: 'a', incarnation: 6, from: 'd' }, 11_000);
  assert.equal(a.suspicion!.confirmations, 1);
});

test('a suspect that answers the last check is checked again, not convicted, up to MAX_SUSPICION_CHECKS times', () => {
  const t = machine();
  for (const id of ['a', 'b', 'c', 'd']) t.alive(id, 5);
  t.s.onSuspect({ id: 'a', incarnation: 5, from: 'me' }, 0);
  const a = t.s.table.get('a')!;
  let now = 24_000;
  for (let check = 1; check <= MAX_SUSPICION_CHECKS; check++) {
    assert.equal(t.s.suspicionExpired(a, now), 'verify', `check ${check}`);
    a.suspicion!.answered(now, 1000); // it answered; its refutation was lost
    assert.equal(t.s.suspicionExpired(a, now + 999), 'wait');
    now += 1000;
  }
  assert.equal(t.s.suspicionExpired(a, now), 'dead', 'an answer whose refutation never arrives, again and again, is not believed forever');
});

test('alive refutes a suspicion (suspect → alive), cancelling the timer; so does a restart after death', () => {
  const t = machine();
  for (const id of ['a', 'b', 'c', 'd']) t.alive(id, 5);
  t.s.onSuspect({ id: 'a', incarnation: 5, from: 'b' }, 0);
  t.reset();
  t.alive('a', 5);
  assert.equal(state(t, 'a'), 1, 'the same incarnation does not refute');
  t.alive('a', 6);
  assert.deepEqual(t.events, ['alive a']);
  assert.deepEqual(t.suspicions, ['a cleared']);
  assert.equal(t.s.table.get('a')!.suspicion, undefined);
  assert.equal(t.broadcasts[0]!.urgent, true, 'refutations spread eagerly');
  t.s.onDead({ id: 'a', incarnation: 6, from: 'b' }, 10);
  t.reset();
  t.alive('a', 1_000_000);
  assert.deepEqual(t.events, ['alive a']);
});

test('dead: ≥ incarnation kills (from suspect or alive); older ones and repeats are ignored; from itself means left', () => {
  const t = machine();
  for (const id of ['a', 'b', 'c']) t.alive(id, 5);
  t.s.onSuspect({ id: 'a', incarnation: 5, from: 'b' }, 0);
  t.reset();
  t.s.onDead({ id: 'a', incarnation: 4, from: 'b' }, 1);
  assert.deepEqual(t.events, []);
  t.s.onDead({ id: 'a', incarnation: 5, from: 'b' }, 1);
  t.s.onDead({ id: 'a', incarnation: 9, from: 'c' }, 1);
  t.s.onDead({ id: 'b', incarnation: 5, from: 'b' }, 1);
  assert.deepEqual(t.events, ['dead a', 'leave b']);
  assert.deepEqual([state(t, 'a'), state(t, 'b')], [2, 3]);
  assert.deepEqual(t.suspicions, ['a cleared']);
  t.reset();
  t.alive('b', 6);
  assert.deepEqual(t.events, ['join b'], 'a member that had left joins again');
});

test('refutation: suspicion or death about self raises our incarnation above the accusation and our health score', () => {
  const t = machine();
  t.s.onSuspect({ id: 'me', incarnation: 10, from: 'x' }, 0);
  assert.equal(t.self.incarnation, 11);
  t.s.onDead({ id: 'me', incarnation: 20, from: 'x' }, 0);
  assert.equal(t.self.incarnation, 21);
  t.s.onSuspect({ id: 'me', incarnation: 3, from: 'x' }, 0);
  assert.equal(t.self.incarnation, 21, 'stale accusations are ignored');
  assert.deepEqual(t.broadcasts.map((b) => [b.msg.type, (b.msg as { incarnation: number }).incarnation, b.urgent]), [[4, 11, true], [4, 21, true]]);
  assert.equal(t.s.awareness.healthScore, 2);
  assert.equal(t.counters.get('refutations'), 2);
  assert.equal(state(t, 'me'), 0, 'a node never marks itself suspect or dead');
  assert.deepEqual(t.events, []);
});

test('alive about self: our own echo is ignored, an outdated view of us is refuted', () => {
  const t = machine();
  t.s.onAlive({ id: 'me', incarnation: 10, address: 'me:1', meta: EMPTY, metaVersion: 0 }, 0);
  assert.equal(t.broadcasts.length, 0);
  t.s.onAlive({ id: 'me', incarnation: 12, address: 'me:1', meta: new Uint8Array([7]), metaVersion: 3 }, 0);
  assert.equal(t.self.incarnation, 13);
  assert.equal(t.broadcasts.length, 1);
});

test('name conflict: another address claiming our id at ≥ our incarnation is reported once, never fought', () => {
  const t = machine();
  t.s.onAlive({ id: 'me', incarnation: 9, address: 'other:1', meta: EMPTY, metaVersion: 0 }, 0);
  assert.deepEqual(t.conflicts, [], 'an older claim (our previous life) is stale, not a conflict');
  t.s.onAlive({ id: 'me', incarnation: 50, address: 'other:1', meta: EMPTY, metaVersion: 0 }, 0);
  t.s.onAlive({ id: 'me', incarnation: 51, address: 'other:1', meta: EMPTY, metaVersion: 0 }, 0);
  assert.deepEqual(t.conflicts, ['other:1 50']);
  assert.equal(t.s.conflictingAddress, 'other:1');
  t.s.onSuspect({ id: 'me', incarnation: 50, from: 'x' }, 0);
  assert.equal(t.self.incarnation, 10, 'no refutation war with the other process');
  assert.equal(t.broadcasts.length, 0);
});

test('push-pull merge: alive as alive, left as leave, dead only as suspicion, unknown suspects ignored', () => {
  const t = machine();
  t.alive('a', 5);
  t.reset();
  t.s.mergeRemote([
    { id: 'a', incarnation: 5, address: 'a:1', state: 2, meta: EMPTY, metaVersion: 0 },
    { id: 'b', incarnation: 1, address: 'b:1', state: 0, meta: EMPTY, metaVersion: 0 },
    { id: 'c', incarnation: 1, address: 'c:1', state: 0, meta: EMPTY, metaVersion: 0 },
    { id: 'c', incarnation: 1, address: 'c:1', state: 3, meta: EMPTY, metaVersion: 0 },
    { id: 'ghost', incarnation: 1, address: 'g:1', state: 1, meta: EMPTY, metaVersion: 0 },
    { id: 'me', incarnation: 10, address: 'me:1', state: 0, meta: EMPTY, metaVersion: 0 },
  ], 0);
  assert.deepEqual(t.events, ['suspect a', 'join b', 'join c', 'leave c']);
  assert.equal(t.s.table.get('a')!.suspicion!.k, 0, 'N = 4 is too few to want confirmations');
  assert.equal(t.s.table.get('ghost'), undefined);
});

test('metadata larger than metaMaxBytes is dropped and counted', () => {
  const t = machine({ metaMaxBytes: 16 });
  t.alive('a', 1, { meta: new Uint8Array(17) });
  assert.equal(t.s.table.get('a'), undefined);
  assert.equal(t.counters.get('droppedMetaTooLarge'), 1);
});

test('setMeta raises incarnation and metaVersion and gossips; leave announces a dead message from ourselves', () => {
  const t = machine();
  t.s.setMeta(new Uint8Array([1, 2]), 5);
  assert.deepEqual([t.self.incarnation, t.self.metaVersion, [...t.self.meta]], [11, 1, [1, 2]]);
  assert.deepEqual(t.events, ['update me']);
  let gossiped = false;
  t.s.leave(6, () => (gossiped = true));
  assert.equal(gossiped, true);
  assert.deepEqual(t.broadcasts.map((b) => b.msg.type), [4, 6]);
  assert.deepEqual(t.broadcasts[1]!.msg, { type: 6, id: 'me', incarnation: 11, from: 'me' });
  assert.deepEqual(t.events, ['update me', 'leave me']);
  t.s.onSuspect({ id: 'me', incarnation: 11, from: 'x' }, 7);
  assert.equal(t.self.incarnation, 11, 'a leaving node does not refute');
});

test('Lifeguard off: the suspicion timeout is fixed at the minimum, with no confirmations wanted', () => {
  const t = machine({ lifeguard: false });
  for (let i = 0; i < 20; i++) t.alive(`m${i}`, 1);
  t.s.onSuspect({ id: 'm0', incarnation: 1, from: 'm1' }, 0);
  const s = t.s.table.get('m0')!.suspicion!;
  // N = 21: min = 4 × log10(21) × 1 s = 4 × 1.322 s.
  assert.deepEqual([s.k, s.minMs, s.maxMs, s.deadlineMs], [0, 5288, 5288, 5288]);
});

test('reap forgets dead and left members after deadReapMs', () => {
  const t = machine({ deadReapMs: 1000 });
  t.alive('a', 1);
  t.s.onDead({ id: 'a', incarnation: 1, from: 'b' }, 100);
  assert.deepEqual(t.s.reap(1099).map((m) => m.id), []);
  assert.deepEqual(t.s.reap(1100).map((m) => m.id), ['a']);
  assert.equal(t.s.table.get('a'), undefined);
});
