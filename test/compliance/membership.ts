// The Membership compliance suite (DEVELOPERS.md rule 9): memory, static and
// SWIM-backed memberships must all pass it. It uses the Membership interface
// only. Changes travel asynchronously (microtasks, gossip, record fetches), so
// the suite polls with a generous real-time deadline; nothing asserts timings.
//
// Capabilities say which parts of the contract an implementation takes on;
// each flag is checked both ways where it can be (a fixed snapshot must keep
// what it sets local), never by loosening an assertion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MemberView, Membership, MembershipEvent, RecordData } from '../../src/membership/types.ts';

export interface MemberSpec {
  id: string;
  data?: RecordData;
}

export interface MembershipCluster {
  /** One member per spec, in order, started and joined to the others (they may not see each other yet). */
  members: Membership[];
  /** Starts one more member and joins it to the cluster (capability `joins`). */
  join?: (spec: MemberSpec) => Promise<Membership>;
  /** Stops a member gracefully, announcing it (capability `leaves`). */
  leave?: (m: Membership) => Promise<void>;
  /** Stops a member without telling anyone (capability `detectsCrash`). */
  crash?: (m: Membership) => Promise<void>;
  /** Stops whatever is still running. */
  teardown: () => Promise<void>;
}

export interface MembershipCapabilities {
  /** setLocal reaches the other members as `update` events. False: a fixed view, where what a node sets stays local and no events come. */
  disseminates: boolean;
  /** Members can join later, announced to the others with `join`. */
  joins: boolean;
  /** A graceful stop reaches the others as `leave` with reason `left`. */
  leaves: boolean;
  /** A crash is detected and reaches the others as `leave` with reason `dead`. */
  detectsCrash: boolean;
  /** The largest record accepted, bytes of encoded record; undefined when there is no limit. */
  maxRecordBytes?: number;
}

/** Tests by key, for `todo`. */
export type MembershipTest =
  | 'identity' | 'setLocal' | 'view' | 'fixed' | 'update' | 'order' | 'join' | 'self'
  | 'reentrant' | 'unsubscribe' | 'throwing' | 'left' | 'dead' | 'limit';

export interface MembershipComplianceOptions {
  capabilities: MembershipCapabilities;
  setup: (specs: MemberSpec[]) => Promise<MembershipCluster>;
  /** Known bugs: the test is listed as `todo` with this reason and not run (a bug to fix in src/, not a contract change). */
  todo?: Partial<Record<MembershipTest, string>>;
}

const LIMIT_MS = 15_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let counter = 0;
const uid = (label: string): string => `${label}-${process.pid}-${++counter}`;

/** Polls `cond` until true; fails naming `what` after a generous real-time limit. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > LIMIT_MS) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Lets in-process deliveries (microtasks, immediates) run: for asserting that nothing came. */
const quiesce = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  await sleep(20);
};

/** Records every event a member receives. */
function record(m: Membership): { events: MembershipEvent[]; off: () => void } {
  const events: MembershipEvent[] = [];
  return { events, off: m.subscribe((e) => void events.push(e)) };
}

const about = (events: MembershipEvent[], id: string): MembershipEvent[] => events.filter((e) => e.member.id === id);
const ids = (m: Membership): string[] => m.members().map((v) => v.id).sort();
/** Whether `observer` lists `id` with at least `version`. */
const sees = (observer: Membership, id: string, version: number): boolean => (observer.member(id)?.version ?? -1) >= version;

