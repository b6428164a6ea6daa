// The Selector compliance suite (DEVELOPERS.md rule 9): the default selector
// with each strategy, and any wrapper (the mesh's ReportingSelector), must
// pass it. The suite owns the registry (in memory), a VirtualClock and a
// SeededRandom, and hands them to the factory: ejections end by moving
// virtual time, never by waiting. Registry changes reach the selector through
// its watch asynchronously, so those reads poll with a real-time deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Random } from '../../src/clock/types.ts';
import { VirtualClock } from '../../src/clock/virtual.ts';
import { SeededRandom } from '../../src/clock/seeded.ts';
import { MeshError } from '../../src/errors/index.ts';
import { MemoryRegistry } from '../../src/registry/memory.ts';
import type { Node, Registry, Service, Watcher } from '../../src/registry/types.ts';
import { byMetadata, byVersion } from '../../src/selector/filters.ts';
import type { CallOutcome, Next, SelectOptions, Selector, Strategy } from '../../src/selector/types.ts';

export interface SelectorParts {
  registry: Registry;
  clock: VirtualClock;
  random: Random;
}

export interface SelectorComplianceOptions {
  /** A selector over `parts`, with its default configuration otherwise. */
  make: (parts: SelectorParts) => Selector;
}

const LIMIT_MS = 10_000;
const HOUR_MS = 3_600_000;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const refused = (): MeshError => new MeshError('CONNECTION_REFUSED', 'nothing listens');

function node(id: string, metadata: Record<string, string> = {}): Node {
  return { id, address: `10.0.0.${id.charCodeAt(0) % 250}:${9000 + id.length}`, metadata };
}

function svc(name: string, version: string, nodes: Node[]): Service {
  return { name, version, metadata: {}, endpoints: [], nodes };
}

/** A registry that counts the watches still open, to check that close releases them. */
class TrackingRegistry implements Registry {
  readonly name = 'tracking';
  open = 0;
  readonly inner: MemoryRegistry;
  constructor(inner: MemoryRegistry) {
    this.inner = inner;
  }
  register: Registry['register'] = (s, o) => this.inner.register(s, o);
  deregister: Registry['deregister'] = (s, o) => this.inner.deregister(s, o);
  getService: Registry['getService'] = (n, o) => this.inner.getService(n, o);
  listServices: Registry['listServices'] = (o) => this.inner.listServices(o);
  watch: Registry['watch'] = (o) => {
    const w = this.inner.watch(o);
    this.open++;
    let stopped = false;
    const stop = (): void => {
      if (!stopped) this.open--;
      stopped = true;
      w.stop();
    };
    return { stop, [Symbol.asyncIterator]: () => w[Symbol.asyncIterator]() } satisfies Watcher;
  };
}

interface World {
  selector: Selector;
  registry: TrackingRegistry;
  clock: VirtualClock;
  /** One call: select, next, then mark with `outcome` (the client's contract: every node returned is marked once). */
  call(service: string, outcome?: CallOutcome, opts?: SelectOptions): Promise<Node>;
  /** Ids picked over `n` successful calls. */
  picks(service: string, n?: number, opts?: SelectOptions): Promise<Set<string>>;
  /** Fails node `id` (node-level error) until calls stop picking it; at most 10 failures. */
  eject(service: string, id: string): Promise<void>;
}

/** Calls `select` so that a synchronous throw fails the test: errors must come back as rejections. */
async function select(s: Selector, service: string, opts?: SelectOptions): Promise<Next> {
  let r: ReturnType<Selector['select']>;
  try {
    r = s.select(service, opts);
  } catch (err) {
    assert.fail(`select threw synchronously instead of rejecting: ${String(err)}`);
  }
  return r;
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof MeshError, String(err));
    assert.equal(err.code, code);
    return true;
  });
}

/** Polls (letting watch events run) until `ok` holds; fails naming `what` after a real-time limit. */
async function eventually(ok: () => Promise<boolean>, what: string): Promise<void> {
  const start = performance.now();
  while (!(await ok())) {
    if (performance.now() - start > LIMIT_MS) assert.fail(`timed out waiting for ${what}`);
    await tick();
  }
}

