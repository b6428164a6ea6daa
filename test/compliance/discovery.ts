// The Discovery compliance suite (DEVELOPERS.md rule 9). MdnsDiscovery is the
// only implementation today; the suite runs it over the in-memory LAN
// (virtual time) and over real multicast on loopback. It uses the Discovery
// interface only: what a node hears and stops hearing, and its lifecycle.
// The LAN moves on by `step()` (virtual time or a short real pause) while the
// suite polls with a real-time deadline; nothing asserts timings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnnouncementMeta, Discovery, LocalAnnouncement, MdnsEvent } from '../../src/mdns/types.ts';
import { MeshError } from '../../src/errors/index.ts';

export interface DiscoveryNodeOptions {
  cluster: string;
  /** What to announce; undefined browses only. */
  announce?: LocalAnnouncement;
}

export interface DiscoveryLan {
  /** A discovery on this LAN, not started. */
  make: (o: DiscoveryNodeOptions) => Discovery;
  /** Lets the LAN run a little: packets delivered, timers due (virtual or real time). */
  step: () => Promise<void>;
  /** Drops whatever node `nodeId` sends while `silent` (option `canSilence`). */
  silence?: (nodeId: string, silent: boolean) => void;
  /** Stops every discovery made and releases the LAN. */
  teardown: () => Promise<void>;
}

export type DiscoveryTest = 'lifecycle' | 'abortStart' | 'abortCalls' | 'find' | 'cluster' | 'update' | 'goodbye' | 'ttl' | 'listeners';

export interface DiscoveryComplianceOptions {
  setup: () => Promise<DiscoveryLan>;
  /** The LAN can silence a node (`silence`), so TTL expiry can be checked. */
  canSilence: boolean;
  /** Known bugs: the test is listed as `todo` with this reason and not run. */
  todo?: Partial<Record<DiscoveryTest, string>>;
}