export function membershipCompliance(name: string, opts: MembershipComplianceOptions): void {
  const caps = opts.capabilities;
  const run = (key: MembershipTest, title: string, needs: boolean | string, specs: number, body: (c: MembershipCluster, m: Membership[], specs: MemberSpec[]) => Promise<void>): void => {
    const skip = needs === true ? false : needs === false ? 'not applicable' : needs;
    const todo = opts.todo?.[key];
    // A known bug may throw from a listener outside any test (an uncaught exception fails the whole
    // file), so a todo test is listed with its reason but not run until the bug is fixed.
    test(`${name} membership: ${title}`, { skip, todo: todo && `not run, known bug: ${todo}` }, todo !== undefined ? () => {} : async () => {
      const list = Array.from({ length: specs }, (_, i) => ({ id: uid(`m${i}`), data: { n: i, tag: `node ${i}` } }));
      const c = await opts.setup(list);
      try {
        await body(c, c.members, list);
      } finally {
        await c.teardown();
      }
    });
  };
  const needs = (flag: boolean, what: string): boolean | string => flag || `the implementation does not ${what}`;
  /** Until every member lists every other with at least the data it started with. */
  const meshed = (members: Membership[]): Promise<void> =>
    until(() => members.every((m) => members.every((o) => o === m || m.member(o.localId)?.data.tag !== undefined)), 'every member to list the others');

  run('identity', 'local() is this node; members() and member() never list it; reportUnreachable is harmless', true, 2, async (_c, [a, b]) => {
    for (const m of [a!, b!]) {
      assert.equal(m.local().id, m.localId);
      assert.ok(Number.isFinite(m.local().version));
      assert.equal(typeof m.local().data, 'object');
      assert.equal(m.member(m.localId), undefined);
      assert.ok(!m.members().some((v) => v.id === m.localId));
      assert.equal(m.member(uid('nobody')), undefined);
    }
    await meshed([a!, b!]);
    a!.reportUnreachable(b!.localId, true);
    a!.reportUnreachable(uid('nobody'), false);
    assert.equal(a!.member(a!.localId), undefined);
  });

  run('setLocal', 'setLocal sets, replaces and removes keys, raising the version each time; earlier views stay as they were', true, 1, async (_c, [a]) => {
    const m = a!;
    const v0 = m.local();
    m.setLocal('svc', { name: 'greeter', list: [1, 'two', null] });
    const v1 = m.local();
    assert.ok(v1.version > v0.version);
    assert.deepEqual(v1.data.svc, { name: 'greeter', list: [1, 'two', null] });
    m.setLocal('svc', 'replaced');
    m.setLocal('other', true);
    const v2 = m.local();
    assert.ok(v2.version > v1.version);
    assert.deepEqual({ svc: v2.data.svc, other: v2.data.other }, { svc: 'replaced', other: true });
    m.setLocal('svc', undefined);
    const v3 = m.local();
    assert.ok(v3.version > v2.version);
    assert.ok(!Object.hasOwn(v3.data, 'svc'), 'setLocal(key, undefined) removes the key');
    assert.equal(v3.data.other, true);
    assert.deepEqual(v1.data.svc, { name: 'greeter', list: [1, 'two', null] }, 'a view handed out earlier changed');
    assert.equal(v2.data.svc, 'replaced');
  });

  run('view', 'every member lists every other with its record, and never itself', true, 3, async (_c, members, specs) => {
    await meshed(members);
    for (const [i, m] of members.entries()) {
      assert.deepEqual(ids(m), specs.filter((_, k) => k !== i).map((s) => s.id).sort());
      for (const [k, s] of specs.entries()) if (k !== i) assert.equal(m.member(s.id)!.data.tag, s.data?.tag);
    }
  });

  // The other side of `disseminates: false`: a fixed view keeps what a node sets local.
  run('fixed', 'a fixed view: setLocal stays local and no event ever arrives', !caps.disseminates || 'the implementation disseminates', 2, async (_c, [a, b]) => {
    const seen = [record(a!), record(b!)];
    const before = b!.member(a!.localId);
    a!.setLocal('k', 'v');
    await quiesce();
    assert.deepEqual(b!.member(a!.localId), before);
    assert.deepEqual(seen.map((s) => s.events.length), [0, 0]);
  });

  run('update', 'a change reaches every other member as an update carrying the new record, removals and large records too', needs(caps.disseminates, 'disseminate'), 3, async (_c, members) => {
    const [a, ...others] = members as [Membership, ...Membership[]];
    await meshed(members);
    const seen = others.map(record);
    a.setLocal('k', { deep: [1, 2, { x: 'ü€😀' }] });
    const v = a.local().version;
    await until(() => others.every((o) => sees(o, a.localId, v)), 'the new version everywhere');
    for (const [i, o] of others.entries()) {
      assert.deepEqual(o.member(a.localId)!.data.k, { deep: [1, 2, { x: 'ü€😀' }] });
      const last = about(seen[i]!.events, a.localId).at(-1)!;
      assert.deepEqual([last.type, last.member.version], ['update', v]);
      assert.deepEqual(last.member.data, a.local().data);
    }
    a.setLocal('big', 'y'.repeat(8 * 1024)); // larger than any gossip packet
    a.setLocal('k', undefined);
    const v2 = a.local().version;
    await until(() => others.every((o) => sees(o, a.localId, v2)), 'the large record everywhere');
    for (const o of others) {
      assert.ok(!Object.hasOwn(o.member(a.localId)!.data, 'k'));
      assert.equal(o.member(a.localId)!.data.big, 'y'.repeat(8 * 1024));
    }
  });

  run('order', 'updates arrive in order: versions only rise, ending at the latest', needs(caps.disseminates, 'disseminate'), 2, async (_c, [a, b]) => {
    await meshed([a!, b!]);
    const seen = record(b!);
    for (let i = 0; i < 20; i++) a!.setLocal('n', i);
    const v = a!.local().version;
    await until(() => sees(b!, a!.localId, v), 'the last version');
    const versions = about(seen.events, a!.localId).map((e) => e.member.version);
    assert.ok(versions.every((x, i) => i === 0 || x > versions[i - 1]!), `versions out of order: ${versions}`);
    assert.equal(versions.at(-1), v);
    assert.equal(b!.member(a!.localId)!.data.n, 19);
  });

  run('join', 'a member joining later is announced with join (before any update) and lists the others', needs(caps.joins, 'take late joiners'), 2, async (c, members) => {
    await meshed(members);
    const seen = members.map(record);
    const late = await c.join!({ id: uid('late'), data: { tag: 'late' } });
    await until(() => members.every((m) => m.member(late.localId)?.data.tag === 'late'), 'the late member everywhere');
    await until(() => members.every((m) => late.member(m.localId)?.data.tag !== undefined), 'the late member to list the others');
    for (const s of seen) {
      const first = about(s.events, late.localId)[0]!;
      assert.equal(first.type, 'join');
    }
    assert.deepEqual(ids(late), members.map((m) => m.localId).sort());
  });

  run('self', 'no event is ever about the member itself', needs(caps.disseminates, 'disseminate'), 2, async (_c, [a, b]) => {
    await meshed([a!, b!]);
    const seen = record(a!);
    for (let i = 0; i < 5; i++) a!.setLocal('n', i);
    b!.setLocal('marker', 1); // once a sees this, its own changes had their chance to echo
    const v = b!.local().version;
    await until(() => seen.events.some((e) => e.member.id === b!.localId && e.member.version >= v), 'the marker');
    assert.deepEqual(about(seen.events, a!.localId), []);
  });

  run('reentrant', 'a listener calling back into the membership is never re-entered; what its calls cause still arrives', needs(caps.disseminates, 'disseminate'), 2, async (_c, [a, b]) => {
    await meshed([a!, b!]);
    let depth = 0;
    let maxDepth = 0;
    const got: number[] = [];
    b!.subscribe((e) => {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      if (e.member.id === a!.localId && e.type === 'update') {
        got.push(e.member.data.n as number);
        b!.members();
        b!.setLocal('echo', e.member.data.n);
        // Call the sender back from inside the listener: its next change must wait for us to return.
        if ((e.member.data.n as number) < 5) a!.setLocal('n', (e.member.data.n as number) + 1);
        b!.subscribe(() => {})();
      }
      depth--;
    });
    a!.setLocal('n', 0);
    await until(() => got.includes(5), 'the chain of updates');
    assert.equal(maxDepth, 1, 'a listener was re-entered');
    assert.ok(got.every((x, i) => i === 0 || x > got[i - 1]!), `out of order: ${got}`);
    await until(() => a!.member(b!.localId)?.data.echo === 5, 'the echo back');
  });

  run('unsubscribe', 'unsubscribe stops events to that listener only; calling it twice is harmless', needs(caps.disseminates, 'disseminate'), 2, async (_c, [a, b]) => {
    await meshed([a!, b!]);
    const gone = record(b!);
    const stays = record(b!);
    gone.off();
    gone.off();
    a!.setLocal('k', 1);
    const v = a!.local().version;
    await until(() => stays.events.some((e) => e.member.version >= v), 'the update');
    await quiesce();
    assert.deepEqual(gone.events, []);
  });

  run('throwing', 'a throwing listener does not stop delivery to it or to the others', needs(caps.disseminates, 'disseminate'), 2, async (_c, [a, b]) => {
    await meshed([a!, b!]);
    let thrown = 0;
    const off = b!.subscribe(() => {
      thrown++;
      throw new Error('listener bug');
    });
    const after = record(b!);
    try {
      for (let i = 0; i < 3; i++) {
        a!.setLocal('k', i);
        const v = a!.local().version;
        await until(() => after.events.some((e) => e.member.version >= v), `update ${i} past a throwing listener`);
      }
    } finally {
      off(); // nothing may throw once the test is over
    }
    assert.ok(thrown >= 3, `the throwing listener got ${thrown} events`);
    assert.equal(b!.member(a!.localId)!.data.k, 2);
  });

  const departure = (key: 'left' | 'dead', how: 'leave' | 'crash', flag: boolean, what: string): void => {
    run(key, `a member that ${how === 'leave' ? 'stops gracefully' : 'crashes'} leaves with reason '${key}' and its last record`, needs(flag, what), 3, async (c, members) => {
      const [gone, ...others] = members as [Membership, ...Membership[]];
      await meshed(members);
      gone.setLocal('last', 'words');
      const v = gone.local().version;
      await until(() => others.every((o) => sees(o, gone.localId, v)), 'the last record');
      const seen = others.map(record);
      await c[how]!(gone);
      await until(() => seen.every((s) => about(s.events, gone.localId).some((e) => e.type === 'leave')), 'the leave everywhere');
      for (const [i, o] of others.entries()) {
        const e = about(seen[i]!.events, gone.localId).find((x) => x.type === 'leave')!;
        assert.equal(e.type === 'leave' && e.reason, key);
        assert.deepEqual([e.member.version, e.member.data.last], [v, 'words']);
        assert.equal(o.member(gone.localId), undefined);
        assert.ok(!ids(o).includes(gone.localId));
      }
      // The survivors still see each other.
      assert.deepEqual(ids(others[0]!), [others[1]!.localId]);
    });
  };
  departure('left', 'leave', caps.leaves, 'announce graceful leaves');
  departure('dead', 'crash', caps.detectsCrash, 'detect crashes');

  const max = caps.maxRecordBytes;
  run('limit', 'a record past the limit throws MEMBERSHIP_RECORD_TOO_LARGE and changes nothing', max !== undefined || 'the implementation has no record limit', 2, async (_c, [a, b]) => {
    const m = a!;
    m.setLocal('keep', 'me');
    const before = m.local();
    assert.throws(() => m.setLocal('blob', 'z'.repeat(max! + 1)), { code: 'MEMBERSHIP_RECORD_TOO_LARGE' });
    assert.deepEqual(m.local(), before);
    m.setLocal('blob', 'z'.repeat(Math.floor(max! / 2))); // well under the limit: accepted
    assert.ok(m.local().version > before.version);
    if (caps.disseminates) {
      const v = m.local().version;
      await until(() => sees(b!, m.localId, v), 'the half-limit record');
      assert.equal((b!.member(m.localId)!.data.blob as string).length, Math.floor(max! / 2));
    }
  });
}

/** Views for a fixed snapshot of `specs` (version 1), e.g. to build a StaticMembership. */
export function snapshotOf(specs: MemberSpec[]): MemberView[] {
  return specs.map((s) => ({ id: s.id, version: 1, data: { ...s.data } }));
}