export function selectorCompliance(name: string, opts: SelectorComplianceOptions): void {
  const run = (title: string, services: Service[], body: (w: World) => Promise<void>): void => {
    test(`${name} selector: ${title}`, async () => {
      const clock = new VirtualClock();
      const registry = new TrackingRegistry(new MemoryRegistry({ clock }));
      for (const s of services) await registry.register(s);
      const selector = opts.make({ registry, clock, random: new SeededRandom(42) });
      const call = async (service: string, outcome?: CallOutcome, o?: SelectOptions): Promise<Node> => {
        const n = (await select(selector, service, o))();
        selector.mark(service, n, outcome);
        return n;
      };
      const picks = async (service: string, n = 60, o?: SelectOptions): Promise<Set<string>> => {
        const out = new Set<string>();
        for (let i = 0; i < n; i++) out.add((await call(service, { latencyMs: 1 }, o)).id);
        return out;
      };
      const eject = async (service: string, id: string): Promise<void> => {
        for (let failures = 0; failures < 10; failures++) {
          let n: Node | undefined;
          for (let i = 0; i < 200 && n === undefined; i++) {
            const got = (await select(selector, service))();
            if (got.id === id) n = got;
            else selector.mark(service, got, { latencyMs: 1 });
          }
          if (n === undefined) return; // no longer picked: ejected
          selector.mark(service, n, { error: refused() });
        }
        assert.fail(`${id} still picked after 10 node-level failures`);
      };
      try {
        await body({ selector, registry, clock, call, picks, eject });
      } finally {
        selector.close();
      }
    });
  };
  const three = [svc('greeter', '1.0.0', [node('a'), node('b'), node('c')])];

  run('an unknown service is SERVICE_NOT_FOUND, as a rejection', three, async (w) => {
    await rejectsWith(select(w.selector, 'nobody'), 'SERVICE_NOT_FOUND');
    await rejectsWith(select(w.selector, 'nobody'), 'SERVICE_NOT_FOUND'); // a second (maybe cached) answer too
  });

  run('next() returns the service\'s nodes, as registered, and every node in time', [...three, svc('other', '1', [node('x'), node('y')])], async (w) => {
    const want = new Map(three[0]!.nodes.map((n) => [n.id, n]));
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const n = await w.call('greeter', { latencyMs: 1 });
      assert.deepEqual(n, want.get(n.id), `not a greeter node: ${n.id}`);
      seen.add(n.id);
    }
    assert.deepEqual([...seen].sort(), ['a', 'b', 'c']);
    assert.deepEqual([...(await w.picks('other'))].sort(), ['x', 'y']);
  });

  run('filters narrow by version and by metadata; nothing left is NONE_AVAILABLE', [
    svc('greeter', '1.0.0', [node('a', { zone: 'eu' }), node('b', { zone: 'us' })]),
    svc('greeter', '2.0.0', [node('c', { zone: 'eu' })]),
  ], async (w) => {
    const v2 = [byVersion('2.0.0')];
    const eu = [byMetadata('zone', 'eu')];
    assert.deepEqual([...(await w.picks('greeter', 40, { filters: v2 }))], ['c']);
    assert.deepEqual([...(await w.picks('greeter', 60, { filters: eu }))].sort(), ['a', 'c']);
    assert.deepEqual([...(await w.picks('greeter', 40, { filters: [byVersion('1.0.0'), byMetadata('zone', 'us')] }))], ['b']);
    await rejectsWith(select(w.selector, 'greeter', { filters: [byVersion('9.9.9')] }), 'NONE_AVAILABLE');
    assert.deepEqual([...(await w.picks('greeter', 60))].sort(), ['a', 'b', 'c'], 'filters must not stick');
  });

  run('a strategy named per select picks among the nodes; a custom one sees only eligible nodes; an unknown name is INVALID_ARGUMENT', three, async (w) => {
    for (const strategy of ['random', 'roundRobin', 'leastLatency'] as const) {
      assert.deepEqual([...(await w.picks('greeter', 60, { strategy }))].sort(), ['a', 'b', 'c'], strategy);
    }
    await w.eject('greeter', 'a');
    const offered: string[][] = [];
    const last: Strategy = (nodes, ctx) => {
      offered.push(nodes.map((n) => n.id));
      assert.equal(typeof ctx.stats(nodes[0]!).inflight, 'number');
      return nodes[nodes.length - 1]!;
    };
    const n = await w.call('greeter', undefined, { strategy: last });
    assert.equal(offered.length, 1);
    assert.deepEqual([...offered[0]!].sort(), ['b', 'c']);
    assert.equal(n.id, offered[0]!.at(-1), 'the custom strategy\'s pick was not returned');
    await rejectsWith(select(w.selector, 'greeter', { strategy: 'fastest' as 'random' }), 'INVALID_ARGUMENT');
  });

  run('a node-level failure ejects the node while others are healthy; answers and cancellations do not; it returns in time', three, async (w) => {
    // Application errors and cancellations mean the node answered (or nobody asked): never ejected.
    for (let i = 0; i < 10; i++) {
      await w.call('greeter', { error: new MeshError('BAD_REQUEST', 'no') });
      await w.call('greeter', { error: new MeshError('CANCELLED', 'caller gave up') });
    }
    assert.deepEqual([...(await w.picks('greeter'))].sort(), ['a', 'b', 'c']);
    await w.eject('greeter', 'a');
    assert.ok(!(await w.picks('greeter', 100)).has('a'), 'an ejected node was picked');
    for (let i = 0; i < 20; i++) {
      const next = await select(w.selector, 'greeter');
      const tried = [next(), next(), next()];
      for (const n of tried) w.selector.mark('greeter', n, { latencyMs: 1 });
      assert.ok(!tried.some((n) => n.id === 'a'), 'a retry went to the ejected node');
    }
    w.clock.advance(HOUR_MS); // past any ejection
    assert.ok((await w.picks('greeter', 100)).has('a'), 'the node never came back');
  });

  run('when every node is ejected, next() still returns one', three, async (w) => {
    await w.eject('greeter', 'a');
    await w.eject('greeter', 'b');
    for (let i = 0; i < 10; i++) await w.call('greeter', { error: refused() }); // c, the last one standing, then whichever is back soonest
    const n = (await select(w.selector, 'greeter'))();
    assert.ok(['a', 'b', 'c'].includes(n.id));
    w.selector.mark('greeter', n, { latencyMs: 1 });
  });

  run('reset forgets ejections, for one service or all; unknown services and nodes are ignored', [...three, svc('other', '1', [node('a'), node('b')])], async (w) => {
    await w.eject('greeter', 'a');
    await w.eject('other', 'a');
    w.selector.reset('greeter');
    assert.ok((await w.picks('greeter', 100)).has('a'));
    assert.ok(!(await w.picks('other', 100)).has('a'), 'reset of one service reset another');
    w.selector.reset();
    assert.ok((await w.picks('other', 100)).has('a'));
    w.selector.reset('never-selected');
    w.selector.mark('never-selected', node('a'), { error: refused() });
    w.selector.mark('greeter', node('ghost'), { error: refused() });
    assert.deepEqual([...(await w.picks('greeter'))].sort(), ['a', 'b', 'c']);
  });

  run('registry changes reach selects: new nodes are picked, removed ones no longer, a gone service is SERVICE_NOT_FOUND', three, async (w) => {
    await w.picks('greeter');
    await w.registry.register(svc('greeter', '1.0.0', [node('d')]));
    await eventually(async () => (await w.picks('greeter', 40)).has('d'), 'the new node');
    await w.registry.deregister(svc('greeter', '1.0.0', [node('a')]));
    await eventually(async () => !(await w.picks('greeter', 40)).has('a'), 'the removed node to go');
    assert.ok(!(await w.picks('greeter', 100)).has('a'), 'a removed node came back');
    await w.registry.deregister(svc('greeter', '1.0.0', [node('b'), node('c'), node('d')]));
    await eventually(() => select(w.selector, 'greeter').then(() => false, (e: unknown) => (e as MeshError).code === 'SERVICE_NOT_FOUND'), 'SERVICE_NOT_FOUND');
    await w.registry.register(svc('greeter', '2.0.0', [node('e')]));
    await eventually(() => select(w.selector, 'greeter').then((next) => next().id === 'e', () => false), 'the service back');
  });

  run('an aborted signal is CANCELLED; close releases watches, is idempotent, and later selects are NOT_RUNNING', three, async (w) => {
    await rejectsWith(select(w.selector, 'greeter', { signal: AbortSignal.abort() }), 'CANCELLED');
    await w.picks('greeter', 5);
    await rejectsWith(select(w.selector, 'nobody'), 'SERVICE_NOT_FOUND');
    w.selector.close();
    w.selector.close();
    assert.equal(w.registry.open, 0, 'a watch was left open');
    await rejectsWith(select(w.selector, 'greeter'), 'NOT_RUNNING');
  });
}