const LIMIT_MS = 15_000;
let counter = 0;

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof MeshError, `expected MeshError ${code}, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

/** A discovery with every event it got. */
interface Probe {
  d: Discovery;
  id: string | undefined;
  events: MdnsEvent[];
}

export function discoveryCompliance(name: string, opts: DiscoveryComplianceOptions): void {
  const run = (key: DiscoveryTest, title: string, needs: true | string, body: (lan: DiscoveryLan, ctx: Ctx) => Promise<void>): void => {
    const todo = opts.todo?.[key];
    test(`${name} discovery: ${title}`, { skip: needs === true ? false : needs, todo: todo && `not run, known bug: ${todo}` }, todo !== undefined ? () => {} : async () => {
      const lan = await opts.setup();
      try {
        await body(lan, new Ctx(lan));
      } finally {
        await lan.teardown();
      }
    });
  };

  run('lifecycle', 'start and stop are idempotent; running says which; nothing works before start or after stop (NOT_RUNNING)', true, async (_lan, c) => {
    const a = c.node('a');
    assert.equal(a.d.running, false);
    await rejectsWith(a.d.browse(), 'NOT_RUNNING');
    await Promise.all([a.d.start(), a.d.start()]);
    await a.d.start();
    assert.equal(a.d.running, true);
    await a.d.browse();
    for (const v of Object.values(a.d.stats())) assert.ok(Number.isInteger(v) && v >= 0);
    await Promise.all([a.d.stop(), a.d.stop()]);
    await a.d.stop();
    assert.equal(a.d.running, false);
    await rejectsWith(a.d.start(), 'NOT_RUNNING');
    await rejectsWith(a.d.browse(), 'NOT_RUNNING');
    await rejectsWith(a.d.update(c.announcement('a', 9)), 'NOT_RUNNING');
    assert.deepEqual(a.d.peers(), []);
    const never = c.node('never');
    await never.d.stop(); // stop before start: harmless, and final
    await rejectsWith(never.d.start(), 'NOT_RUNNING');
  });

  run('abortStart', 'an aborted start is CANCELLED and leaves it stopped; a later start works', true, async (_lan, c) => {
    const a = c.node('a');
    await rejectsWith(a.d.start({ signal: AbortSignal.abort() }), 'CANCELLED');
    assert.equal(a.d.running, false);
    await a.d.start();
    assert.equal(a.d.running, true);
  });

  run('abortCalls', 'browse and update with an aborted signal are CANCELLED; the aborted update changes nothing', true, async (lan, c) => {
    const [a, b] = [c.node('a'), c.node('b')];
    await c.startAll();
    await c.until(() => c.knows(b, 'a'), 'b to find a');
    await rejectsWith(a.d.browse({ signal: AbortSignal.abort() }), 'CANCELLED');
    await rejectsWith(a.d.update(c.announcement('a', 2), { signal: AbortSignal.abort() }), 'CANCELLED');
    await a.d.browse(); // b answers a's browse; a's own answers to b must still carry version 1
    await b.d.browse();
    for (let i = 0; i < 40; i++) await lan.step();
    assert.equal(b.d.peers().find((p) => p.nodeId === a.id)!.protocolVersion, 1);
  });

  run('find', 'nodes of a cluster find each other, once each, never themselves, with what they announced', true, async (_lan, c) => {
    const nodes = ['a', 'b', 'c'].map((id) => c.node(id, { zone: `z-${id}` }));
    await c.startAll();
    await c.until(() => nodes.every((n) => nodes.every((o) => o === n || c.knows(n, o.id!))), 'everyone to find everyone');
    await c.quiet();
    for (const [i, n] of nodes.entries()) {
      const heard = n.events.filter((e) => e.type === 'peer');
      assert.deepEqual(heard.map((e) => e.peer.nodeId).sort(), nodes.filter((o) => o !== n).map((o) => o.id).sort(), 'a peer reported twice, or itself');
      assert.ok(heard.every((e) => e.type === 'peer' && e.previous === undefined));
      assert.deepEqual(n.d.peers().map((p) => p.nodeId).sort(), heard.map((e) => e.peer.nodeId).sort());
      for (const p of n.d.peers()) {
        const want = c.announcement(p.nodeId, 1, { zone: `z-${p.nodeId}` });
        assert.deepEqual(
          [p.cluster, p.gossipAddress, p.rpcAddress, p.protocolVersion, p.meta],
          [c.cluster, want.gossipAddress, want.rpcAddress, 1, want.meta], `node ${i} heard ${p.nodeId}`,
        );
        assert.ok(p.firstSeenAtMs <= p.lastSeenAtMs && p.lastSeenAtMs < p.expiresAtMs);
        assert.ok(p.ttlS > 0);
      }
    }
  });

  run('cluster', 'other clusters are never reported; a browse-only node finds the others and is never found', true, async (_lan, c) => {
    const [a, b] = [c.node('a'), c.node('b')];
    const red = c.node('r', {}, `${c.cluster}-red`);
    const watcher = c.browser();
    await c.startAll();
    await c.until(() => c.knows(watcher, 'a') && c.knows(watcher, 'b') && c.knows(a, 'b'), 'the cluster to be found');
    await a.d.browse();
    await red.d.browse();
    await c.quiet();
    for (const n of [a, b]) assert.deepEqual(n.d.peers().map((p) => p.nodeId), [n === a ? 'b' : 'a']);
    assert.deepEqual(red.events, []);
    assert.deepEqual(red.d.peers(), []);
    assert.deepEqual(watcher.d.peers().map((p) => p.nodeId).sort(), ['a', 'b']);
  });

  run('update', 'update() reaches the others as a peer event carrying the previous announcement', true, async (_lan, c) => {
    const [a, b] = [c.node('a'), c.node('b')];
    await c.startAll();
    await c.until(() => c.knows(b, 'a'), 'b to find a');
    await a.d.update(c.announcement('a', 2, { role: 'new' }));
    await c.until(() => b.d.peers().some((p) => p.nodeId === 'a' && p.protocolVersion === 2), 'the update');
    const e = b.events.filter((x) => x.peer.nodeId === 'a').at(-1)!;
    assert.equal(e.type, 'peer');
    assert.equal(e.type === 'peer' && e.previous?.protocolVersion, 1);
    assert.deepEqual(e.peer.meta, { role: 'new' });
    assert.equal(b.d.peers().filter((p) => p.nodeId === 'a').length, 1);
  });

  run('goodbye', 'a stopped node says goodbye: the others report it expired (goodbye) and drop it', true, async (_lan, c) => {
    const [a, b, d] = [c.node('a'), c.node('b'), c.node('d')];
    await c.startAll();
    await c.until(() => c.knows(a, 'b') && c.knows(d, 'b'), 'b to be found');
    await b.d.stop();
    await c.until(() => !c.knows(a, 'b') && !c.knows(d, 'b'), 'b to be dropped');
    for (const n of [a, d]) {
      const e = n.events.filter((x) => x.peer.nodeId === 'b').at(-1)!;
      assert.deepEqual([e.type, e.type === 'expired' && e.reason], ['expired', 'goodbye']);
    }
    assert.ok(c.knows(a, 'd'), 'the others stay');
  });

  run('ttl', 'a peer that falls silent expires (ttl); heard again, it is reported again', opts.canSilence || 'the LAN cannot silence a node', async (lan, c) => {
    const a = c.node('a');
    c.node('b');
    await c.startAll();
    await c.until(() => c.knows(a, 'b'), 'a to find b');
    lan.silence!('b', true);
    await c.until(() => !c.knows(a, 'b'), 'b to expire');
    const e = a.events.at(-1)!;
    assert.deepEqual([e.type, e.peer.nodeId, e.type === 'expired' && e.reason], ['expired', 'b', 'ttl']);
    lan.silence!('b', false);
    await c.until(() => c.knows(a, 'b'), 'b to be found again');
    assert.equal(a.events.at(-1)!.type, 'peer');
  });

  run('listeners', 'listeners get the events of their type; unsubscribe stops them; a throwing listener harms no other', true, async (_lan, c) => {
    const [a, b] = [c.node('a'), c.node('b')];
    const peersOnly: string[] = [];
    const expiredOnly: string[] = [];
    const gone: MdnsEvent[] = [];
    a.d.on('peer', () => {
      throw new Error('listener bug');
    });
    a.d.on('peer', (e) => void peersOnly.push(e.type));
    a.d.on('expired', (e) => void expiredOnly.push(e.type));
    a.d.on('*', (e) => void gone.push(e))();
    await c.startAll();
    await c.until(() => c.knows(a, 'b'), 'a to find b');
    await b.d.stop();
    await c.until(() => expiredOnly.length > 0, 'the goodbye');
    assert.deepEqual(peersOnly, ['peer']);
    assert.deepEqual(expiredOnly, ['expired']);
    assert.deepEqual(gone, []);
    assert.equal(a.d.running, true);
  });
}

/** The suite's view of one LAN: nodes it made, their events, and waiting. */
class Ctx {
  readonly cluster = `cc${process.pid % 100_000}-${++counter}`;
  private readonly lan: DiscoveryLan;
  private readonly probes: Probe[] = [];
  constructor(lan: DiscoveryLan) {
    this.lan = lan;
  }

  /** What node `id` announces: addresses derived from its id, so receivers can check them. */
  announcement(id: string, protocolVersion: number, meta: AnnouncementMeta = {}): LocalAnnouncement {
    const host = `10.77.${id.charCodeAt(0) % 250}.${id.length}`;
    return { nodeId: id, gossipAddress: `${host}:7946`, rpcAddress: `${host}:8080`, protocolVersion, meta };
  }

  node(id: string, meta: AnnouncementMeta = {}, cluster = this.cluster): Probe {
    return this.add(this.lan.make({ cluster, announce: this.announcement(id, 1, meta) }), id);
  }

  browser(): Probe {
    return this.add(this.lan.make({ cluster: this.cluster }), undefined);
  }

  async startAll(): Promise<void> {
    for (const p of this.probes) await p.d.start();
  }

  knows(p: Probe, id: string): boolean {
    return p.d.peers().some((x) => x.nodeId === id);
  }

  async until(cond: () => boolean, what: string): Promise<void> {
    const start = performance.now();
    while (!cond()) {
      if (performance.now() - start > LIMIT_MS) assert.fail(`timed out waiting for ${what}`);
      await this.lan.step();
    }
  }

  /** Lets the LAN run long enough for anything pending (answers, repeats) to arrive. */
  async quiet(): Promise<void> {
    for (let i = 0; i < 40; i++) await this.lan.step();
  }

  private add(d: Discovery, id: string | undefined): Probe {
    const p: Probe = { d, id, events: [] };
    d.on('*', (e) => void p.events.push(e));
    this.probes.push(p);
    return p;
  }
}
